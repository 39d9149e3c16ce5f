package export

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/pack/packtest"
)

// hostileTool is a tool name a pull request could commit.
const hostileTool = "tool'; DROP TABLE gait_pack_index; --\\ $$ \" x"

// runPack writes a run pack of the demo run with a blocked call, an
// approval request, an error and a hostile tool name, and returns its path.
func runPack(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	rp := filepath.Join(dir, "runpack.zip")
	packtest.Write(t, rp, func(r *pack.RunRecord) {
		r.Intents[0].ToolName = hostileTool
		r.Intents[1].CreatedAt = "2026-02-05T00:00:01Z"
		r.Results[1].CreatedAt = "2026-02-05T00:00:03Z"
		r.Results[1].Result = json.RawMessage(`{"verdict":"block"}`)
		r.Results[1].Status = "blocked"
		r.Results[2].Result = json.RawMessage(`{"verdict":"needs_approval","regress_status":"failed"}`)
		r.Results[2].Status = "error"
		r.Intents = append(r.Intents, r.Intents[2])
		r.Intents[3].IntentID, r.Intents[3].ToolName = "intent_4", "tool.flaky"
		r.Results = append(r.Results, r.Results[0])
		r.Results[3].IntentID, r.Results[3].Status, r.Results[3].Result = "intent_4", "timeout", json.RawMessage(`{"message":"gave up"}`)
	})
	p, err := pack.BuildRunPack(rp, pack.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "pack.zip")
	if err := p.WriteFile(out); err != nil {
		t.Fatal(err)
	}
	return out
}

func build(t *testing.T) *Export {
	t.Helper()
	e, err := Build(runPack(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestMetricsAsV1Counts(t *testing.T) {
	e := build(t)
	want := Metrics{ToolCallsTotal: 4, ToolCallsSuccess: 1, ToolCallsSuccessRate: 0.25, PolicyBlocked: 1, ApprovalRequired: 1, RegressFailures: 1}
	if e.Metrics != want {
		t.Fatalf("metrics %+v, want %+v", e.Metrics, want)
	}
	if e.SignatureStatus != "missing" || e.FilesChecked == 0 || len(e.Calls) != 4 {
		t.Fatalf("record %+v", e.Record)
	}
}

func TestV1Lines(t *testing.T) {
	e := build(t)
	b, err := e.V1Lines()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	var types []string
	for _, l := range lines {
		var r struct {
			RecordType string         `json:"record_type"`
			Attributes map[string]any `json:"attributes"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		types = append(types, r.RecordType)
		if r.Attributes["gait.pack_id"] != e.PackID {
			t.Fatalf("attributes %v", r.Attributes)
		}
	}
	if got := strings.Join(types, ","); got != "span,event,metric,metric,metric,metric,metric,metric" {
		t.Fatalf("record types %s", got)
	}
}

var hexID = regexp.MustCompile(`^[0-9a-f]+$`)

// idsToBase64 rewrites OTLP/JSON's hex trace and span ids into the base64
// that protojson reads for bytes fields, checking their length.
func idsToBase64(t *testing.T, v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && (k == "traceId" || k == "spanId" || k == "parentSpanId") {
				want := 32
				if k != "traceId" {
					want = 16
				}
				if len(s) != want || !hexID.MatchString(s) {
					t.Fatalf("%s %q is not %d lower-case hex digits", k, s, want)
				}
				raw, _ := hex.DecodeString(s)
				x[k] = base64.StdEncoding.EncodeToString(raw)
				continue
			}
			idsToBase64(t, val)
		}
	case []any:
		for _, val := range x {
			idsToBase64(t, val)
		}
	}
}

func unmarshalOTLP(t *testing.T, line []byte, m proto.Message) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(line, &doc); err != nil {
		t.Fatal(err)
	}
	idsToBase64(t, doc)
	b, _ := json.Marshal(doc)
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(b, m); err != nil {
		t.Fatalf("OTLP/JSON does not parse as %T: %v\n%s", m, err, line)
	}
}

func attrs(kv []*commonpb.KeyValue) map[string]*commonpb.AnyValue {
	m := map[string]*commonpb.AnyValue{}
	for _, a := range kv {
		m[a.Key] = a.Value
	}
	return m
}

func TestOTLPParses(t *testing.T) {
	e := build(t)
	b, err := e.OTLPLines("1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := e.OTLPLines("1.2.3")
	if !bytes.Equal(b, again) {
		t.Fatal("OTLP output is not deterministic")
	}
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	if len(lines) != 3 {
		t.Fatalf("%d lines, want traces, logs, metrics", len(lines))
	}
	var td tracepb.TracesData
	unmarshalOTLP(t, lines[0], &td)
	spans := td.ResourceSpans[0].ScopeSpans[0].Spans
	if len(spans) != 6 {
		t.Fatalf("%d spans, want the pack span, invoke_agent and 4 execute_tool", len(spans))
	}
	packSpan, agent := spans[0], spans[1]
	if packSpan.Name != "gait.pack.verify" || attrs(packSpan.Attributes)["gait.pack_id"].GetStringValue() != e.PackID {
		t.Fatalf("pack span %v", packSpan)
	}
	if hex.EncodeToString(packSpan.TraceId) != e.PackID[:32] || hex.EncodeToString(packSpan.SpanId) != e.PackID[32:48] {
		t.Fatal("pack span ids are not v1's")
	}
	if attrs(agent.Attributes)["gen_ai.operation.name"].GetStringValue() != "invoke_agent" || len(agent.Links) != 1 ||
		!bytes.Equal(agent.Links[0].SpanId, packSpan.SpanId) {
		t.Fatalf("agent span %v", agent)
	}
	seen := map[string]bool{}
	for i, s := range spans[2:] {
		a := attrs(s.Attributes)
		if a["gen_ai.operation.name"].GetStringValue() != "execute_tool" || a["gen_ai.tool.call.id"].GetStringValue() != e.Calls[i].IntentID ||
			a["gen_ai.tool.name"].GetStringValue() != e.Calls[i].ToolName || s.Name != "execute_tool "+e.Calls[i].ToolName {
			t.Fatalf("tool span %d: %v", i, s)
		}
		if !bytes.Equal(s.ParentSpanId, agent.SpanId) || !bytes.Equal(s.TraceId, agent.TraceId) {
			t.Fatalf("tool span %d is not a child of invoke_agent", i)
		}
		if seen[string(s.SpanId)] {
			t.Fatal("duplicate span id")
		}
		seen[string(s.SpanId)] = true
		if s.EndTimeUnixNano < s.StartTimeUnixNano {
			t.Fatalf("span %d ends before it starts", i)
		}
	}
	if spans[3].EndTimeUnixNano-spans[3].StartTimeUnixNano != 2e9 {
		t.Fatalf("blocked call lasts %d ns, want 2 s from intent to result", spans[3].EndTimeUnixNano-spans[3].StartTimeUnixNano)
	}
	if spans[4].Status.Code != tracepb.Status_STATUS_CODE_UNSET || attrs(spans[4].Attributes)["gait.verdict"].GetStringValue() != "require_approval" {
		t.Fatalf("approval call: %v", spans[4])
	}
	if spans[5].Status.Code != tracepb.Status_STATUS_CODE_ERROR || attrs(spans[5].Attributes)["error.type"].GetStringValue() != "timeout" {
		t.Fatalf("failed call: %v", spans[5])
	}
	var ld logspb.LogsData
	unmarshalOTLP(t, lines[1], &ld)
	rec := ld.ResourceLogs[0].ScopeLogs[0].LogRecords[0]
	if rec.Body.GetStringValue() != "gait.pack.export.metadata" || !bytes.Equal(rec.SpanId, packSpan.SpanId) {
		t.Fatalf("log record %v", rec)
	}
	var md metricspb.MetricsData
	unmarshalOTLP(t, lines[2], &md)
	got := map[string]string{}
	for _, m := range md.ResourceMetrics[0].ScopeMetrics[0].Metrics {
		dp := m.GetGauge().DataPoints[0]
		got[m.Name] = strings.TrimSpace(protojson.Format(dp))
		if m.Name == "gait.pack.policy_blocked_total" && dp.GetAsInt() != 1 {
			t.Fatalf("policy_blocked_total %v", dp)
		}
		if m.Name == "gait.pack.tool_calls_success_rate" && dp.GetAsDouble() != 0.25 {
			t.Fatalf("success rate %v", dp)
		}
	}
	if len(got) != 6 {
		t.Fatalf("%d metrics, want 6", len(got))
	}
}

func TestJobPackHasNoToolSpans(t *testing.T) {
	// A job pack exports v1's records only: its events are not tool calls.
	e := &Export{Record: Record{PackID: strings.Repeat("ab", 32), PackType: "job", CreatedAt: epoch}}
	b, err := e.OTLPLines("")
	if err != nil {
		t.Fatal(err)
	}
	var td tracepb.TracesData
	unmarshalOTLP(t, bytes.SplitN(b, []byte("\n"), 2)[0], &td)
	if n := len(td.ResourceSpans[0].ScopeSpans[0].Spans); n != 1 {
		t.Fatalf("%d spans, want 1", n)
	}
}

func TestBuildRefusesTamperedPack(t *testing.T) {
	path := runPack(t)
	b, _ := os.ReadFile(path)
	i := bytes.Index(b, []byte("run_payload.json"))
	b[i+len("run_payload.json")+40] ^= 1
	_ = os.WriteFile(path, b, 0o644)
	if _, err := Build(path, Options{}); exitcode.Of(err) == exitcode.OK {
		t.Fatal("a tampered pack was exported")
	}
	if _, err := Build(filepath.Join(t.TempDir(), "missing.zip"), Options{}); exitcode.Of(err) != exitcode.InvalidInput {
		t.Fatalf("missing pack: %v", err)
	}
}
