package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/regress"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", t.Name()+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from %s (rerun with -update if intended):\n%s", path, got)
	}
}

const footer = `GAIT run_id=run_demo manifest=sha256:9c5e26434c6bf03937ef7260c9e9cd9ea89da7b0d2ff36add83101929ee00c04 verify="gait verify fixtures/refund/runpack.zip"`

func sample() *regress.Report {
	passGraders := func() []regress.GraderResult {
		var out []regress.GraderResult
		for _, n := range []string{"schema", "integrity", "trajectory", "results", "exit_code", "verdicts"} {
			out = append(out, regress.GraderResult{Name: n, Status: regress.StatusPass, ReasonCodes: []string{}})
		}
		return out
	}
	failing := passGraders()
	failing[2] = regress.GraderResult{
		Name: "trajectory", Status: regress.StatusFail, Step: 2, ReasonCodes: []string{"trajectory_mismatch"},
		Message: "tool sequence differs at step 2: expected tool.fetch, got tool.refund <&>",
		Diff:    "--- expected (fixture.json)\n+++ actual (runpack.zip)\n@@ -1,2 +1,2 @@\n 1. tool.search\n-2. tool.fetch\n+2. tool.refund\n",
	}
	return &regress.Report{
		FixtureSet: "default", Config: "gait.yaml", Status: regress.StatusFail, Total: 2, Passed: 1, Failed: 1,
		Fixtures: []regress.FixtureResult{
			{Name: "demo", RunID: "run_demo", Status: regress.StatusPass, FixtureFile: "fixtures/demo/fixture.json", Runpack: "fixtures/demo/runpack.zip", Graders: passGraders()},
			{Name: "refund", RunID: "run_demo", Status: regress.StatusFail, FixtureFile: "fixtures/refund/fixture.json", Runpack: "fixtures/refund/runpack.zip", TicketFooter: footer, Graders: failing},
		},
	}
}

func TestJUnit(t *testing.T) {
	var buf bytes.Buffer
	if err := JUnit(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	golden(t, buf.Bytes())
	// Well-formed XML; validation against the JUnit XSD runs in the
	// conformance suite.
	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	for {
		if _, err := dec.Token(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("JUnit is not well-formed XML: %v", err)
		}
	}
}

func TestMarkdown(t *testing.T) {
	golden(t, []byte(Markdown(sample(), MarkdownOptions{Marker: "<!-- gait-regress -->", Changes: &Changes{NewlyFailing: []string{"refund"}}})))
}

func TestMarkdownAllPass(t *testing.T) {
	rep := sample()
	rep.Fixtures = rep.Fixtures[:1]
	rep.Status, rep.Total, rep.Failed = regress.StatusPass, 1, 0
	golden(t, []byte(Markdown(rep, MarkdownOptions{})))
}

func TestText(t *testing.T) {
	var buf bytes.Buffer
	if err := Text(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	golden(t, buf.Bytes())
}

// A huge report is cut to the limit, diffs first, and stays valid UTF-8.
func TestMarkdownLimit(t *testing.T) {
	rep := sample()
	base := rep.Fixtures[1]
	base.Graders[2].Diff = strings.Repeat("+ line with ünïcode\n", 20000)
	rep.Fixtures = nil
	for i := 0; i < 300; i++ {
		f := base
		f.Name = "fixture_" + strings.Repeat("x", i%7) + string(rune('a'+i%26))
		rep.Fixtures = append(rep.Fixtures, f)
	}
	rep.Failed, rep.Total = 300, 300
	for _, limit := range []int{65536, 20000, 3000} {
		out := Markdown(rep, MarkdownOptions{MaxBytes: limit, TruncationNote: "full diff in the job summary"})
		if len(out) > limit {
			t.Fatalf("limit %d: got %d bytes", limit, len(out))
		}
		if !strings.Contains(out, "Gait regress: fail") {
			t.Fatalf("limit %d: header lost", limit)
		}
		if !utf8Valid(out) {
			t.Fatal("cut inside a rune")
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
