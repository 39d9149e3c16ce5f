package regress

import (
	"fmt"
	"path/filepath"

	"github.com/gait-dev/gait/internal/textdiff"
)

// gradePolicy is Gait's policy re-evaluation: every recorded call of the
// candidate run gets, under the fixture's policy as it is now, the gate
// verdict the fixture pins in expected_gate_verdicts. It reads only gate
// verdicts, never the run's results, so a tool that errored is not a
// policy change. Fixtures without a policy pass with no_policy.
func gradePolicy(g *grading) GraderResult {
	f := g.fixture
	if f.Policy == "" {
		return pass(GraderPolicy, "no_policy")
	}
	if f.ExpectedGateVerdicts == nil {
		r := pass(GraderPolicy, "no_expectation")
		r.Message = "fixture names a policy but pins no expected_gate_verdicts; re-create it with `gait regress add --policy` to grade them"
		return r
	}
	actual, matched, err := g.gateVerdicts()
	if err != nil {
		return fail(GraderPolicy, "policy_unusable", err.Error())
	}
	exp := make([]string, len(f.ExpectedGateVerdicts))
	for i, v := range f.ExpectedGateVerdicts {
		exp[i], _ = NormalizeVerdict(v)
	}
	details := map[string]any{"policy": f.Policy, "expected": exp, "actual": actual, "matched_rules": matched}
	i := mismatch(exp, actual)
	if i < 0 {
		r := pass(GraderPolicy, "gate_verdicts_match")
		r.Details = details
		return r
	}
	msg := fmt.Sprintf("gate verdict differs at step %d: expected %s, got %s", i+1, at(exp, i), at(actual, i))
	if i < len(matched) {
		msg += fmt.Sprintf(" (tool %s, rule %q)", g.candidate.Intents[i].ToolName, matched[i])
	}
	r := fail(GraderPolicy, "gate_verdicts_mismatch", msg)
	r.Step = i + 1
	r.Diff = textdiff.Unified("expected gate verdicts (fixture.json)", "actual gate verdicts ("+f.Policy+")", numbered(exp), numbered(actual))
	r.Details = details
	return r
}

// gateVerdicts evaluates each call of the candidate run under the fixture's
// policy.
func (g *grading) gateVerdicts() (verdicts, matched []string, err error) {
	policyPath, err := g.policyPath()
	if err != nil {
		return nil, nil, err
	}
	if g.evaluator == nil {
		return nil, nil, fmt.Errorf("fixture names policy %s but no policy evaluator is configured", g.fixture.Policy)
	}
	calls := make([]ToolCall, len(g.candidate.Intents))
	for i, in := range g.candidate.Intents {
		calls[i] = ToolCall{ToolName: in.ToolName, Args: in.Args}
	}
	out, err := g.evaluator.Evaluate(policyPath, calls)
	if err != nil {
		return nil, nil, err
	}
	verdicts, matched = []string{}, []string{}
	for _, v := range out {
		verdicts = append(verdicts, v.Verdict)
		matched = append(matched, v.MatchedRule)
	}
	return verdicts, matched, nil
}

// policyPath resolves the fixture's policy, relative to its folder, and
// refuses one outside the config's directory.
func (g *grading) policyPath() (string, error) {
	dir := filepath.Dir(filepath.Join(g.configDir, filepath.FromSlash(g.ref.Runpack)))
	p := filepath.Join(dir, filepath.FromSlash(g.fixture.Policy))
	rel, err := filepath.Rel(g.configDir, p)
	if err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("policy %s is outside the repository", g.fixture.Policy)
	}
	return p, nil
}
