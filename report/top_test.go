package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack/packtest"
	"github.com/gait-dev/gait/schemas"
)

// ownOutDir lays out gait-out/ in a fresh working directory: the demo
// runpack and the gate traces in testdata/gait-out (written by gait gate
// eval --trace-out on testdata/gate at the module root).
func ownOutDir(t *testing.T) {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("testdata", "gait-out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if err := os.Mkdir("gait-out", 0o755); err != nil {
		t.Fatal(err)
	}
	packtest.Write(t, filepath.Join("gait-out", "runpack_run_demo.zip"), nil)
	for _, name := range []string{"trace_delete.json", "trace_read.json", "trace_write.json"} {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("gait-out", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func topFor(t *testing.T, runs, traces string, limit int) *TopReport {
	t.Helper()
	r, tr, err := TopSources(runs, traces, "gait-out")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Top(TopOptions{Runs: r, Traces: tr, Limit: limit, ProducerVersion: "0.0.0-dev"})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// goldenAt compares against testdata/<TestName>.golden from the package
// directory while the test runs in a temporary one.
func goldenAt(t *testing.T, pkgDir string, got []byte) {
	t.Helper()
	wd, _ := os.Getwd()
	t.Chdir(pkgDir)
	golden(t, got)
	t.Chdir(wd)
}

// TestTop ranks a runpack and gate traces (--runs ./gait-out --traces
// ./gait-out --limit 5): the written file is the encoded report, validates
// against schemas/report/top_actions, and matches the golden file. (Byte
// identity with v1's report is checked by the conformance suite.)
func TestTop(t *testing.T) {
	pkgDir, _ := os.Getwd()
	ownOutDir(t)
	rep := topFor(t, "./gait-out", "./gait-out", 5)
	got, err := EncodeTop(rep)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteTop("gait-out/report_top_actions.json", rep); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile("gait-out/report_top_actions.json")
	if !bytes.Equal(again, got) {
		t.Errorf("written file differs from the encoded report")
	}
	if err := schemas.Validate("report/top_actions", got); err != nil {
		t.Error(err)
	}
	goldenAt(t, pkgDir, got)
}

// TestTopText is the table for every action of the runpack and traces.
func TestTopText(t *testing.T) {
	pkgDir, _ := os.Getwd()
	ownOutDir(t)
	var buf bytes.Buffer
	if err := TopText(&buf, topFor(t, "gait-out", "gait-out/trace_read.json,gait-out/trace_write.json,gait-out/trace_delete.json", 10)); err != nil {
		t.Fatal(err)
	}
	goldenAt(t, pkgDir, buf.Bytes())
}

// TestTopDeterministic: the order of the inputs does not change the bytes.
func TestTopDeterministic(t *testing.T) {
	ownOutDir(t)
	a, _ := EncodeTop(topFor(t, "run_demo", "gait-out/trace_read.json,gait-out/trace_write.json,gait-out/trace_delete.json", 10))
	b, _ := EncodeTop(topFor(t, "gait-out/runpack_run_demo.zip", "gait-out/trace_delete.json,gait-out/trace_write.json,gait-out/trace_read.json,gait-out/trace_read.json", 10))
	if !bytes.Equal(a, b) {
		t.Errorf("input order changed the report:\n%s\n%s", a, b)
	}
}

func TestToolClass(t *testing.T) {
	for name, want := range map[string]string{
		"tool.delete": ClassDestructive, "db.drop_table": ClassDestructive, "fs.rm_rf": ClassDestructive, "deleteFile": ClassDestructive,
		"tool.write": ClassWrite, "http.post": ClassWrite, "tool.send_email": ClassWrite, "payments.refund": ClassWrite,
		"tool.search": ClassRead, "tool.fetch": ClassRead, "getUser": ClassRead,
		"tool.summarize": ClassExecute, "shell.exec": ClassExecute, "": ClassExecute,
	} {
		if got := ToolClass(name); got != want {
			t.Errorf("ToolClass(%q) = %s, want %s", name, got, want)
		}
	}
}

// TestTopScoreOrder: class dominates everything else an action can add.
func TestTopScoreOrder(t *testing.T) {
	maxRead := score(ClassRead, 100, "block", 100)
	minExecute := score(ClassExecute, 1, "", 0)
	maxWrite := score(ClassWrite, 100, "block", 100)
	minDestructive := score(ClassDestructive, 1, "", 0)
	if maxRead >= minExecute || maxWrite >= minDestructive {
		t.Errorf("class does not dominate: read max %d, execute min %d, write max %d, destructive min %d", maxRead, minExecute, maxWrite, minDestructive)
	}
}

func TestTopBadInput(t *testing.T) {
	ownOutDir(t)
	if err := os.WriteFile("gait-out/trace_bad.json", []byte(`{"schema_id":"other"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func() error{
		"missing run": func() error { _, _, err := TopSources("run_nope", "", "gait-out"); return err },
		"missing trace": func() error {
			_, _, err := TopSources("", "gait-out/trace_nope.json", "gait-out")
			return err
		},
		"not a trace": func() error { _, err := Top(TopOptions{Traces: []string{"gait-out/trace_bad.json"}}); return err },
		"not a runpack": func() error {
			_, err := Top(TopOptions{Runs: []string{"gait-out/trace_read.json"}})
			return err
		},
		"nothing": func() error { _, err := Top(TopOptions{}); return err },
		"negative limit": func() error {
			_, err := Top(TopOptions{Runs: []string{"gait-out/runpack_run_demo.zip"}, Limit: -1})
			return err
		},
	}
	for name, f := range cases {
		if err := f(); exitcode.Of(err) != exitcode.InvalidInput {
			t.Errorf("%s: got %v (code %v), want invalid input", name, err, exitcode.Of(err))
		}
	}
}

// TestTopFixtures ranks the repository's own fixture runpacks, whose
// recorded arguments name targets (blast radius) and deletions.
func TestTopFixtures(t *testing.T) {
	runs, _, err := TopSources("../fixtures/run_demo/runpack.zip,../fixtures/support_refund/runpack.zip,../fixtures/workspace_cleanup/runpack.zip", "", "gait-out")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Top(TopOptions{Runs: runs, Limit: 20, ProducerVersion: "0.0.0-dev"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := TopText(&buf, rep); err != nil {
		t.Fatal(err)
	}
	golden(t, buf.Bytes())
}
