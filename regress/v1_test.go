package regress

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/pack/packtest"
)

func TestResultVerdict(t *testing.T) {
	tests := []struct {
		status, result, want string
	}{
		{"ok", `{}`, VerdictAllow},
		{" Pass", `{}`, VerdictAllow},
		{"SUCCESS", `{}`, VerdictAllow},
		{"passed", `{}`, VerdictAllow},
		{"allow", `{}`, VerdictError}, // a status is not a verdict name
		{"error", `{}`, VerdictError},
		{"weird", `{}`, VerdictError},
		{"", `{}`, VerdictError},
		{"blocked", `{}`, VerdictBlock},
		{"Denied", `{}`, VerdictBlock},
		{"deny", `{}`, VerdictBlock},
		{"dry-run", `{}`, VerdictDryRun},
		{"DRY_RUN", `{}`, VerdictDryRun},
		{"Dry Run", `{}`, VerdictError},
		{"simulated", `{}`, VerdictDryRun},
		{"needs_approval", `{}`, VerdictRequireApproval},
		{"needs-approval", `{}`, VerdictError},
		{"error", `{"verdict":"deny"}`, VerdictBlock},
		{"ok", `{"verdict":"error"}`, VerdictError},
		{"ok", `{"verdict":"Needs Approval"}`, VerdictRequireApproval},
		{"ok", `{"verdict":"Dry-Run"}`, VerdictDryRun},
		{"ok", `{"verdict":"bogus"}`, VerdictAllow},
		{"blocked", `{"verdict":""}`, VerdictBlock},
		{"ok", `{"verdict":7}`, VerdictAllow},
		{"ok", `{"Verdict":"block"}`, VerdictAllow},
		{"error", ``, VerdictError},
	}
	for _, tt := range tests {
		r := pack.Result{Status: tt.status, Result: json.RawMessage(tt.result)}
		if got := ResultVerdict(r); got != tt.want {
			t.Errorf("status %q result %s: %s, want %s", tt.status, tt.result, got, tt.want)
		}
	}
}

func TestNormalizeVerdict(t *testing.T) {
	for in, want := range map[string]string{
		"OK": VerdictAllow, "Allow": VerdictAllow, " passed ": VerdictAllow, "Deny": VerdictBlock, "BLOCKED": VerdictBlock,
		"approval-required": VerdictRequireApproval, "needs approval": VerdictRequireApproval, "Dry Run": VerdictDryRun,
		"dryrun": VerdictDryRun, "simulate": VerdictDryRun, " ERROR ": VerdictError,
	} {
		if got, ok := NormalizeVerdict(in); !ok || got != want {
			t.Errorf("NormalizeVerdict(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "bogus", "stubbed", "maybe"} {
		if _, ok := NormalizeVerdict(in); ok {
			t.Errorf("NormalizeVerdict(%q) accepted", in)
		}
	}
}

func TestStubKind(t *testing.T) {
	for tool, want := range map[string]string{
		"http.get": "http", "tool.fetch": "http", "curl": "http", "write.http": "http", "queue_url": "http",
		"tool.write": "file", "file.read": "file", "fs.read": "file", "tool.path": "file", "sql_file": "file", "path_queue": "file",
		"db.query": "db", "mysql": "db", "tool.table": "db", "tool.db": "db",
		"queue.push": "queue", "topic": "queue", "publish": "queue", "tool.kafka": "queue", "enqueue": "queue",
		"tool.search": "", "tool.database": "", "pubsub": "", "tool.s3": "", "read": "",
	} {
		if got := StubKind(tool); got != want {
			t.Errorf("StubKind(%q) = %q, want %q", tool, got, want)
		}
	}
}

// writeRun records a run into a fresh fixture repository and returns the
// config path.
func writeRun(t *testing.T, edit func(*pack.RunRecord)) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.zip")
	packtest.Write(t, src, edit)
	cfg := filepath.Join(dir, DefaultConfig)
	if _, err := Init(InitOptions{From: src, ConfigPath: cfg, OutDir: dir}); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Fixtures of ordinary runs pass: errored, blocked, aliased, out-of-order
// and missing results give the verdicts they recorded.
func TestOrdinaryRunsPass(t *testing.T) {
	tests := map[string]func(*pack.RunRecord){
		"errored tool": func(r *pack.RunRecord) { r.Results[1].Status = "error" },
		"blocked":      func(r *pack.RunRecord) { r.Results[0].Status = "blocked" },
		"aliased": func(r *pack.RunRecord) {
			r.Results[2].Result = json.RawMessage(`{"verdict":"deny"}`)
			r.Results[2].ResultDigest = ""
		},
		"out of order":            func(r *pack.RunRecord) { r.Results[0], r.Results[2] = r.Results[2], r.Results[0] },
		"stubbed missing result":  func(r *pack.RunRecord) { r.Results = r.Results[:1] }, // tool.fetch is stubbed; tool.summarize is not
		"upper-case run id":       func(r *pack.RunRecord) { r.Run.RunID = "Run_Upper" },
		"no results and no tools": func(r *pack.RunRecord) { r.Intents, r.Results = nil, nil },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := writeRun(t, edit)
			rep, err := Run(cfg, RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if name == "stubbed missing result" {
				want = 5 // tool.summarize has neither a result nor a stub: v1 fails it too
			}
			if rep.ExitCode() != want {
				t.Fatalf("exit %d, want %d: %+v", rep.ExitCode(), want, rep.Fixtures[0].Failed())
			}
		})
	}
}

func TestFixtureNameIsLowerCaseRunID(t *testing.T) {
	cfg := writeRun(t, func(r *pack.RunRecord) { r.Run.RunID = "Run_Upper" })
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "fixtures", "run_upper", FixtureFile)); err != nil {
		t.Fatal(err)
	}
}

// Anything that keeps a fixture from being graded is invalid input (6),
// never a regression (5).
func TestInvalidFixturesAreInvalidInput(t *testing.T) {
	edit := func(f func(m map[string]any)) func(dir string) error {
		return func(dir string) error {
			p := filepath.Join(dir, "fixtures", "run_demo", FixtureFile)
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				return err
			}
			f(m)
			data, _ = json.Marshal(m)
			return os.WriteFile(p, data, 0o644)
		}
	}
	write := func(rel, content string) func(dir string) error {
		return func(dir string) error { return os.WriteFile(filepath.Join(dir, rel), []byte(content), 0o644) }
	}
	tests := []struct {
		name, want string
		do         func(dir string) error
	}{
		{"missing fixture.json", "fixture.json is missing", func(dir string) error {
			return os.Remove(filepath.Join(dir, "fixtures", "run_demo", FixtureFile))
		}},
		{"malformed fixture.json", "malformed JSON", write("fixtures/run_demo/fixture.json", "{")},
		{"missing runpack", "is missing", func(dir string) error { return os.Remove(filepath.Join(dir, "fixtures", "run_demo", "runpack.zip")) }},
		{"not a zip", "unusable", write("fixtures/run_demo/runpack.zip", "hello")},
		{"unknown verdict", "not a verdict", edit(func(m map[string]any) { m["expected_verdict_sequence"] = []string{"maybe"} })},
		{"negative exit code", "0 or more", edit(func(m map[string]any) { m["expected_replay_exit_code"] = -1 })},
		{"unknown context conformance", "required or none", edit(func(m map[string]any) { m["context_conformance"] = "sometimes" })},
		{"name disagrees", "disagrees", edit(func(m map[string]any) { m["name"] = "other" })},
		{"run id disagrees", "disagrees", edit(func(m map[string]any) { m["run_id"] = "run_other" })},
		{"unknown fixture key", `unknown key "expected_tools"`, edit(func(m map[string]any) { m["expected_tools"] = []string{} })},
		{"unknown major", "unknown major version", edit(func(m map[string]any) { m["schema_version"] = "2.0.0" })},
		{"no fixtures", "no fixtures", write(DefaultConfig, `{"schema_id":"gait.regress.config","schema_version":"1.0.0","fixture_set":"default","fixtures":[]}`)},
		{"typo fixture:", `unknown key "fixture"`, write(DefaultConfig, "schema_id: gait.regress.config\nschema_version: 1.0.0\nfixture:\n  - name: run_demo\n")},
		{"unknown json key", `unknown key "fixture"`, write(DefaultConfig, `{"schema_id":"gait.regress.config","schema_version":"1.0.0","fixture":[]}`)},
		{"unknown entry key", `unknown key "runpak"`, write(DefaultConfig, "fixtures:\n  - name: run_demo\n    run_id: run_demo\n    runpak: x.zip\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := writeRun(t, nil)
			if err := tt.do(filepath.Dir(cfg)); err != nil {
				t.Fatal(err)
			}
			_, err := Run(cfg, RunOptions{})
			if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want exit 6 with %q", err, tt.want)
			}
		})
	}
}

// v1's fields are tolerated, without schema_id or schema_version too.
func TestV1FixtureFieldsTolerated(t *testing.T) {
	cfg := writeRun(t, nil)
	p := filepath.Join(filepath.Dir(cfg), "fixtures", "run_demo", FixtureFile)
	fixture := `{"name":"run_demo","run_id":"run_demo","runpack":"runpack.zip","expected_replay_exit_code":0,
"session_chain":"chain.json","checkpoint_index":2,"context_conformance":"none","allow_context_runtime_drift":true,
"diff_allow_changed_files":["run.json"]}`
	if err := os.WriteFile(p, []byte(fixture), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(cfg, RunOptions{})
	if err != nil || rep.ExitCode() != 0 {
		t.Fatalf("%v %+v", err, rep)
	}
	var traj GraderResult
	for _, g := range rep.Fixtures[0].Graders {
		if g.Name == GraderTrajectory {
			traj = g
		}
	}
	if strings.Join(traj.ReasonCodes, ",") != "trajectory_not_required" {
		t.Fatalf("trajectory %+v", traj)
	}
}

// A candidate that changed behaviour fails the diff and trajectory graders.
func TestCandidateRunpackIsGraded(t *testing.T) {
	cfg := writeRun(t, nil)
	dir := filepath.Join(filepath.Dir(cfg), "fixtures", "run_demo")
	packtest.Write(t, filepath.Join(dir, "candidate.zip"), func(r *pack.RunRecord) { r.Intents[1].ToolName = "tool.delete" })
	p := filepath.Join(dir, FixtureFile)
	f, err := LoadFixture(p)
	if err != nil {
		t.Fatal(err)
	}
	f.CandidateRunpack = "candidate.zip"
	data, _ := encodeIndented(f)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(cfg, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, g := range rep.Fixtures[0].Failed() {
		failed = append(failed, g.Name+":"+strings.Join(g.ReasonCodes, "+"))
	}
	if got := strings.Join(failed, ","); got != "diff:unexpected_diff,trajectory:unexpected_tool_sequence" || rep.TopFailureReason() != "unexpected_diff" {
		t.Fatalf("failed graders %s, top %s", got, rep.TopFailureReason())
	}
	// Allowing the changed file lets the diff pass; the trajectory still fails.
	f.DiffAllowChangedFiles = []string{"intents.jsonl"}
	data, _ = encodeIndented(f)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, _ = Run(cfg, RunOptions{})
	if v1, _, failedN := rep.GraderCounts(); failedN != 1 || v1 != 4 || rep.TopFailureReason() != "unexpected_tool_sequence" {
		t.Fatalf("graders %d failed %d top %s", v1, failedN, rep.TopFailureReason())
	}
}

// A config whose fixture paths only resolve from the working directory (v1's
// base) is graded, with a notice.
func TestFixturesFromWorkingDirectory(t *testing.T) {
	cfg := writeRun(t, nil)
	dir := filepath.Dir(cfg)
	if err := os.MkdirAll(filepath.Join(dir, "ci"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(cfg, filepath.Join(dir, "ci", DefaultConfig)); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	rep, err := Run(filepath.Join("ci", DefaultConfig), RunOptions{})
	if err != nil || rep.ExitCode() != 0 || len(rep.Notices) != 1 || !strings.Contains(rep.Notices[0], "working directory") {
		t.Fatalf("%v %+v", err, rep)
	}
}

func TestUnknownKeyHint(t *testing.T) {
	for key, want := range map[string]string{"fixture": `did you mean "fixtures"?`, "expected_tool_seqence": `did you mean "expected_tool_sequence"?`, "zzz": "remove it"} {
		if got := unknownKey(key, "").Error(); !strings.Contains(got, want) {
			t.Errorf("%s: %s", key, got)
		}
	}
}

// A Gait fixture that kept gate verdicts in expected_verdict_sequence (before
// expected_gate_verdicts) is graded by the policy grader, not read as the
// results' verdicts.
func TestOlderPolicyFixture(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.zip")
	packtest.Write(t, src, func(r *pack.RunRecord) { r.Intents[1].ToolName = "tool.delete"; r.Results[1].Status = "error" })
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte(testPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, DefaultConfig)
	if _, err := Init(InitOptions{From: src, Name: "incident", Policy: policy, ConfigPath: cfg, Evaluator: NewGateEvaluator()}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "fixtures", "incident", FixtureFile)
	f, err := LoadFixture(p)
	if err != nil {
		t.Fatal(err)
	}
	f.ExpectedVerdictSequence, f.ExpectedGateVerdicts = f.ExpectedGateVerdicts, nil // allow, block, allow
	data, _ := encodeIndented(f)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(cfg, RunOptions{Evaluator: NewGateEvaluator()})
	if err != nil || rep.ExitCode() != 0 || len(rep.Notices) != 1 {
		t.Fatalf("%v %+v", err, rep)
	}
}
