package regress

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gait-dev/gait/pack"
)

// gradeDiff is v1's diff: the candidate run differs from the fixture's
// runpack only in the files diff_allow_changed_files allows. A fixture
// without a candidate_runpack is its own candidate and always passes.
func gradeDiff(g *grading) GraderResult {
	changed := pack.ChangedFiles(g.rp, g.candidate)
	allowed := sortedCopy(g.fixture.DiffAllowChangedFiles)
	details := g.details()
	details["candidate_runpack"] = g.candidatePath
	details["allowed_files"], details["changed_files"] = allowed, changed
	var unexpected []string
	for _, f := range changed {
		if !slices.Contains(allowed, f) {
			unexpected = append(unexpected, f)
		}
	}
	if len(unexpected) == 0 {
		r := pass(GraderDiff)
		r.Details = details
		return r
	}
	details["unexpected_files"] = unexpected
	r := fail(GraderDiff, "unexpected_diff", fmt.Sprintf("candidate %s changes %s against the fixture's runpack; list them in diff_allow_changed_files if intended",
		g.candidatePath, strings.Join(unexpected, ", ")))
	if d := pack.Diff(g.rp, g.candidate, g.ref.Runpack, g.candidatePath); d.Unified != "" {
		r.Diff = d.Unified
	}
	r.Details = details
	return r
}
