package report

import (
	"fmt"
	"io"

	"github.com/gait-dev/gait/regress"
)

// Text writes key=value lines for scripts, one per failing grader, then
// the diffs of failing graders for people.
func Text(w io.Writer, rep *regress.Report) error {
	if _, err := fmt.Fprintf(w, "status=%s\nfixtures=%d\npassed=%d\nfailed=%d\n", rep.Status, rep.Total, rep.Passed, rep.Failed); err != nil {
		return err
	}
	for _, f := range rep.Fixtures {
		for _, g := range f.Failed() {
			fmt.Fprintf(w, "fail=%s/%s: %s\n", f.Name, g.Name, g.Message)
		}
	}
	for _, f := range rep.Fixtures {
		for _, g := range f.Failed() {
			if g.Diff != "" {
				fmt.Fprintf(w, "\n%s/%s (%s):\n%s", f.Name, g.Name, f.FixtureFile, g.Diff)
			}
		}
		if f.Status != regress.StatusPass && f.TicketFooter != "" {
			fmt.Fprintf(w, "ticket_footer=%s\n", f.TicketFooter)
		}
	}
	return nil
}
