package regress

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/gait-dev/gait/pack"
)

// Context drift classes, as v1 reports them on the context_conformance
// grader.
const (
	ContextDriftNone        = "none"
	ContextDriftRuntimeOnly = "runtime_only"
	ContextDriftSemantic    = "semantic"
	ContextDriftMissing     = "missing"
)

// gradeContext is v1's context_conformance, run on every fixture when any
// fixture sets context_conformance: required or the run passes
// --context-conformance. A fixture that requires it fails when the
// candidate carries no context set digest (context_evidence_missing) or a
// different one than the fixture pins (context_set_digest_mismatch); a
// change in retrieval details only (same receipts' content) passes with
// --allow-context-runtime-drift or allow_context_runtime_drift.
func gradeContext(g *grading) GraderResult {
	f := g.fixture
	want := f.ExpectedContextSetDigest
	if want == "" {
		want = g.rp.Refs.ContextSetDigest
	}
	got := g.candidate.Refs.ContextSetDigest
	changed := want != got
	runtimeOnly := changed && want != "" && got != "" && slices.Equal(contentDigests(g.rp.Refs), contentDigests(g.candidate.Refs))
	details := g.details()
	details["candidate_runpack"] = g.candidatePath
	details["context_changed"], details["context_runtime_only"] = changed, runtimeOnly
	details["context_set_digest_fixture"], details["context_set_digest_candidate"] = want, got
	class := ContextDriftNone
	switch {
	case changed && runtimeOnly:
		class = ContextDriftRuntimeOnly
	case changed:
		class = ContextDriftSemantic
	}
	required := f.ContextConformance == ContextRequired || g.opts.ContextConformance
	var r GraderResult
	switch {
	case !required:
		r = pass(GraderContext, "context_conformance_not_required")
	case got == "":
		class = ContextDriftMissing
		r = fail(GraderContext, "context_evidence_missing", fmt.Sprintf("%s carries no context evidence (refs.json context_set_digest); record the run with its context envelope", g.candidatePath))
	case class == ContextDriftRuntimeOnly && (g.opts.AllowContextRuntimeDrift || f.AllowContextRuntimeDrift):
		r = pass(GraderContext, "context_runtime_drift_allowed")
	case changed:
		r = fail(GraderContext, "context_set_digest_mismatch", fmt.Sprintf("context set digest %s, expected %s (%s drift)", got, want, class))
	default:
		r = pass(GraderContext, "context_conformance_pass")
	}
	r.ContextConformance = class
	r.Details = details
	return r
}

// contentDigests lists a run's receipts by reference and content, sorted:
// what the agent read, without when it read it.
func contentDigests(refs pack.Refs) []string {
	out := make([]string, 0, len(refs.Receipts))
	for _, raw := range refs.Receipts {
		var rc struct {
			RefID         string `json:"ref_id"`
			ContentDigest string `json:"content_digest"`
		}
		_ = json.Unmarshal(raw, &rc)
		out = append(out, rc.RefID+" "+rc.ContentDigest)
	}
	slices.Sort(out)
	return out
}
