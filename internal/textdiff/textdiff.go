// Package textdiff renders unified diffs of line lists, the one diff format
// Gait shows to people (run diff, failing regress graders, PR comments).
package textdiff

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pmezard/go-difflib/difflib"
)

// Unified returns a unified diff of want → got with three lines of context,
// or "" when they are equal. Lines must not end in newlines.
func Unified(fromName, toName string, want, got []string) string {
	if slicesEqual(want, got) {
		return ""
	}
	text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        withNewlines(want),
		B:        withNewlines(got),
		FromFile: fromName,
		ToFile:   toName,
		Context:  3,
	})
	if err != nil {
		// difflib only fails on writer errors, which a string builder never returns.
		return ""
	}
	return text
}

// FirstDifference returns the 0-based index of the first differing line,
// or -1 when equal.
func FirstDifference(a, b []string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return n
	}
	return -1
}

func slicesEqual(a, b []string) bool { return FirstDifference(a, b) == -1 }

// withNewlines ends each line in one newline; a line's own control
// characters (a newline in a tool name) are escaped, so each line of the
// diff is one line of the input.
func withNewlines(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = Visible(strings.TrimRight(l, "\n")) + "\n"
	}
	return out
}

// Visible returns s with control characters, line and paragraph
// separators and bidirectional overrides written as Go escapes (\n, \r,
// \t, \x1b, \u202e) and invalid UTF-8 replaced, so that s is one line and
// reads as it is.
func Visible(s string) string {
	if !NeedsEscape(s) {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if !escaped(r) {
			b.WriteRune(r)
			continue
		}
		switch r {
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		}
	}
	return b.String()
}

// NeedsEscape reports whether Visible changes s.
func NeedsEscape(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if escaped(r) {
			return true
		}
	}
	return false
}

// escaped reports whether r is written as an escape: C0 and C1 controls,
// DEL, U+2028/U+2029 and the bidirectional embedding, override and isolate
// characters.
func escaped(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case r == 0x2028, r == 0x2029, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
