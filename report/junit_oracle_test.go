package report

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/gait-dev/gait/regress"
)

// oracleJUnit is JUnit built with the go-junit-report types and
// encoding/xml, which JUnit must match byte for byte.
func oracleJUnit(w io.Writer, rep *regress.Report) error {
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

// nastyStrings are values that exercise every escaping rule.
var nastyStrings = []string{
	"", "plain", `quote " and ' apostrophe`, "a & b < c > d", "tab\tnew\nline\rcr", "]]> cdata end ]]]]>",
	"ctl \x00\x01\x1f\x7f", "bad utf8 \xff\xfe", "é ü 漢字 \u2028 \u2029 \ufffe \U0001F600", "::warning::x", `\backslash`,
}

func randomReport(r *rand.Rand) *regress.Report {
	pick := func() string { return nastyStrings[r.IntN(len(nastyStrings))] }
	rep := &regress.Report{FixtureSet: pick(), Status: regress.StatusPass, CreatedAt: pick(), ProducerVersion: pick()}
	for i := range r.IntN(4) {
		f := regress.FixtureResult{Name: fmt.Sprintf("f%d%s", i, pick()), RunID: pick(), Status: regress.StatusPass, FixtureFile: pick(), TicketFooter: pick()}
		for j := range r.IntN(4) {
			g := regress.GraderResult{Name: fmt.Sprintf("g%d", j), Status: regress.StatusPass, ReasonCodes: []string{}, Set: regress.SetV1}
			if r.IntN(2) == 0 {
				g.Status, g.Message, g.Diff, g.Step = regress.StatusFail, pick(), pick(), r.IntN(3)
				g.ReasonCodes = []string{pick(), pick()}[:r.IntN(3)]
				f.Status, rep.Status = regress.StatusFail, regress.StatusFail
			}
			f.Graders = append(f.Graders, g)
		}
		rep.Fixtures = append(rep.Fixtures, f)
	}
	return rep
}

func TestJUnitMatchesEncodingXML(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		rep := randomReport(r)
		if i == 0 {
			rep = sample()
		}
		var got, want bytes.Buffer
		if err := JUnit(&got, rep); err != nil {
			t.Fatal(err)
		}
		if err := oracleJUnit(&want, rep); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("report %d: JUnit differs from encoding/xml:\ngot:\n%s\nwant:\n%s", i, got.Bytes(), want.Bytes())
		}
	}
}
