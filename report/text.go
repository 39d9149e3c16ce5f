package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/gait-dev/gait/internal/textdiff"
	"github.com/gait-dev/gait/regress"
)

// Text writes key=value lines for scripts, one per failing grader, then
// the diffs of failing graders for people. Values that are not one plain
// line are Go-quoted and diff lines have their control characters escaped,
// so no value can add a line of its own.
func Text(w io.Writer, rep *regress.Report) error {
	if _, err := fmt.Fprintf(w, "status=%s\nfixtures=%d\npassed=%d\nfailed=%d\n", TextValue(rep.Status), rep.Total, rep.Passed, rep.Failed); err != nil {
		return err
	}
	for _, f := range rep.Fixtures {
		for _, g := range f.Failed() {
			fmt.Fprintf(w, "fail=%s\n", TextValue(f.Name+"/"+g.Name+": "+g.Message))
		}
	}
	for _, f := range rep.Fixtures {
		for _, g := range f.Failed() {
			if g.Diff != "" {
				fmt.Fprintf(w, "\n%s%s", visibleLines(textdiff.Visible(f.Name+"/"+g.Name+" ("+f.FixtureFile+"):")), visibleLines(g.Diff))
			}
		}
		if f.Status != regress.StatusPass && f.TicketFooter != "" {
			fmt.Fprintf(w, "ticket_footer=%s\n", TextValue(f.TicketFooter))
		}
	}
	return nil
}

// visibleLines escapes the control characters of each line of s, keeping
// its newlines, and the first colon of a line that would start a workflow
// command ("::", after white space); the result ends in a newline.
func visibleLines(s string) string {
	s = strings.TrimRight(s, "\n")
	var b strings.Builder
	changed := false
	for rest := s; ; {
		line, tail, more := strings.Cut(rest, "\n")
		v := inertLine(line)
		if v != line && !changed {
			changed = true
			b.Grow(len(s) + 64)
			b.WriteString(s[:len(s)-len(rest)])
		}
		if changed {
			b.WriteString(v)
			b.WriteByte('\n')
		}
		if !more {
			break
		}
		rest = tail
	}
	if !changed {
		return s + "\n"
	}
	return b.String()
}

// inertLine is line with its control characters escaped and, when it
// would start a workflow command, its first colon.
func inertLine(line string) string {
	l := textdiff.Visible(line)
	if rest := strings.TrimLeft(l, " \t"); strings.HasPrefix(rest, "::") {
		l = l[:len(l)-len(rest)] + `\x3a` + rest[1:]
	}
	return l
}
