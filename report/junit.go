// Package report renders regress results for people and CI tools: JUnit XML
// for test report readers, markdown for PR comments and job summaries, and
// plain text for terminals.
package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/gait-dev/gait/regress"
)

// JUnit writes one testsuite per fixture (file = its fixture.json, so report
// readers can link to it) and one testcase per grader. A failing grader gets
// a one-line message and the unified diff as the failure body; the ticket
// footer goes to system-out. Times are zero: the output depends only on the
// inputs.
func JUnit(w io.Writer, rep *regress.Report) error {
	suites := junit.Testsuites{Name: "gait.regress." + rep.FixtureSet, Time: "0"}
	for i, f := range rep.Fixtures {
		suite := junit.Testsuite{Name: f.Name, ID: i, Time: "0", File: f.FixtureFile, Package: "gait.regress." + rep.FixtureSet}
		for _, g := range f.Graders {
			tc := junit.Testcase{Name: g.Name, Classname: f.Name, Time: "0"}
			if g.Status != regress.StatusPass {
				tc.Failure = &junit.Result{Message: g.Message, Type: strings.Join(g.ReasonCodes, ","), Data: failureBody(g)}
				if f.TicketFooter != "" {
					tc.SystemOut = &junit.Output{Data: f.TicketFooter}
				}
			}
			suite.AddTestcase(tc)
		}
		if f.TicketFooter != "" {
			suite.SystemOut = &junit.Output{Data: f.TicketFooter}
		}
		suites.AddSuite(suite)
	}
	if _, err := io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"); err != nil {
		return err
	}
	return suites.WriteXML(w)
}

func failureBody(g regress.GraderResult) string {
	var b strings.Builder
	b.WriteString(g.Message)
	b.WriteByte('\n')
	if g.Step > 0 {
		fmt.Fprintf(&b, "first differing step: %d\n", g.Step)
	}
	if g.Diff != "" {
		b.WriteByte('\n')
		b.WriteString(g.Diff)
	}
	return b.String()
}
