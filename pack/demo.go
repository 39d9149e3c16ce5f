package pack

import (
	"encoding/json"
	"fmt"
)

// DemoRunID is the run id of the built-in demo run.
const DemoRunID = "run_demo"

// DemoRecord returns the built-in demo run: an agent that searches, fetches a
// page and summarizes it. Its data is fixed, so the demo runpack has the same
// bytes (and manifest digest) everywhere, as Gait v1's demo does.
func DemoRecord() *RunRecord {
	const at = "2026-02-05T00:00:00Z"
	const pv = "0.0.0-dev"
	rec := &RunRecord{
		Run: Run{
			CreatedAt: at, ProducerVersion: pv, RunID: DemoRunID,
			Env:      json.RawMessage(`{"arch":"demo","os":"demo","runtime":"go"}`),
			Timeline: json.RawMessage(`[{"event":"start","ts":"2026-02-05T00:00:00Z"},{"event":"finish","ts":"2026-02-05T00:00:02Z"}]`),
		},
		Refs: Refs{CreatedAt: at, ProducerVersion: pv},
	}
	steps := []struct{ tool, args string }{
		{"tool.search", `{"query":"gait demo: offline verification"}`},
		{"tool.fetch", `{"url":"https://example.local/demo"}`},
		{"tool.summarize", `{"input_ref":"ref_1"}`},
	}
	// The demo's receipts carry digests of fixed demo queries and content.
	receipts := [][2]string{
		{"8d26786e78884f230bfa85f4909203158ab8ee8d1594552d44683022f3648cde", "1ef0ae7bbe4ce6c99ab744fe8c27582178d69c660538ef6a4b201cf5a944e17a"},
		{"4719075bc5d7eda1eaafc8cd29f8fa36c3bb9371b5f03bc1476874cba2afd892", "3460ebae1c45bfd069074b365281354cfdf41b82ffb05c7eedd6775446fcd3a4"},
		{"f16b050b60285df8e76b18f5f239fabab9a9d349f0462032d434fcb393e33f70", "971212bd7810de3b6630bf22a40a0e85d0360ee99f74e58e6b1ed8668b157501"},
	}
	for i, s := range steps {
		id := fmt.Sprintf("intent_%d", i+1)
		rec.Intents = append(rec.Intents, Intent{IntentID: id, ToolName: s.tool, Args: json.RawMessage(s.args), CreatedAt: at, ProducerVersion: pv})
		rec.Results = append(rec.Results, Result{
			IntentID: id, Status: "ok", CreatedAt: at, ProducerVersion: pv,
			Result: json.RawMessage(fmt.Sprintf(`{"message":"demo result %d","ok":true}`, i+1)),
		})
		receipt := fmt.Sprintf(`{"content_digest":%q,"immutability":"unknown","query_digest":%q,"redaction_mode":"reference","ref_id":"ref_%d","retrieved_at":%q,"source_locator":%q,"source_type":"demo"}`,
			receipts[i][1], receipts[i][0], i+1, at, s.tool)
		rec.Refs.Receipts = append(rec.Refs.Receipts, json.RawMessage(receipt))
	}
	return rec
}
