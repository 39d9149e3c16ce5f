package pack

import (
	"encoding/json"
	"fmt"

	"github.com/gait-dev/gait/internal/textdiff"
)

// DiffSummary says which parts of two runpacks differ.
type DiffSummary struct {
	RunIDLeft       string `json:"run_id_left"`
	RunIDRight      string `json:"run_id_right"`
	ManifestChanged bool   `json:"manifest_changed"`
	IntentsChanged  bool   `json:"intents_changed"`
	ResultsChanged  bool   `json:"results_changed"`
	RefsChanged     bool   `json:"refs_changed"`
}

// StepChange is one step whose tool call or result differs.
type StepChange struct {
	Step  int    `json:"step"`
	Field string `json:"field"` // tool_name | args | result | status | presence
	Left  string `json:"left"`
	Right string `json:"right"`
}

// DiffResult compares two runs by behaviour: the tool calls made, their
// arguments and results, and the references read. Run ids and timestamps
// are not behaviour and do not count as differences.
type DiffResult struct {
	OK      bool         `json:"ok"`
	Same    bool         `json:"same"`
	Summary DiffSummary  `json:"summary"`
	Changes []StepChange `json:"changes"`
	Unified string       `json:"unified_diff,omitempty"`
}

// Diff compares left and right.
func Diff(left, right *Runpack, leftName, rightName string) DiffResult {
	res := DiffResult{OK: true, Changes: []StepChange{}}
	res.Summary = DiffSummary{
		RunIDLeft:       left.Manifest.RunID,
		RunIDRight:      right.Manifest.RunID,
		ManifestChanged: left.Manifest.ManifestDigest != right.Manifest.ManifestDigest,
	}
	lr, rr := left.resultIndex(), right.resultIndex()
	n := max(len(left.Intents), len(right.Intents))
	for i := 0; i < n; i++ {
		if i >= len(left.Intents) || i >= len(right.Intents) {
			res.Summary.IntentsChanged = true
			l, r := "", ""
			if i < len(left.Intents) {
				l = left.Intents[i].ToolName
			}
			if i < len(right.Intents) {
				r = right.Intents[i].ToolName
			}
			res.Changes = append(res.Changes, StepChange{Step: i + 1, Field: "presence", Left: l, Right: r})
			continue
		}
		li, ri := left.Intents[i], right.Intents[i]
		if li.ToolName != ri.ToolName {
			res.Summary.IntentsChanged = true
			res.Changes = append(res.Changes, StepChange{i + 1, "tool_name", li.ToolName, ri.ToolName})
		}
		if li.ArgsDigest != ri.ArgsDigest {
			res.Summary.IntentsChanged = true
			res.Changes = append(res.Changes, StepChange{i + 1, "args", li.ArgsDigest, ri.ArgsDigest})
		}
		lres, lok := lr[li.IntentID]
		rres, rok := rr[ri.IntentID]
		if lres.Status != rres.Status || lok != rok {
			res.Summary.ResultsChanged = true
			res.Changes = append(res.Changes, StepChange{i + 1, "status", lres.Status, rres.Status})
		}
		if lres.ResultDigest != rres.ResultDigest {
			res.Summary.ResultsChanged = true
			res.Changes = append(res.Changes, StepChange{i + 1, "result", lres.ResultDigest, rres.ResultDigest})
		}
	}
	res.Summary.RefsChanged = !equalStrings(left.receiptDigests(), right.receiptDigests())
	res.Same = !res.Summary.IntentsChanged && !res.Summary.ResultsChanged && !res.Summary.RefsChanged
	if !res.Same {
		res.Unified = textdiff.Unified(leftName, rightName, left.BehaviourLines(), right.BehaviourLines())
	}
	return res
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
