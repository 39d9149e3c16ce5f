package regress

import (
	"fmt"

	"github.com/gait-dev/gait/internal/textdiff"
	"github.com/gait-dev/gait/pack"
)

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

// gradeResults is Gait's results grader: each step of the fixture's
// runpack replays the status and result digest the fixture pins in
// expected_result_digests. Fixtures without them (all of v1's) pass with
// no_expectation.
func gradeResults(g *grading) GraderResult {
	actual := replayDigests(pack.Replay(g.rp))
	details := map[string]any{"actual": actual}
	exp := g.fixture.ExpectedResultDigests
	if exp == nil {
		r := pass(GraderResults, "no_expectation")
		r.Details = details
		return r
	}
	details["expected"] = exp
	i := mismatch(exp, actual)
	if i < 0 {
		r := pass(GraderResults, "results_match")
		r.Details = details
		return r
	}
	r := fail(GraderResults, "results_mismatch", fmt.Sprintf("replayed result differs at step %d: expected %s, got %s", i+1, at(exp, i), at(actual, i)))
	r.Step = i + 1
	r.Diff = textdiff.Unified("expected (fixture.json)", "actual (runpack.zip)", numbered(exp), numbered(actual))
	r.Details = details
	return r
}
