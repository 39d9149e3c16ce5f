package pack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/gait-dev/gait/internal/textdiff"
)

// DiffSummary says which parts of two runpacks differ, as v1 reports it:
// intents and results are matched by intent id (order, run ids and times
// do not count), the manifest by its capture mode, refs by their receipts
// and context set digest.
type DiffSummary struct {
	RunIDLeft        string   `json:"run_id_left"`
	RunIDRight       string   `json:"run_id_right"`
	ManifestChanged  bool     `json:"manifest_changed"`
	IntentsChanged   bool     `json:"intents_changed"`
	ResultsChanged   bool     `json:"results_changed"`
	RefsChanged      bool     `json:"refs_changed"`
	LeftOnlyIntents  []string `json:"left_only_intents,omitempty"`
	RightOnlyIntents []string `json:"right_only_intents,omitempty"`
	LeftOnlyResults  []string `json:"left_only_results,omitempty"`
	RightOnlyResults []string `json:"right_only_results,omitempty"`
	// ContextDriftClassification is none when the refs agree, semantic
	// when they differ (none under metadata privacy, which does not look).
	ContextDriftClassification string `json:"context_drift_classification"`
}

// StepChange is one step whose tool call or result differs.
type StepChange struct {
	Step  int    `json:"step"`
	Field string `json:"field"` // tool_name | args | result | status | presence
	Left  string `json:"left"`
	Right string `json:"right"`
}

// Diff privacy levels: full shows argument and result values in the
// unified diff; metadata shows only which parts changed.
const (
	PrivacyFull     = "full"
	PrivacyMetadata = "metadata"
)

// DiffResult compares two runs by behaviour: the tool calls made, their
// arguments and results, and the references read. Run ids and timestamps
// are not behaviour and do not count as differences. OK and Same both say
// the runs match (OK is v1's name for it); Changes and the unified diff
// show where they do not, step by step.
type DiffResult struct {
	OK      bool         `json:"ok"`
	Same    bool         `json:"same"`
	Privacy string       `json:"privacy"`
	Output  string       `json:"output,omitempty"`
	Summary DiffSummary  `json:"summary"`
	Changes []StepChange `json:"changes"`
	Unified string       `json:"unified_diff,omitempty"`
}

// Diff compares left and right with full privacy.
func Diff(left, right *Runpack, leftName, rightName string) DiffResult {
	return DiffWith(left, right, leftName, rightName, PrivacyFull)
}

// DiffWith compares left and right; under PrivacyMetadata the result
// carries no argument or result values (no unified diff) and no context
// classification.
func DiffWith(left, right *Runpack, leftName, rightName, privacy string) DiffResult {
	res := DiffResult{Privacy: privacy, Changes: []StepChange{}}
	li, ri := left.intentKeys(), right.intentKeys()
	lr, rr := left.resultKeys(), right.resultKeys()
	s := DiffSummary{
		RunIDLeft: left.Manifest.RunID, RunIDRight: right.Manifest.RunID,
		ManifestChanged:  left.Manifest.CaptureMode != right.Manifest.CaptureMode,
		IntentsChanged:   !maps.Equal(li, ri),
		ResultsChanged:   !maps.Equal(lr, rr),
		RefsChanged:      !refsEqual(left.Refs, right.Refs),
		LeftOnlyIntents:  onlyIn(li, ri),
		RightOnlyIntents: onlyIn(ri, li),
		LeftOnlyResults:  onlyIn(lr, rr),
		RightOnlyResults: onlyIn(rr, lr),
	}
	s.ContextDriftClassification = "none"
	if s.RefsChanged && privacy != PrivacyMetadata {
		s.ContextDriftClassification = "semantic"
	}
	res.Summary = s
	res.Same = !s.ManifestChanged && !s.IntentsChanged && !s.ResultsChanged && !s.RefsChanged
	res.OK = res.Same
	if res.Same {
		return res
	}
	res.Changes = stepChanges(left, right)
	if privacy != PrivacyMetadata {
		res.Unified = textdiff.Unified(leftName, rightName, left.BehaviourLines(), right.BehaviourLines())
	}
	return res
}

// ChangedFiles lists, in name order, the runpack files whose behaviour
// differs between base and cand, by DiffWith's rules (v1's diff grader).
func ChangedFiles(base, cand *Runpack) []string {
	s := Diff(base, cand, "", "").Summary
	out := []string{}
	for _, f := range []struct {
		changed bool
		name    string
	}{{s.IntentsChanged, FileIntents}, {s.ManifestChanged, FileManifest}, {s.RefsChanged, FileRefs}, {s.ResultsChanged, FileResults}} {
		if f.changed {
			out = append(out, f.name)
		}
	}
	return out
}

// stepChanges lists the steps, by position, whose tool, arguments, status
// or result differ.
func stepChanges(left, right *Runpack) []StepChange {
	changes := []StepChange{}
	lr, rr := left.resultIndex(), right.resultIndex()
	n := max(len(left.Intents), len(right.Intents))
	for i := 0; i < n; i++ {
		if i >= len(left.Intents) || i >= len(right.Intents) {
			l, r := "", ""
			if i < len(left.Intents) {
				l = left.Intents[i].ToolName
			}
			if i < len(right.Intents) {
				r = right.Intents[i].ToolName
			}
			changes = append(changes, StepChange{Step: i + 1, Field: "presence", Left: l, Right: r})
			continue
		}
		li, ri := left.Intents[i], right.Intents[i]
		if li.ToolName != ri.ToolName {
			changes = append(changes, StepChange{i + 1, "tool_name", li.ToolName, ri.ToolName})
		}
		if li.ArgsDigest != ri.ArgsDigest {
			changes = append(changes, StepChange{i + 1, "args", li.ArgsDigest, ri.ArgsDigest})
		}
		lres, lok := lr[li.IntentID]
		rres, rok := rr[ri.IntentID]
		if lres.Status != rres.Status || lok != rok {
			changes = append(changes, StepChange{i + 1, "status", lres.Status, rres.Status})
		}
		if lres.ResultDigest != rres.ResultDigest {
			changes = append(changes, StepChange{i + 1, "result", lres.ResultDigest, rres.ResultDigest})
		}
	}
	return changes
}

// intentKeys maps a run's intent ids to their tool and arguments; a later
// record of the same id wins, as v1 reads them.
func (rp *Runpack) intentKeys() map[string]string {
	m := make(map[string]string, len(rp.Intents))
	for _, in := range rp.Intents {
		m[in.IntentID] = in.ToolName + "\x00" + in.ArgsDigest
	}
	return m
}

// resultKeys maps a run's intent ids to their result's status and digest;
// a later result for the same intent wins, as v1 reads them.
func (rp *Runpack) resultKeys() map[string]string {
	m := make(map[string]string, len(rp.Results))
	for _, r := range rp.Results {
		m[r.IntentID] = r.Status + "\x00" + r.ResultDigest
	}
	return m
}

// onlyIn lists, sorted, the keys of a that b lacks (nil when none).
func onlyIn(a, b map[string]string) []string {
	var out []string
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func refsEqual(a, b Refs) bool {
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

func (rp *Runpack) resultIndex() map[string]Result {
	m := make(map[string]Result, len(rp.Results))
	for _, r := range rp.Results {
		if _, dup := m[r.IntentID]; !dup {
			m[r.IntentID] = r
		}
	}
	return m
}

func (rp *Runpack) receiptDigests() []string {
	out := make([]string, 0, len(rp.Refs.Receipts))
	for _, raw := range rp.Refs.Receipts {
		var r struct {
			RefID         string `json:"ref_id"`
			ContentDigest string `json:"content_digest"`
		}
		_ = json.Unmarshal(raw, &r)
		out = append(out, r.RefID+" "+r.ContentDigest)
	}
	return out
}

// BehaviourLines renders what a run did as stable text lines, one block per
// step, for unified diffs: tool, arguments, status and result.
func (rp *Runpack) BehaviourLines() []string {
	results := rp.resultIndex()
	var lines []string
	for i, in := range rp.Intents {
		lines = append(lines, fmt.Sprintf("step %d: %s", i+1, in.ToolName))
		lines = append(lines, "  args: "+payloadText(in.Args, in.ArgsDigest))
		if r, ok := results[in.IntentID]; ok {
			lines = append(lines, "  status: "+r.Status)
			lines = append(lines, "  result: "+payloadText(r.Result, r.ResultDigest))
		} else {
			lines = append(lines, "  status: (no recorded result)")
		}
	}
	for _, d := range rp.receiptDigests() {
		lines = append(lines, "ref: "+d)
	}
	return lines
}

// payloadText shows a value when it was captured, its digest otherwise.
func payloadText(raw json.RawMessage, digest string) string {
	if len(raw) > 0 && len(raw) <= InlinePayload {
		return string(raw)
	}
	return "sha256:" + digest
}

func equalStrings(a, b []string) bool { return textdiff.FirstDifference(a, b) == -1 }
