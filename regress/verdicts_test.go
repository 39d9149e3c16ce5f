package regress

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/pack/packtest"
)

const testPolicy = `schema_id: gait.gate.policy
schema_version: 1.0.0
default_verdict: allow
rules:
  - name: block-delete
    priority: 10
    effect: block
    match:
      tool_names: [tool.delete]
    reason_codes: [destructive_tool_blocked]
`

// A policy change that would re-allow an incident's blocked call fails CI.
func TestVerdictsGraderCatchesPolicyChange(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.zip")
	packtest.Write(t, src, func(r *pack.RunRecord) { r.Intents[1].ToolName = "tool.delete" })
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte(testPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, DefaultConfig)
	ev := NewGateEvaluator()
	if _, err := Init(InitOptions{From: src, Name: "incident", Policy: policy, ConfigPath: cfg, Evaluator: ev}); err != nil {
		t.Fatal(err)
	}
	f, err := LoadFixture(filepath.Join(dir, "fixtures", "incident", FixtureFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.ExpectedGateVerdicts, ","); got != "allow,block,allow" || f.Policy != "../../policy.yaml" {
		t.Fatalf("fixture verdicts %s policy %s", got, f.Policy)
	}
	rep, err := Run(cfg, RunOptions{Evaluator: NewGateEvaluator()})
	if err != nil || rep.Failed != 0 {
		t.Fatalf("unchanged policy: %v %+v", err, rep)
	}
	// Someone loosens the policy: the delete is allowed again.
	if err := os.WriteFile(policy, []byte(strings.Replace(testPolicy, "effect: block", "effect: allow", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err = Run(cfg, RunOptions{Evaluator: NewGateEvaluator()})
	if err != nil {
		t.Fatal(err)
	}
	g := rep.Fixtures[0].Graders[len(rep.Fixtures[0].Graders)-1]
	if rep.ExitCode() != 5 || g.Name != GraderPolicy || g.Status != StatusFail || g.Step != 2 ||
		!strings.Contains(g.Message, `rule "block-delete"`) || !strings.Contains(g.Diff, "+2. allow") {
		t.Fatalf("%+v", g)
	}
}

func TestPolicyOutsideRepoRefused(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.zip")
	packtest.Write(t, src, nil)
	outside := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(outside, []byte(testPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Init(InitOptions{From: src, Policy: outside, ConfigPath: filepath.Join(dir, DefaultConfig), Evaluator: NewGateEvaluator()})
	if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("err = %v", err)
	}
}
