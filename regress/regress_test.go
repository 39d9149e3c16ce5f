package regress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/pack/packtest"
)

// newRepo makes a config with one demo fixture per name and returns its path.
func newRepo(t testing.TB, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.zip")
	packtest.Write(t, src, nil)
	cfg := filepath.Join(dir, DefaultConfig)
	for _, n := range names {
		if _, err := Init(InitOptions{From: src, Name: n, ConfigPath: cfg, OutDir: dir}); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

// TestBootstrappedFixturePasses: a fixture made from a runpack passes.
// (v1's regress folder is run by the conformance suite.)
func TestBootstrappedFixturePasses(t *testing.T) {
	rep, err := Run(newRepo(t, "run_demo"), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != StatusPass || rep.Passed != 1 || rep.ExitCode() != 0 {
		t.Fatalf("%+v", rep)
	}
}

func TestDriftFailsWithDiff(t *testing.T) {
	tests := []struct {
		name, grader, wantDiff string
		step                   int
		edit                   func(*pack.RunRecord)
	}{
		{"tool swapped", GraderTrajectory, "+2. tool.delete", 2, func(r *pack.RunRecord) { r.Intents[1].ToolName = "tool.delete" }},
		{"result changed", GraderResults, "+3. ok sha256:", 3, func(r *pack.RunRecord) {
			r.Results[2].Result = json.RawMessage(`{"message":"different","ok":true}`)
		}},
		{"result missing", GraderExitCode, "+exit_code: 2", 0, func(r *pack.RunRecord) { r.Results = r.Results[:2] }},
		{"extra call", GraderTrajectory, "+4. tool.refund", 4, func(r *pack.RunRecord) {
			r.Intents = append(r.Intents, pack.Intent{IntentID: "intent_4", ToolName: "tool.refund", Args: json.RawMessage(`{"amount":10}`)})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := newRepo(t, "demo")
			packtest.Write(t, filepath.Join(filepath.Dir(cfg), "fixtures", "demo", "runpack.zip"), tt.edit)
			rep, err := Run(cfg, RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.ExitCode() != 5 || rep.Failed != 1 {
				t.Fatalf("exit %d, %+v", rep.ExitCode(), rep)
			}
			var g *GraderResult
			for i := range rep.Fixtures[0].Graders {
				if rep.Fixtures[0].Graders[i].Name == tt.grader {
					g = &rep.Fixtures[0].Graders[i]
				}
			}
			if g == nil || g.Status != StatusFail {
				t.Fatalf("grader %s did not fail: %+v", tt.grader, rep.Fixtures[0].Graders)
			}
			if g.Step != tt.step || !strings.Contains(g.Diff, tt.wantDiff) || g.Message == "" || strings.Contains(g.Message, "\n") {
				t.Fatalf("step %d msg %q diff:\n%s", g.Step, g.Message, g.Diff)
			}
		})
	}
}

// A broken runpack is invalid input (exit 6), never a regression (exit 5).
func TestCorruptRunpackIsInvalidInput(t *testing.T) {
	cfg := newRepo(t, "good", "bad")
	p := filepath.Join(filepath.Dir(cfg), "fixtures", "bad", "runpack.zip")
	data, _ := os.ReadFile(p)
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(cfg, RunOptions{})
	if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), `fixture "bad"`) {
		t.Fatalf("err = %v, want exit 6 naming the fixture", err)
	}
}

func TestBadConfig(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"malformed yaml", "fixtures: [\n", "malformed config"},
		{"wrong schema", `{"schema_id":"x","schema_version":"1.0.0","fixtures":[]}`, "schema_id"},
		{"major version", `{"schema_id":"gait.regress.config","schema_version":"2.0.0","fixtures":[]}`, "unknown major version"},
		{"duplicate", `{"schema_id":"gait.regress.config","schema_version":"1.0.0","fixtures":[{"name":"a","runpack":"fixtures/a/runpack.zip"},{"name":"a","runpack":"fixtures/a/runpack.zip"}]}`, "appears twice"},
		{"escape", `{"schema_id":"gait.regress.config","schema_version":"1.0.0","fixtures":[{"name":"a","runpack":"../../etc/runpack.zip"}]}`, "escapes the config directory"},
		{"missing folder", `{"schema_id":"gait.regress.config","schema_version":"1.0.0","fixtures":[{"name":"a","runpack":"fixtures/a/runpack.zip"}]}`, "does not exist"},
		{"yaml form", "schema_id: gait.regress.config\nschema_version: 1.0.0\nfixtures:\n  - name: a\n    runpack: /abs/runpack.zip\n", "escapes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "gait.yaml")
			if err := os.WriteFile(p, []byte(tt.config), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Run(p, RunOptions{})
			if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want exit 6 with %q", err, tt.want)
			}
		})
	}
	if _, err := Run(filepath.Join(t.TempDir(), "none.yaml"), RunOptions{}); exitcode.Of(err) != exitcode.InvalidInput {
		t.Fatalf("missing config: %v", err)
	}
	cfg := newRepo(t, "a")
	if _, err := Run(cfg, RunOptions{Fixtures: []string{"nope"}}); exitcode.Of(err) != exitcode.InvalidInput {
		t.Fatalf("unknown fixture: %v", err)
	}
}

func TestInitIsIdempotentAndReplaces(t *testing.T) {
	cfg := newRepo(t, "demo")
	before, _ := os.ReadFile(cfg)
	src := filepath.Join(filepath.Dir(cfg), "src.zip")
	res, err := Init(InitOptions{From: src, Name: "demo", ConfigPath: cfg})
	if err != nil || res.Changed {
		t.Fatalf("re-add: %+v %v", res, err)
	}
	after, _ := os.ReadFile(cfg)
	if !bytes.Equal(before, after) {
		t.Fatal("config changed on re-add")
	}
	other := filepath.Join(filepath.Dir(cfg), "other.zip")
	packtest.Write(t, other, func(r *pack.RunRecord) { r.Intents[0].ToolName = "tool.other" })
	if res, err := Init(InitOptions{From: other, Name: "demo", ConfigPath: cfg}); err != nil || !res.Replaced || !res.Changed {
		t.Fatalf("a different runpack under the same name replaces the fixture: %+v %v", res, err)
	}
	if _, err := Init(InitOptions{From: filepath.Join(filepath.Dir(cfg), "missing.zip"), ConfigPath: cfg}); exitcode.Of(err) != exitcode.InvalidInput {
		t.Fatalf("missing source: %v", err)
	}
}

// Output is the same whatever the parallelism.
func TestDeterministicAcrossParallel(t *testing.T) {
	names := make([]string, 12)
	for i := range names {
		names[i] = fmt.Sprintf("f%02d", i)
	}
	cfg := newRepo(t, names...)
	packtest.Write(t, filepath.Join(filepath.Dir(cfg), "fixtures", "f03", "runpack.zip"), func(r *pack.RunRecord) { r.Intents[0].ToolName = "tool.x" })
	var first []byte
	for _, p := range []int{1, 2, 8} {
		rep, err := Run(cfg, RunOptions{Parallel: p})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(struct {
			R *Report
			D ResultDocument
		}{rep, rep.Document()})
		if first == nil {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Fatalf("parallel %d changed the output", p)
		}
	}
}
