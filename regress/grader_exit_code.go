package regress

import (
	"fmt"
	"strings"

	"github.com/gait-dev/gait/internal/textdiff"
)

// gradeExitCode is v1's expected_exit_code: a stub replay of the fixture's
// runpack exits as the fixture expects. An intent without a recorded result
// replays a stub when its tool is of a stubbed kind (http, file, db,
// queue) and is missing otherwise (exit 2); a run with two results for one
// intent cannot be replayed (replay_error).
func gradeExitCode(g *grading) GraderResult {
	rep := replayStubbed(g.rp)
	want := g.fixture.ExpectedReplayExitCode
	details := g.details()
	if rep.Err != "" {
		details["error"] = rep.Err
		r := fail(GraderExitCode, "replay_error", "stub replay failed: "+rep.Err)
		r.Details = details
		return r
	}
	details["expected_exit_code"] = want
	details["actual_exit_code"] = rep.ExitCode
	details["missing_results"] = rep.MissingResults
	if rep.ExitCode == want {
		r := pass(GraderExitCode)
		r.Details = details
		return r
	}
	r := fail(GraderExitCode, "unexpected_exit_code", fmt.Sprintf("stub replay exited %d, expected %d (intents without a result: %s)",
		rep.ExitCode, want, strings.Join(rep.MissingResults, ",")))
	r.Diff = textdiff.Unified("expected (fixture.json)", "actual (replay)", []string{fmt.Sprintf("exit_code: %d", want)}, []string{fmt.Sprintf("exit_code: %d", rep.ExitCode)})
	r.Details = details
	return r
}
