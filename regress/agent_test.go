package regress

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
)

var scripted struct {
	once sync.Once
	path string
	err  error
}

// scriptedAgent builds examples/agents/scripted once per test binary.
func scriptedAgent(t *testing.T) string {
	t.Helper()
	scripted.once.Do(func() {
		dir, err := os.MkdirTemp("", "gait-regress-agent") //nolint:usetesting // one build shared by every test in the binary
		if err != nil {
			scripted.err = err
			return
		}
		scripted.path = filepath.Join(dir, "scripted")
		if out, err := exec.Command("go", "build", "-o", scripted.path, "../examples/agents/scripted").CombinedOutput(); err != nil {
			scripted.err = errors.New("go build examples/agents/scripted: " + string(out))
		}
	})
	if scripted.err != nil {
		t.Fatal(scripted.err)
	}
	return scripted.path
}

// agentRepo writes a repository with fixtures named after names, each a
// recorded lookup_order + refund run, and a gait.yaml with the agent block.
func agentRepo(t *testing.T, agentYAML string, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	rec := &pack.RunRecord{
		Run: pack.Run{RunID: "run_agent", CreatedAt: "2026-03-01T10:00:00Z", ProducerVersion: "test",
			Env: json.RawMessage(`{"arch":"x","os":"x","runtime":"go"}`), Timeline: json.RawMessage(`[]`)},
		Intents: []pack.Intent{
			{IntentID: "intent_1", ToolName: "lookup_order", Args: json.RawMessage(`{"order_id":"A1"}`)},
			{IntentID: "intent_2", ToolName: "refund", Args: json.RawMessage(`{"order_id":"A1","amount":42.5}`)},
		},
		Results: []pack.Result{
			{IntentID: "intent_1", Status: "ok", Result: json.RawMessage(`{"content":[{"type":"text","text":"delivered"}]}`)},
			{IntentID: "intent_2", Status: "ok", Result: json.RawMessage(`{"content":[{"type":"text","text":"refunded"}]}`)},
		},
	}
	rp, err := pack.Build(rec, pack.RecordOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "src.zip")
	if err := rp.WriteFile(src); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, DefaultConfig)
	for _, n := range names {
		if _, err := Init(InitOptions{From: src, Name: n, ConfigPath: cfg, Evaluator: NewGateEvaluator()}); err != nil {
			t.Fatal(err)
		}
	}
	loaded, err := LoadConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("schema_id: gait.regress.config\nschema_version: 1.0.0\nfixture_set: default\nfixtures:\n")
	for _, f := range loaded.Fixtures {
		b.WriteString("  - {name: " + f.Name + ", run_id: " + f.RunID + ", runpack: " + f.Runpack + "}\n")
	}
	b.WriteString(agentYAML)
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func writeScripts(t *testing.T, dir string, scripts map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	for name, s := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

const (
	goodScript  = `[{"tool":"lookup_order","args":{"order_id":"A1"}},{"tool":"refund","args":{"order_id":"A1","amount":42.5}}]`
	crashScript = `[{"tool":"lookup_order","args":{"order_id":"A1"}},{"exit":7}]`
)

func grader(f FixtureResult, name string) GraderResult {
	for _, g := range f.Graders {
		if g.Name == name {
			return g
		}
	}
	return GraderResult{}
}

func TestAgentBlockCrashFailsOnlyItsFixture(t *testing.T) {
	agent := scriptedAgent(t)
	cfg := agentRepo(t, "agent:\n  command: "+agent+"\n  args: [scripts]\n  transport: stdio\n  timeout: 20s\n", "crashes", "passes")
	writeScripts(t, filepath.Join(filepath.Dir(cfg), "scripts"), map[string]string{"passes": goodScript, "crashes": crashScript})
	rep, err := RunWithAgent(cfg, RunOptions{Evaluator: NewGateEvaluator()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed != 1 || rep.Failed != 1 || rep.ExitCode() != 5 {
		t.Fatalf("passed %d failed %d", rep.Passed, rep.Failed)
	}
	crash := rep.Fixtures[0]
	if g := grader(crash, GraderAgentRun); g.Status != StatusFail || !strings.Contains(g.Message, "agent exited 7") {
		t.Fatalf("crash: %+v", g)
	}
	if g := grader(crash, GraderAgentUnused); g.Status != StatusFail || g.Step != 2 {
		t.Fatalf("unused: %+v", g)
	}
	if rep.Fixtures[1].Status != StatusPass {
		t.Fatalf("passing fixture: %+v", rep.Fixtures[1].Failed())
	}
}

func TestAgentTrajectoryModes(t *testing.T) {
	agent := scriptedAgent(t)
	onlyRefund := `[{"tool":"refund","args":{"order_id":"A1","amount":42.5}}]`
	swapped := `[{"tool":"refund","args":{"order_id":"A1","amount":42.5}},{"tool":"lookup_order","args":{"order_id":"A1"}}]`
	cases := []struct {
		mode, script string
		pass         bool
	}{
		{"exact", goodScript, true},
		{"exact", swapped, false},
		{"unordered", swapped, true},
		{"subset", onlyRefund, true},
		{"subset", swapped, false},
		{"exact", onlyRefund, false},
	}
	for _, c := range cases {
		cfg := agentRepo(t, "agent:\n  command: "+agent+"\n  args: [scripts]\n  trajectory: "+c.mode+"\n", "f")
		writeScripts(t, filepath.Join(filepath.Dir(cfg), "scripts"), map[string]string{"f": c.script})
		rep, err := RunWithAgent(cfg, RunOptions{Evaluator: NewGateEvaluator()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := rep.Failed == 0; got != c.pass {
			t.Errorf("%s with %s: pass=%v, want %v: %+v", c.mode, c.script, got, c.pass, rep.Fixtures[0].Failed())
		}
	}
}

func TestAgentMatchIgnoreArgs(t *testing.T) {
	agent := scriptedAgent(t)
	script := `[{"tool":"lookup_order","args":{"order_id":"A1","request_id":"r-77"}},{"tool":"refund","args":{"order_id":"A1","amount":42.5}}]`
	for _, c := range []struct {
		match string
		pass  bool
	}{{"exact", false}, {"ignore-args:$.request_id", true}, {"tool-name", true}} {
		cfg := agentRepo(t, "agent:\n  command: "+agent+"\n  args: [scripts]\n  match: "+c.match+"\n", "f")
		writeScripts(t, filepath.Join(filepath.Dir(cfg), "scripts"), map[string]string{"f": script})
		rep, err := RunWithAgent(cfg, RunOptions{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := rep.Failed == 0; got != c.pass {
			t.Errorf("match %s: pass=%v, want %v: %+v", c.match, got, c.pass, rep.Fixtures[0].Failed())
		}
	}
}

func TestAgentConfigErrorsAreBadInput(t *testing.T) {
	for _, block := range []string{
		"agent:\n  command: ''\n",
		"agent:\n  command: x\n  transport: pigeon\n",
		"agent:\n  command: x\n  timeout: soon\n",
		"agent:\n  command: x\n  match: fuzzy\n",
		"agent:\n  command: x\n  trajectory: sideways\n",
	} {
		cfg := agentRepo(t, block, "f")
		_, err := RunWithAgent(cfg, RunOptions{}, nil)
		if exitcode.Of(err) != exitcode.InvalidInput {
			t.Errorf("%q: err %v, want invalid input", block, err)
		}
	}
}

func TestAgentCommandMissing(t *testing.T) {
	cfg := agentRepo(t, "", "f")
	rep, err := RunWithAgent(cfg, RunOptions{}, &AgentConfig{Command: filepath.Join(t.TempDir(), "no-such-agent")})
	if err != nil {
		t.Fatal(err)
	}
	if g := grader(rep.Fixtures[0], GraderAgentRun); g.Status != StatusFail || !strings.Contains(g.Message, "could not start") {
		t.Fatalf("%+v", g)
	}
}
