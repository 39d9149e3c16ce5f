package regress

import (
	"bytes"
	"fmt"
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
	if !slices.Equal(intentKeys(base), intentKeys(cand)) {
		out = append(out, pack.FileIntents)
	}
	if base.Manifest.CaptureMode != cand.Manifest.CaptureMode {
		out = append(out, pack.FileManifest)
	}
	if !refsEqual(base.Refs, cand.Refs) {
		out = append(out, pack.FileRefs)
	}
	if !slices.Equal(resultKeys(base), resultKeys(cand)) {
		out = append(out, pack.FileResults)
	}
	return out
}

// intentKeys lists a run's intents by id, tool and arguments, sorted.
func intentKeys(rp *pack.Runpack) []string {
	out := make([]string, len(rp.Intents))
	for i, in := range rp.Intents {
		out[i] = in.IntentID + "\x00" + in.ToolName + "\x00" + in.ArgsDigest
	}
	slices.Sort(out)
	return out
}

// resultKeys lists a run's results by intent id, status and result, sorted.
func resultKeys(rp *pack.Runpack) []string {
	out := make([]string, len(rp.Results))
	for i, r := range rp.Results {
		out[i] = r.IntentID + "\x00" + r.Status + "\x00" + r.ResultDigest
	}
	slices.Sort(out)
	return out
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
