package regress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

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
// --context-conformance. The context changed when the candidate's refs.json
// differs from the fixture runpack's; the change is runtime_only when the
// receipts differ only in when they were retrieved, and semantic otherwise.
// A fixture that requires conformance fails when neither run carries a
// context set digest (context_evidence_missing), when the candidate's
// digest is not the one the fixture pins (context_set_digest_mismatch), on semantic drift, and on runtime-only
// drift unless --allow-context-runtime-drift or allow_context_runtime_drift
// lets it pass.
func gradeContext(g *grading) GraderResult {
	f := g.fixture
	want := f.ExpectedContextSetDigest
	if want == "" {
		want = g.rp.Refs.ContextSetDigest
	}
	got := g.candidate.Refs.ContextSetDigest
	base, cand := g.rp.File(pack.FileRefs), g.candidate.File(pack.FileRefs)
	changed := !bytes.Equal(base, cand)
	runtimeOnly := changed && reflect.DeepEqual(withoutRetrievalTimes(base), withoutRetrievalTimes(cand))
	details := g.details()
	details["candidate_runpack"] = g.candidatePath
	details["context_changed"], details["context_runtime_only"] = changed, runtimeOnly
	details["context_set_digest_fixture"], details["context_set_digest_candidate"] = want, got
	class := ContextDriftNone
	switch {
	case runtimeOnly:
		class = ContextDriftRuntimeOnly
	case changed:
		class = ContextDriftSemantic
	}
	required := f.ContextConformance == ContextRequired || g.opts.ContextConformance
	var r GraderResult
	switch {
	case !required:
		r = pass(GraderContext, "context_conformance_not_required")
	case want == "" && got == "":
		class = ContextDriftMissing
		r = fail(GraderContext, "context_evidence_missing", fmt.Sprintf("%s carries no context evidence (refs.json context_set_digest); record the run with its context envelope", g.candidatePath))
	case want != "" && want != got:
		class = ContextDriftSemantic
		r = fail(GraderContext, "context_set_digest_mismatch", fmt.Sprintf("context set digest %q, expected %q", got, want))
	case runtimeOnly && !g.opts.AllowContextRuntimeDrift && !f.AllowContextRuntimeDrift:
		r = fail(GraderContext, "context_runtime_drift_blocked", "context receipts were retrieved at other times; pass --allow-context-runtime-drift if that is expected")
	case changed && !runtimeOnly:
		r = fail(GraderContext, "context_semantic_drift", fmt.Sprintf("%s refs.json differs from the fixture's runpack", g.candidatePath))
	default:
		r = pass(GraderContext, "context_conformance_pass")
	}
	r.ContextConformance = class
	r.Details = details
	return r
}

// withoutRetrievalTimes decodes refs.json with every receipt's
// retrieved_at removed.
func withoutRetrievalTimes(refs []byte) any {
	var m map[string]any
	if json.Unmarshal(refs, &m) != nil {
		return nil
	}
	receipts, _ := m["receipts"].([]any)
	for _, rc := range receipts {
		if rm, ok := rc.(map[string]any); ok {
			delete(rm, "retrieved_at")
		}
	}
	return m
}
