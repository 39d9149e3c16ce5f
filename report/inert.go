package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gait-dev/gait/internal/textdiff"
)

// Everything a pull request controls (fixture names, tool names, expected
// values, diffs, run ids, messages) is rendered inert: in markdown as code
// spans and fenced blocks, where GitHub renders no heading, link, image,
// mention, autolink or HTML; in text with control characters escaped so
// that a value stays on its own line and cannot start a workflow command.

// Caps on one value in markdown, so that a hostile value cannot crowd out
// the rest of a comment.
const (
	maxNameBytes    = 256
	maxMessageBytes = 1024
	maxListed       = 20 // names listed in "since the previous run"
)

// TextValue is v as the value of a key=value line: as it is when it is
// one plain line, else Go-quoted ("a\nb"), so that no value adds a line.
func TextValue(v string) string {
	if textdiff.NeedsEscape(v) || strings.HasPrefix(v, `"`) {
		return strconv.Quote(v)
	}
	return v
}

// Code is s as an inert inline code span (at most 256 bytes of it), for
// a caller's markdown notes that name a value such as a path.
func Code(s string) string {
	return code(s, maxNameBytes)
}

// word is s as it is when it is a plain lower-case word (pass, fail), else
// a code span.
func word(s string) string {
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return code(s, maxNameBytes)
		}
	}
	if s == "" {
		return code(s, 0)
	}
	return s
}

// code renders s as an inline code span, cut to limit bytes: one line,
// delimited by a backtick run longer than any in s.
func code(s string, limit int) string {
	s = textdiff.Visible(s)
	if limit > 0 && len(s) > limit {
		s = truncateBytes(s, limit) + "…"
	}
	if s == "" {
		return "` `"
	}
	delim := strings.Repeat("`", longestRun(s, '`')+1)
	if s[0] == '`' || s[len(s)-1] == '`' || (s[0] == ' ' && s[len(s)-1] == ' ') {
		s = " " + s + " "
	}
	return delim + s + delim
}

// cell is code for a table cell: pipes are escaped for the table, which
// GitHub unescapes inside code spans too.
func cell(s string, limit int) string {
	return strings.ReplaceAll(code(s, limit), "|", `\|`)
}

// fenced renders content as a fenced code block whose fence is longer than
// any backtick run in it, so nothing in it can close the block. Control
// characters but newlines are escaped.
func fenced(info, content string) string {
	body := visibleLines(content)
	fence := strings.Repeat("`", max(3, longestRun(body, '`')+1))
	return fence + info + "\n" + body + fence + "\n"
}

// linkTarget percent-encodes what could end or confuse a markdown link
// destination. Only http(s) URLs and relative paths are linked.
func linkTarget(u string) (string, bool) {
	lower := strings.ToLower(u)
	scheme, _, hasColon := strings.Cut(u, ":")
	if u == "" || (hasColon && !strings.Contains(scheme, "/") &&
		!strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "http://")) {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c > ' ' && c < 0x7f && !strings.ContainsRune("()<>\\\"`[]{}|^ '", rune(c)) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String(), true
}

// longestRun returns the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}
