package conformance_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gait-dev/gait/report"
)

// TestReportTopMatchesCorpus ranks v1's demo runpack and gate traces as v1's
// report was made (--runs ./gait-out --traces ./gait-out --limit 5) and gets
// the same bytes.
func TestReportTopMatchesCorpus(t *testing.T) {
	want, err := os.ReadFile(need(t, "conformance/gait-v1/artifacts/report_top_actions.json"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"runpack_run_demo.zip": "runpack_run_demo.zip",
		"trace_delete.json":    "gate/trace_delete.json",
		"trace_read.json":      "gate/trace_read.json",
		"trace_write.json":     "gate/trace_write.json",
	}
	srcs := map[string]string{}
	for dst, from := range files {
		srcs[dst] = need(t, "conformance/gait-v1/artifacts/"+from)
	}
	t.Chdir(t.TempDir())
	if err := os.Mkdir("gait-out", 0o755); err != nil {
		t.Fatal(err)
	}
	for dst, src := range srcs {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("gait-out", dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runs, traces, err := report.TopSources("./gait-out", "./gait-out", "gait-out")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := report.Top(report.TopOptions{Runs: runs, Traces: traces, Limit: 5, ProducerVersion: "0.0.0-dev"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := report.EncodeTop(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("report differs from the corpus report:\ngot  %s\nwant %s", got, want)
	}
}

// TestJUnitValidatesAgainstXSD: the JUnit Gait writes for a passing and a
// failing regress run validates against the JUnit 10 XSD (xmllint).
func TestJUnitValidatesAgainstXSD(t *testing.T) {
	xsd := need(t, "conformance/junit/junit-10.xsd")
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint not found: the JUnit XSD check needs it (apt-get install libxml2-utils; .ci/run installs it)")
	}
	dir := t.TempDir()
	gait := func(args ...string) {
		t.Helper()
		cmd := exec.Command(gaitBin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 0 && code != 5 {
			t.Fatalf("gait %v: %v\n%s", args, err, out)
		}
	}
	gait("demo")
	gait("regress", "bootstrap", "--from", "run_demo", "--junit", "pass.xml")
	gait("run", "record", "--input", filepath.Join(repoRoot(t), "testdata", "runs", "support_refund.json"))
	// The demo fixture now replays another run: it regresses (exit 5).
	data, err := os.ReadFile(filepath.Join(dir, "gait-out", "runpack_run_support_refund.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fixtures", "run_demo", "runpack.zip"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	gait("regress", "run", "--junit", "fail.xml")
	if b, err := os.ReadFile(filepath.Join(dir, "fail.xml")); err != nil || !bytes.Contains(b, []byte("<failure")) {
		t.Fatalf("fail.xml has no failure: %v\n%s", err, b)
	}
	for _, f := range []string{"pass.xml", "fail.xml"} {
		if out, err := exec.Command(xmllint, "--noout", "--schema", xsd, filepath.Join(dir, f)).CombinedOutput(); err != nil {
			t.Errorf("%s does not validate against junit-10.xsd: %v\n%s", f, err, out)
		}
	}
}

func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
