package regress

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/textdiff"
	"github.com/gait-dev/gait/mcp"
)

// candidateGrading grades one candidate run against its fixture.
type candidateGrading struct {
	g     *grading
	c     candidate
	match mcp.MatchMode
	traj  string
	ev    PolicyEvaluator

	recorded []mcp.Recorded
	calls    []mcp.CandidateCall
	unusedAt []int
	// counterpart[i] is the recorded step (1-based) candidate call i stands
	// for: the one that answered it, or else the first recorded call of the
	// same tool nobody used (changed arguments); 0 when there is none.
	counterpart []int
}

func (cg *candidateGrading) pair() {
	cg.recorded = cg.c.replay.Recorded()
	cg.calls = cg.c.replay.Calls()
	cg.unusedAt = cg.c.replay.Unused()
	taken := make([]bool, len(cg.recorded)+1)
	cg.counterpart = make([]int, len(cg.calls))
	for i, c := range cg.calls {
		if c.Step > 0 {
			cg.counterpart[i] = c.Step
			taken[c.Step] = true
		}
	}
	for i, c := range cg.calls {
		if c.Step > 0 {
			continue
		}
		for _, s := range cg.unusedAt {
			if !taken[s] && cg.recorded[s-1].Tool == c.Tool {
				cg.counterpart[i] = s
				taken[s] = true
				break
			}
		}
	}
}

func (cg *candidateGrading) details() map[string]any {
	return map[string]any{"match": cg.match.String(), "trajectory_mode": cg.traj, "candidate_calls": len(cg.calls), "recorded_calls": len(cg.recorded)}
}

// run grades the agent process itself: it must exit 0 within the timeout
// and speak MCP.
func (cg *candidateGrading) run(agent *AgentConfig) GraderResult {
	transport := agent.Transport
	if transport == "" {
		transport = TransportHTTP
	}
	if cg.c.runErr != "" {
		r := fail(GraderAgentRun, cg.c.runCode, cg.c.runErr)
		r.Details = map[string]any{"command": agent.Command, "transport": transport, "candidate_calls": len(cg.calls)}
		return r
	}
	r := pass(GraderAgentRun, "agent_exited_0")
	r.Details = map[string]any{"command": agent.Command, "transport": transport, "candidate_calls": len(cg.calls)}
	return r
}

func (cg *candidateGrading) recordedTools() []string {
	out := make([]string, len(cg.recorded))
	for i, r := range cg.recorded {
		out[i] = r.Tool
	}
	return out
}

func (cg *candidateGrading) candidateTools() []string {
	out := make([]string, len(cg.calls))
	for i, c := range cg.calls {
		out[i] = c.Tool
	}
	return out
}

func candidateDiff(expected, actual []string) string {
	return textdiff.Unified("expected (recording)", "actual (candidate)", numbered(expected), numbered(actual))
}

func (cg *candidateGrading) trajectory() GraderResult {
	exp, act := cg.recordedTools(), cg.candidateTools()
	var r GraderResult
	switch cg.traj {
	case TrajectorySubset:
		r = subsetTrajectory(exp, act)
	case TrajectoryUnordered:
		r = compare(GraderAgentTrajectory, "agent_trajectory", sorted(exp), sorted(act), "tool multiset (sorted)")
	default:
		r = compare(GraderAgentTrajectory, "agent_trajectory", exp, act, "candidate tool sequence")
	}
	if r.Diff != "" {
		r.Diff = candidateDiff(exp, act)
	}
	for k, v := range cg.details() {
		if r.Details == nil {
			r.Details = map[string]any{}
		}
		r.Details[k] = v
	}
	return r
}

// subsetTrajectory passes when act is an in-order subsequence of exp.
func subsetTrajectory(exp, act []string) GraderResult {
	j := 0
	for i, tool := range act {
		for j < len(exp) && exp[j] != tool {
			j++
		}
		if j == len(exp) {
			r := fail(GraderAgentTrajectory, "agent_trajectory_mismatch",
				fmt.Sprintf("candidate tool sequence differs at step %d: %s is not in the recording at that point (in-order subset)", i+1, tool))
			r.Step = i + 1
			r.Diff = candidateDiff(exp, act)
			r.Details = map[string]any{"expected": nonNil(exp), "actual": nonNil(act)}
			return r
		}
		j++
	}
	r := pass(GraderAgentTrajectory, "agent_trajectory_match")
	r.Details = map[string]any{"expected": nonNil(exp), "actual": nonNil(act)}
	return r
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// argsView renders a recorded call's arguments for comparison.
func (cg *candidateGrading) recordedView(step int) string {
	rc := cg.recorded[step-1]
	if rc.Args == nil {
		return rc.Tool + " sha256:" + rc.ArgsDigest
	}
	return rc.Tool + " " + cg.match.View(rc.Args, rc.Args)
}

func (cg *candidateGrading) candidateView(i int) string {
	c := cg.calls[i]
	var recArgs any
	if s := cg.counterpart[i]; s > 0 {
		rc := cg.recorded[s-1]
		if rc.Args == nil {
			return c.Tool + " sha256:" + digest.Bytes(c.Args)
		}
		recArgs = rc.Args
	}
	args, _, err := mcp.ParseArgs(c.Args)
	if err != nil {
		return c.Tool + " (unreadable arguments)"
	}
	return c.Tool + " " + cg.match.View(args, recArgs)
}

// args compares each candidate call's arguments with those of the recorded
// call it stands for; calls with no counterpart are agent_unexpected's.
func (cg *candidateGrading) args() GraderResult {
	if cg.match.Kind == mcp.MatchToolName {
		r := pass(GraderAgentArgs, "args_not_compared")
		r.Details = cg.details()
		return r
	}
	var exp, act []string
	first, firstRec := 0, 0
	for i := range cg.calls {
		s := cg.counterpart[i]
		if s == 0 {
			continue
		}
		e, a := cg.recordedView(s), cg.candidateView(i)
		exp = append(exp, fmt.Sprintf("step %d: %s", i+1, e))
		act = append(act, fmt.Sprintf("step %d: %s", i+1, a))
		if e != a && first == 0 {
			first, firstRec = i+1, s
		}
	}
	details := cg.details()
	details["expected"], details["actual"] = nonNil(exp), nonNil(act)
	if first == 0 {
		r := pass(GraderAgentArgs, "agent_args_match")
		r.Details = details
		return r
	}
	r := fail(GraderAgentArgs, "agent_args_mismatch", fmt.Sprintf("arguments differ at step %d (%s): recorded step %d had other arguments", first, cg.calls[first-1].Tool, firstRec))
	r.Step = first
	r.Diff = textdiff.Unified("expected (recording)", "actual (candidate)", exp, act)
	r.Details = details
	return r
}

func (cg *candidateGrading) callLines() []string {
	out := make([]string, len(cg.calls))
	for i, c := range cg.calls {
		out[i] = c.Tool + " " + string(c.Args)
	}
	return out
}

func (cg *candidateGrading) recordedLines() []string {
	out := make([]string, len(cg.recorded))
	for i := range cg.recorded {
		out[i] = cg.recordedView(i + 1)
	}
	return out
}

// unexpected fails on every candidate call the recording could not answer.
func (cg *candidateGrading) unexpected() GraderResult {
	var list []string
	first := 0
	for i, c := range cg.calls {
		if c.Step == 0 {
			line := fmt.Sprintf("step %d: %s %s", i+1, c.Tool, c.Args)
			if c.Problem != "" {
				line += " (" + oneLine(c.Problem) + ")"
			}
			list = append(list, line)
			if first == 0 {
				first = i + 1
			}
		}
	}
	details := cg.details()
	details["unexpected"] = nonNil(list)
	if first == 0 {
		r := pass(GraderAgentUnexpected, "no_unexpected_calls")
		r.Details = details
		return r
	}
	r := fail(GraderAgentUnexpected, "unexpected_calls", fmt.Sprintf("%d call(s) had no recorded answer; first at step %d: %s (match %s)", len(list), first, cg.calls[first-1].Tool, cg.match))
	r.Step = first
	r.Diff = candidateDiff(cg.recordedLines(), cg.callLines())
	r.Details = details
	return r
}

// unused fails on recorded calls the candidate never made, except in the
// subset trajectory mode, where leaving calls out is allowed.
func (cg *candidateGrading) unused() GraderResult {
	var list []string
	for _, s := range cg.unusedAt {
		list = append(list, fmt.Sprintf("recorded step %d: %s", s, cg.recorded[s-1].Tool))
	}
	details := cg.details()
	details["unused"] = nonNil(list)
	if len(list) == 0 {
		r := pass(GraderAgentUnused, "no_unused_calls")
		r.Details = details
		return r
	}
	if cg.traj == TrajectorySubset {
		r := pass(GraderAgentUnused, "unused_allowed")
		r.Details = details
		return r
	}
	s := cg.unusedAt[0]
	r := fail(GraderAgentUnused, "unused_calls", fmt.Sprintf("%d recorded call(s) never made; first is recorded step %d: %s", len(list), s, cg.recorded[s-1].Tool))
	r.Step = s
	r.Diff = candidateDiff(cg.recordedLines(), cg.callLines())
	r.Details = details
	return r
}

// verdicts evaluates every candidate call under the fixture's policy: each
// must get the verdict its recorded counterpart gets, and a call with no
// counterpart must be allowed.
func (cg *candidateGrading) verdicts() GraderResult {
	details := cg.details()
	if cg.g.fixture.Policy == "" {
		r := pass(GraderAgentVerdicts, "no_policy")
		r.Details = details
		return r
	}
	policyPath, err := cg.g.policyPath()
	if err != nil {
		return fail(GraderAgentVerdicts, "policy_unusable", err.Error())
	}
	if cg.ev == nil {
		return fail(GraderAgentVerdicts, "policy_unusable", "fixture names a policy but no policy evaluator is configured")
	}
	recCalls := make([]ToolCall, len(cg.recorded))
	for i, r := range cg.g.rp.Intents {
		recCalls[i] = ToolCall{ToolName: r.ToolName, Args: r.Args}
	}
	candCalls := make([]ToolCall, len(cg.calls))
	for i, c := range cg.calls {
		candCalls[i] = ToolCall{ToolName: c.Tool, Args: c.Args}
	}
	recV, err := cg.ev.Evaluate(policyPath, recCalls)
	if err != nil {
		return fail(GraderAgentVerdicts, "policy_unusable", err.Error())
	}
	candV, err := cg.ev.Evaluate(policyPath, candCalls)
	if err != nil {
		return fail(GraderAgentVerdicts, "policy_unusable", err.Error())
	}
	exp, act := make([]string, len(cg.calls)), make([]string, len(cg.calls))
	first := 0
	for i, c := range cg.calls {
		want := "allow"
		if s := cg.counterpart[i]; s > 0 {
			want = recV[s-1].Verdict
		}
		exp[i] = fmt.Sprintf("%s %s", c.Tool, want)
		act[i] = fmt.Sprintf("%s %s", c.Tool, candV[i].Verdict)
		if want != candV[i].Verdict && first == 0 {
			first = i + 1
		}
	}
	details["policy"] = cg.g.fixture.Policy
	details["expected"], details["actual"] = exp, act
	if first == 0 {
		r := pass(GraderAgentVerdicts, "agent_verdicts_match")
		r.Details = details
		return r
	}
	v := candV[first-1]
	r := fail(GraderAgentVerdicts, "agent_verdicts_mismatch", fmt.Sprintf("gate verdict differs at step %d: %s is %s under %s (rule %q, reasons %s)",
		first, cg.calls[first-1].Tool, v.Verdict, cg.g.fixture.Policy, v.MatchedRule, strings.Join(v.ReasonCodes, ",")))
	r.Step = first
	r.Diff = textdiff.Unified("expected (recording)", "actual (candidate)", numbered(exp), numbered(act))
	r.Details = details
	return r
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
	exp, act := "(nothing)", "(nothing)"
	if i < len(expected) {
		exp = expected[i]
	}
	if i < len(actual) {
		act = actual[i]
	}
	r := fail(name, code+"_mismatch", fmt.Sprintf("%s differs at step %d: expected %s, got %s", what, i+1, exp, act))
	r.Step = i + 1
	r.Diff = textdiff.Unified("expected (fixture.json)", "actual (runpack.zip)", numbered(expected), numbered(actual))
	r.Details = details
	return r
}
