package export

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// FuzzOTLPNames checks that whatever a run names its tools, intents and
// statuses, every OTLP line still parses with the OTLP protobuf mapping and
// the SQL literals read back.
func FuzzOTLPNames(f *testing.F) {
	f.Add("run_demo", "tool.search", "intent_1", "ok")
	f.Add("run'x", hostileTool, "intent\x00$$", "blocked")
	f.Add("\xff", "\u2028</script>", "\\", "error")
	f.Fuzz(func(t *testing.T, runID, tool, intent, status string) {
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		e := &Export{
			Record:       Record{PackID: strings.Repeat("ab", 32), PackType: "run", SourceRef: runID, CreatedAt: at},
			RunID:        runID,
			RunDigest:    strings.Repeat("cd", 32),
			RunCreatedAt: at,
			Calls:        []Call{{Seq: 0, IntentID: intent, ToolName: tool, Status: status, Verdict: "error", Start: at, End: at}},
		}
		b, err := e.OTLPLines("0.0.0-dev")
		if err != nil {
			t.Fatal(err)
		}
		var td tracepb.TracesData
		unmarshalOTLP(t, bytes.SplitN(b, []byte("\n"), 2)[0], &td)
		if n := len(td.ResourceSpans[0].ScopeSpans[0].Spans); n != 3 {
			t.Fatalf("%d spans", n)
		}
		for _, s := range []string{runID, tool, intent, status} {
			checkLiteral(t, s)
		}
	})
}
