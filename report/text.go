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
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		l = textdiff.Visible(l)
		if rest := strings.TrimLeft(l, " \t"); strings.HasPrefix(rest, "::") {
			l = l[:len(l)-len(rest)] + `\x3a` + rest[1:]
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n") + "\n"
}
