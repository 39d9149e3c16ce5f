package regress

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gait-dev/gait/pack"
)

// gradeDiff is v1's diff: the candidate run differs from the fixture's
// runpack only in the files diff_allow_changed_files allows. A fixture
// without a candidate_runpack is its own candidate and always passes.
func gradeDiff(g *grading) GraderResult {
	changed := changedFiles(g.rp, g.candidate)
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

// changedFiles lists, in name order, the runpack files whose behaviour
// differs between base and candidate: intents and results are matched by
// intent id (order, run ids and times do not count), refs by their
// receipts and context set digest, the manifest by its capture mode.
func changedFiles(base, cand *pack.Runpack) []string {
	out := []string{}
	if !maps.Equal(intentKeys(base), intentKeys(cand)) {
		out = append(out, pack.FileIntents)
	}
	if base.Manifest.CaptureMode != cand.Manifest.CaptureMode {
		out = append(out, pack.FileManifest)
	}
	if !refsEqual(base.Refs, cand.Refs) {
		out = append(out, pack.FileRefs)
	}
	if !maps.Equal(resultKeys(base), resultKeys(cand)) {
		out = append(out, pack.FileResults)
	}
	return out
}

// intentKeys maps a run's intent ids to their tool and arguments; a later
// record of the same id wins, as v1 reads them.
func intentKeys(rp *pack.Runpack) map[string]string {
	m := make(map[string]string, len(rp.Intents))
	for _, in := range rp.Intents {
		m[in.IntentID] = in.ToolName + "\x00" + in.ArgsDigest
	}
	return m
}

// resultKeys maps a run's intent ids to their result's status and digest;
// a later result for the same intent wins, as v1 reads them.
func resultKeys(rp *pack.Runpack) map[string]string {
	m := make(map[string]string, len(rp.Results))
	for _, r := range rp.Results {
		m[r.IntentID] = r.Status + "\x00" + r.ResultDigest
	}
	return m
}

func refsEqual(a, b pack.Refs) bool {
	if a.ContextSetDigest != b.ContextSetDigest || len(a.Receipts) != len(b.Receipts) {
		return false
	}
	for i := range a.Receipts {
		if !bytes.Equal(a.Receipts[i], b.Receipts[i]) {
			return false
		}
	}
	return true
}
