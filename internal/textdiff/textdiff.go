// Package textdiff renders unified diffs of line lists, the one diff format
// Gait shows to people (run diff, failing regress graders, PR comments).
package textdiff

import (
	"strings"

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

func withNewlines(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimRight(l, "\n") + "\n"
	}
	return out
}
