package regress

import (
	"fmt"
	"path"
	"strings"

	"github.com/gait-dev/gait/internal/textdiff"
)

// gradeTrajectory is v1's trajectory: the candidate run's tool sequence
// (intent order) and verdict sequence (one per result, results order) match
// the fixture's. A sequence the fixture leaves out or empty is not graded;
// with neither, the grader passes with trajectory_not_required.
func gradeTrajectory(g *grading) GraderResult {
	expTools, expVerdicts := g.fixture.expectedTools(), g.fixture.expectedVerdicts()
	actTools, actVerdicts := ToolSequence(g.candidate), VerdictSequence(g.candidate)
	details := g.details()
	details["candidate_runpack"] = g.candidatePath
	details["expected_tool_sequence"], details["actual_tool_sequence"] = expTools, actTools
	details["expected_verdict_sequence"], details["actual_verdict_sequence"] = expVerdicts, actVerdicts
	if len(expTools) == 0 && len(expVerdicts) == 0 {
		r := pass(GraderTrajectory, "trajectory_not_required")
		r.Details = details
		return r
	}
	var codes, msgs, diffs []string
	step := 0
	check := func(what, label, code string, exp, act []string) {
		if len(exp) == 0 {
			return
		}
		i := mismatch(exp, act)
		if i < 0 {
			return
		}
		key := strings.ReplaceAll(what, " ", "_")
		details[key+"_mismatch_index"] = i
		details[key+"_expected_at_mismatch"] = at(exp, i)
		details[key+"_actual_at_mismatch"] = at(act, i)
		codes = append(codes, code)
		msgs = append(msgs, fmt.Sprintf("%s differs at step %d: expected %s, got %s", what, i+1, at(exp, i), at(act, i)))
		diffs = append(diffs, textdiff.Unified("expected"+label+" (fixture.json)", "actual"+label+" ("+path.Base(g.candidatePath)+")", numbered(exp), numbered(act)))
		if step == 0 {
			step = i + 1
		}
	}
	check("tool sequence", "", "unexpected_tool_sequence", expTools, actTools)
	check("verdict sequence", " verdicts", "unexpected_verdict_sequence", expVerdicts, actVerdicts)
	if len(codes) == 0 {
		r := pass(GraderTrajectory, "trajectory_match")
		r.Details = details
		return r
	}
	return GraderResult{Name: GraderTrajectory, Status: StatusFail, ReasonCodes: codes, Message: strings.Join(msgs, "; "),
		Step: step, Diff: strings.Join(diffs, ""), Details: details}
}
