package regress

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gait-dev/gait/internal/textdiff"
	"github.com/gait-dev/gait/pack"
)

// ToolCall is a recorded tool call handed to a policy evaluator.
type ToolCall struct {
	ToolName string
	Args     json.RawMessage
}

// Verdict is a policy's decision on one tool call.
type Verdict struct {
	Verdict     string
	MatchedRule string
	ReasonCodes []string
}

// PolicyEvaluator re-evaluates recorded tool calls under a policy file.
type PolicyEvaluator interface {
	Evaluate(policyPath string, calls []ToolCall) ([]Verdict, error)
}

// grading is the state shared by one fixture's graders.
type grading struct {
	configDir   string
	ref         FixtureRef
	fixture     *Fixture
	fixtureErr  error
	runpackPath string
	rp          *pack.Runpack
	openErr     error
	replay      pack.ReplayResult
	evaluator   PolicyEvaluator
}

func pass(name string, codes ...string) GraderResult {
	if codes == nil {
		codes = []string{}
	}
	return GraderResult{Name: name, Status: StatusPass, ReasonCodes: codes}
}

func fail(name, code, msg string) GraderResult {
	return GraderResult{Name: name, Status: StatusFail, Message: oneLine(msg), ReasonCodes: []string{code}}
}

// gradeFixture runs every grader on one fixture. It never returns an error:
// whatever is wrong with a fixture fails that fixture only.
func gradeFixture(configDir string, ref FixtureRef, ev PolicyEvaluator) (FixtureResult, string) {
	dir := filepath.Dir(filepath.FromSlash(ref.Runpack))
	g := &grading{configDir: configDir, ref: ref, evaluator: ev, runpackPath: filepath.Join(configDir, filepath.FromSlash(ref.Runpack))}
	res := FixtureResult{
		Name: ref.Name, RunID: ref.RunID, Status: StatusPass,
		FixtureFile: filepath.ToSlash(filepath.Join(dir, FixtureFile)), Runpack: ref.Runpack,
	}
	g.fixture, g.fixtureErr = LoadFixture(filepath.Join(configDir, dir, FixtureFile))

	g.rp, g.openErr = pack.Open(g.runpackPath)
	if g.rp != nil {
		g.replay = pack.Replay(g.rp)
	}
	res.Graders = []GraderResult{g.schema(), g.integrity(), g.trajectory(), g.results(), g.exitCode(), g.verdicts()}
	for _, gr := range res.Graders {
		if gr.Status != StatusPass {
			res.Status = StatusFail
		}
	}
	createdAt := ""
	if g.rp != nil {
		res.RunID = g.rp.Manifest.RunID
		res.TicketFooter = pack.TicketFooterAt(g.rp.Manifest.RunID, g.rp.Manifest.ManifestDigest, ref.Runpack)
		createdAt = g.rp.Manifest.CreatedAt
	}
	return res, createdAt
}

// unusable explains why a grader cannot look at the run, or "".
func (g *grading) unusable() string {
	switch {
	case g.fixtureErr != nil:
		return "fixture.json unusable: " + g.fixtureErr.Error()
	case g.openErr != nil:
		return "runpack unreadable: " + g.openErr.Error()
	}
	return ""
}

func (g *grading) schema() GraderResult {
	if g.fixtureErr != nil {
		return fail(GraderSchema, "fixture_invalid", g.fixtureErr.Error())
	}
	if errors.Is(g.openErr, pack.ErrIntegrity) {
		return fail(GraderSchema, "runpack_unreadable", "not checked: "+g.trimPath(g.openErr))
	}
	if g.openErr != nil {
		return fail(GraderSchema, "runpack_invalid", g.trimPath(g.openErr))
	}
	r := pass(GraderSchema, "schema_valid")
	r.Details = map[string]any{"intent_records": len(g.rp.Intents), "result_records": len(g.rp.Results), "reference_receipts": len(g.rp.Refs.Receipts)}
	return r
}

// integrity reports whether the runpack's structure and digests hold; it
// reads the runpack once, with the other graders.
func (g *grading) integrity() GraderResult {
	if g.openErr != nil && !errors.Is(g.openErr, pack.ErrSchema) {
		return fail(GraderIntegrity, "integrity_failed", g.trimPath(g.openErr))
	}
	r := pass(GraderIntegrity, "digests_match")
	if g.rp != nil {
		r.Details = map[string]any{"manifest_digest": g.rp.Manifest.ManifestDigest, "files_checked": len(g.rp.Manifest.Files)}
	}
	return r
}

func (g *grading) trimPath(err error) string {
	return strings.TrimPrefix(err.Error(), g.runpackPath+": ")
}

// compare grades an expected against an actual sequence, one line per step.
func compare(name, code string, expected, actual []string, what string) GraderResult {
	i := textdiff.FirstDifference(expected, actual)
	details := map[string]any{"expected": nonNil(expected), "actual": nonNil(actual)}
	if i < 0 {
		r := pass(name, code+"_match")
		r.Details = details
		return r
	}
	step := i + 1
	exp, act := at(expected, i), at(actual, i)
	r := fail(name, code+"_mismatch", fmt.Sprintf("%s differs at step %d: expected %s, got %s", what, step, exp, act))
	r.Step = step
	r.Diff = textdiff.Unified("expected (fixture.json)", "actual (runpack.zip)", numbered(expected), numbered(actual))
	r.Details = details
	return r
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(nothing)"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func numbered(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%d. %s", i+1, v)
	}
	return out
}

func (g *grading) trajectory() GraderResult {
	if why := g.unusable(); why != "" {
		return fail(GraderTrajectory, "fixture_unusable", why)
	}
	return compare(GraderTrajectory, "trajectory", g.fixture.ExpectedToolSequence, g.rp.ToolSequence(), "tool sequence")
}

// replayDigests lists the result each step replays, with its digest.
func replayDigests(rep pack.ReplayResult) []string {
	out := make([]string, len(rep.Steps))
	for i, s := range rep.Steps {
		if s.Execution == "missing" {
			out[i] = "(no result)"
		} else {
			out[i] = s.Status + " sha256:" + s.ResultDigest
		}
	}
	return out
}

func (g *grading) results() GraderResult {
	if why := g.unusable(); why != "" {
		return fail(GraderResults, "fixture_unusable", why)
	}
	actual := replayDigests(g.replay)
	if g.fixture.ExpectedResultDigests == nil {
		r := pass(GraderResults, "no_expectation")
		r.Details = map[string]any{"actual": actual}
		return r
	}
	return compare(GraderResults, "results", g.fixture.ExpectedResultDigests, actual, "replayed result")
}

func (g *grading) exitCode() GraderResult {
	if why := g.unusable(); why != "" {
		return fail(GraderExitCode, "fixture_unusable", why)
	}
	rep := g.replay
	details := map[string]any{"expected_exit_code": g.fixture.ExpectedReplayExitCode, "actual_exit_code": rep.ExitCode, "missing_results": rep.MissingResults}
	if rep.ExitCode != g.fixture.ExpectedReplayExitCode {
		r := fail(GraderExitCode, "exit_code_mismatch", fmt.Sprintf("stub replay exited %d, expected %d (missing results: %s)", rep.ExitCode, g.fixture.ExpectedReplayExitCode, strings.Join(rep.MissingResults, ",")))
		r.Diff = textdiff.Unified("expected (fixture.json)", "actual (replay)", []string{fmt.Sprintf("exit_code: %d", g.fixture.ExpectedReplayExitCode)}, []string{fmt.Sprintf("exit_code: %d", rep.ExitCode)})
		r.Details = details
		return r
	}
	r := pass(GraderExitCode, "exit_code_match")
	r.Details = details
	return r
}

// verdicts re-evaluates each recorded call under the fixture's policy; with
// no policy, it checks the verdicts recorded in the run's results.
func (g *grading) verdicts() GraderResult {
	if why := g.unusable(); why != "" {
		return fail(GraderVerdicts, "fixture_unusable", why)
	}
	actual, matched, err := g.actualVerdicts()
	if err != nil {
		return fail(GraderVerdicts, "policy_unusable", err.Error())
	}
	r := compare(GraderVerdicts, "verdicts", g.fixture.ExpectedVerdictSequence, actual, "gate verdict")
	if g.fixture.Policy != "" {
		r.Details["policy"] = g.fixture.Policy
		r.Details["matched_rules"] = matched
	}
	if r.Status == StatusFail && r.Step > 0 && r.Step <= len(matched) {
		r.Message += fmt.Sprintf(" (tool %s, rule %q)", at(g.rp.ToolSequence(), r.Step-1), matched[r.Step-1])
	}
	return r
}

func (g *grading) actualVerdicts() (verdicts, matched []string, err error) {
	n := len(g.rp.Intents)
	if g.fixture.Policy == "" {
		return recordedVerdicts(g.rp), slices.Repeat([]string{""}, n), nil
	}
	policyPath, err := g.policyPath()
	if err != nil {
		return nil, nil, err
	}
	if g.evaluator == nil {
		return nil, nil, fmt.Errorf("fixture names policy %s but no policy evaluator is configured", g.fixture.Policy)
	}
	calls := make([]ToolCall, n)
	for i, in := range g.rp.Intents {
		calls[i] = ToolCall{ToolName: in.ToolName, Args: in.Args}
	}
	out, err := g.evaluator.Evaluate(policyPath, calls)
	if err != nil {
		return nil, nil, err
	}
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

// recordedVerdicts reads the gate verdict a run recorded for each intent:
// the "verdict" field of its result when it holds one, allow otherwise
// (a call that ran was allowed).
func recordedVerdicts(rp *pack.Runpack) []string {
	results := make(map[string]json.RawMessage, len(rp.Results))
	for _, r := range rp.Results {
		results[r.IntentID] = r.Result
	}
	out := make([]string, len(rp.Intents))
	for i, in := range rp.Intents {
		out[i] = "allow"
		var v struct {
			Verdict string `json:"verdict"`
		}
		if raw := results[in.IntentID]; len(raw) > 0 && json.Unmarshal(raw, &v) == nil {
			switch v.Verdict {
			case "block", "dry_run", "require_approval":
				out[i] = v.Verdict
			}
		}
	}
	return out
}
