package pack

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
)

// bigFailingRecord is a run of n intents where intent_<fail> errors; it
// names intent_<dep> and ref_dep in its args, and the timeline has one
// event per intent plus a start and a finish.
func bigFailingRecord(n, fail, dep int) *RunRecord {
	rec := &RunRecord{Run: Run{RunID: "run_big", CreatedAt: "2026-01-01T00:00:00Z"}}
	events := []map[string]any{{"event": "start", "ts": "2026-01-01T00:00:00Z"}}
	for i := range n {
		id := fmt.Sprintf("intent_%d", i)
		args := map[string]any{"path": fmt.Sprintf("/data/%d", i)}
		status := "ok"
		if i == fail {
			args["input"] = fmt.Sprintf("intent_%d", dep)
			args["context"] = []any{"ref_dep"}
			status = "error"
		}
		a, _ := json.Marshal(args)
		rec.Intents = append(rec.Intents, Intent{IntentID: id, ToolName: "tool.read", Args: a})
		rec.Results = append(rec.Results, Result{IntentID: id, Status: status, Result: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
		events = append(events, map[string]any{"event": "tool_call", "ts": "2026-01-01T00:00:01Z", "intent_id": id})
	}
	events = append(events, map[string]any{"event": "finish", "ts": "2026-01-01T00:00:02Z"})
	rec.Run.Timeline, _ = json.Marshal(events)
	for _, ref := range []string{"ref_dep", "ref_other"} {
		r, _ := json.Marshal(map[string]any{"ref_id": ref, "source_type": "doc", "source_locator": "x", "query_digest": fmt.Sprintf("%064d", 1),
			"content_digest": fmt.Sprintf("%064d", 2), "retrieved_at": "2026-01-01T00:00:00Z", "redaction_mode": "reference"})
		rec.Refs.Receipts = append(rec.Refs.Receipts, r)
	}
	return rec
}

func TestReduceKeepsFailingStepAndWhatItNeeds(t *testing.T) {
	rp, err := Build(bigFailingRecord(200, 137, 12), RecordOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, rep, err := Reduce(rp, PredicateNonOKStatus, RecordOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, in := range out.Intents {
		ids = append(ids, in.IntentID)
	}
	if !slices.Equal(ids, []string{"intent_12", "intent_137"}) {
		t.Fatalf("kept %v, want the failing step and the step it names", ids)
	}
	if rep.SelectedIntentID != "intent_137" || rep.OriginalIntentCount != 200 || rep.ReducedIntentCount != 2 || rep.StepsRemoved != 198 {
		t.Fatalf("report %+v", rep)
	}
	if rep.OriginalRefCount != 2 || rep.ReducedRefCount != 1 || out.Refs.ContextRefCount != 1 {
		t.Fatalf("refs: report %d→%d, refs.json count %d", rep.OriginalRefCount, rep.ReducedRefCount, out.Refs.ContextRefCount)
	}
	if rep.OriginalTimelineCount != 202 || rep.ReducedTimelineCount != 4 {
		t.Fatalf("timeline %d→%d, want 202→4 (start, two calls, finish)", rep.OriginalTimelineCount, rep.ReducedTimelineCount)
	}
	if !rep.StillFailing || out.Manifest.RunID != "run_big_reduced_nonokstatus" {
		t.Fatalf("still_failing=%v run_id=%s", rep.StillFailing, out.Manifest.RunID)
	}
	if rep.PredicateEvaluations > 40 {
		t.Fatalf("%d predicate evaluations for one failing step in 200", rep.PredicateEvaluations)
	}
	path := filepath.Join(t.TempDir(), "reduced.zip")
	if err := out.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(path, VerifyOptions{}); err != nil {
		t.Fatalf("the reduced runpack does not verify: %v", err)
	}
	// The same reduction twice writes the same bytes.
	again, _, err := Reduce(rp, PredicateNonOKStatus, RecordOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Manifest.ManifestDigest != out.Manifest.ManifestDigest {
		t.Fatal("reduction is not deterministic")
	}
}

func TestReduceMissingResultAndMultipleFailures(t *testing.T) {
	rec := bigFailingRecord(50, 7, 3)
	rec.Results = slices.DeleteFunc(rec.Results, func(r Result) bool { return r.IntentID == "intent_40" })
	rp, err := Build(rec, RecordOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, rep, err := Reduce(rp, PredicateMissingResult, RecordOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Intents) != 1 || out.Intents[0].IntentID != "intent_40" || len(out.Results) != 0 || rep.ReducedRefCount != 0 {
		t.Fatalf("kept %d intents (%s), %d results, %d refs", len(out.Intents), rep.SelectedIntentID, len(out.Results), rep.ReducedRefCount)
	}
}

func TestReduceRefusals(t *testing.T) {
	rp, err := Build(DemoRecord(), RecordOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pred := range []string{PredicateMissingResult, PredicateNonOKStatus, "bogus"} {
		_, _, err := Reduce(rp, pred, RecordOptions{})
		if exitcode.Of(err) != exitcode.InvalidInput {
			t.Errorf("%s on a passing run: %v (exit %d), want exit 6", pred, err, exitcode.Of(err))
		}
	}
}

func TestDdminFindsOneMinimalSet(t *testing.T) {
	items := make([]int, 64)
	for i := range items {
		items[i] = i
	}
	// Fails only when both 5 and 50 are present.
	got := ddmin(items, func(c []int) bool { return slices.Contains(c, 5) && slices.Contains(c, 50) })
	if !slices.Equal(got, []int{5, 50}) {
		t.Fatalf("ddmin = %v", got)
	}
}
