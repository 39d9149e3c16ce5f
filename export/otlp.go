package export

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"time"

	"github.com/gait-dev/gait/internal/digest"
)

// The OTLP/JSON encoding (the OpenTelemetry protocol's JSON mapping, which
// a collector's otlpjsonfile receiver reads): lowerCamelCase keys, 64-bit
// integers as decimal strings, trace and span ids as hex, enums as numbers.
type (
	anyValue struct {
		StringValue *string  `json:"stringValue,omitempty"`
		BoolValue   *bool    `json:"boolValue,omitempty"`
		IntValue    *string  `json:"intValue,omitempty"`
		DoubleValue *float64 `json:"doubleValue,omitempty"`
	}
	keyValue struct {
		Key   string   `json:"key"`
		Value anyValue `json:"value"`
	}
	resource struct {
		Attributes []keyValue `json:"attributes"`
	}
	scope struct {
		Name    string `json:"name"`
		Version string `json:"version,omitempty"`
	}
	status struct {
		Code    int    `json:"code,omitempty"`
		Message string `json:"message,omitempty"`
	}
	link struct {
		TraceID    string     `json:"traceId"`
		SpanID     string     `json:"spanId"`
		Attributes []keyValue `json:"attributes,omitempty"`
	}
	span struct {
		TraceID           string     `json:"traceId"`
		SpanID            string     `json:"spanId"`
		ParentSpanID      string     `json:"parentSpanId,omitempty"`
		Name              string     `json:"name"`
		Kind              int        `json:"kind"`
		StartTimeUnixNano string     `json:"startTimeUnixNano"`
		EndTimeUnixNano   string     `json:"endTimeUnixNano"`
		Attributes        []keyValue `json:"attributes"`
		Links             []link     `json:"links,omitempty"`
		Status            status     `json:"status"`
	}
	scopeSpans struct {
		Scope scope  `json:"scope"`
		Spans []span `json:"spans"`
	}
	resourceSpans struct {
		Resource   resource     `json:"resource"`
		ScopeSpans []scopeSpans `json:"scopeSpans"`
	}
	tracesData struct {
		ResourceSpans []resourceSpans `json:"resourceSpans"`
	}
	logRecord struct {
		TimeUnixNano         string     `json:"timeUnixNano"`
		ObservedTimeUnixNano string     `json:"observedTimeUnixNano"`
		SeverityNumber       int        `json:"severityNumber"`
		SeverityText         string     `json:"severityText"`
		Body                 anyValue   `json:"body"`
		Attributes           []keyValue `json:"attributes"`
		TraceID              string     `json:"traceId"`
		SpanID               string     `json:"spanId"`
	}
	scopeLogs struct {
		Scope      scope       `json:"scope"`
		LogRecords []logRecord `json:"logRecords"`
	}
	resourceLogs struct {
		Resource  resource    `json:"resource"`
		ScopeLogs []scopeLogs `json:"scopeLogs"`
	}
	logsData struct {
		ResourceLogs []resourceLogs `json:"resourceLogs"`
	}
	dataPoint struct {
		Attributes   []keyValue `json:"attributes"`
		TimeUnixNano string     `json:"timeUnixNano"`
		AsInt        *string    `json:"asInt,omitempty"`
		AsDouble     *float64   `json:"asDouble,omitempty"`
	}
	gauge struct {
		DataPoints []dataPoint `json:"dataPoints"`
	}
	otlpMetric struct {
		Name  string `json:"name"`
		Unit  string `json:"unit"`
		Gauge gauge  `json:"gauge"`
	}
	scopeMetrics struct {
		Scope   scope        `json:"scope"`
		Metrics []otlpMetric `json:"metrics"`
	}
	resourceMetrics struct {
		Resource     resource       `json:"resource"`
		ScopeMetrics []scopeMetrics `json:"scopeMetrics"`
	}
	metricsData struct {
		ResourceMetrics []resourceMetrics `json:"resourceMetrics"`
	}
)

// Span kinds and status codes of the OTLP enums.
const (
	kindInternal = 1
	statusOK     = 1
	statusError  = 2
	severityInfo = 9
)

func str(k, v string) keyValue { return keyValue{Key: k, Value: anyValue{StringValue: &v}} }
func integer(k string, v int) keyValue {
	s := strconv.Itoa(v)
	return keyValue{Key: k, Value: anyValue{IntValue: &s}}
}
func boolean(k string, v bool) keyValue { return keyValue{Key: k, Value: anyValue{BoolValue: &v}} }

func nanos(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

// otlpAttributes converts v1's attribute map, sorted by key.
func otlpAttributes(m map[string]any) []keyValue {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]keyValue, 0, len(keys))
	for _, k := range keys {
		switch v := m[k].(type) {
		case string:
			out = append(out, str(k, v))
		case int:
			out = append(out, integer(k, v))
		case bool:
			out = append(out, boolean(k, v))
		}
	}
	return out
}

// Resource attributes of every OTLP line.
func (e *Export) resource(producer string) resource {
	attrs := []keyValue{str("service.name", "gait")}
	if producer != "" {
		attrs = append(attrs, str("service.version", producer))
	}
	return resource{Attributes: attrs}
}

// runTraceID is the trace of a run's GenAI spans: the first 32 hex digits
// of the runpack's manifest digest, so every export of the same run (from
// any pack that embeds it) lands in one trace.
func (e *Export) runTraceID() string {
	if digest.Valid(e.RunDigest) {
		return e.RunDigest[:32]
	}
	return digest.Bytes([]byte("run|" + e.RunID))[:32]
}

// agentSpanID is the span id of the run's invoke_agent span.
func (e *Export) agentSpanID() string {
	return digest.Bytes([]byte(e.RunDigest + "|invoke_agent"))[:16]
}

// callIDs are the trace and span id of a tool call's execute_tool span:
// the run's trace and 16 hex digits derived from the run digest and the
// call's intent id and position.
func (e *Export) callIDs(c Call) (traceID, spanID string) {
	return e.runTraceID(), digest.Bytes([]byte(e.RunDigest + "|" + strconv.Itoa(c.Seq) + "|" + c.IntentID))[:16]
}

// GenAI semantic-convention attribute names used on tool spans.
const (
	attrOperation = "gen_ai.operation.name"
	attrToolName  = "gen_ai.tool.name"
	attrToolCall  = "gen_ai.tool.call.id"
	attrConvID    = "gen_ai.conversation.id"
	attrErrorType = "error.type"
)

// genAISpans maps a run's tool calls to OpenTelemetry GenAI spans: one
// invoke_agent span for the run and one execute_tool child per call, in a
// trace of their own linked to the pack's gait.pack.verify span.
func (e *Export) genAISpans(packTrace, packSpan string) []span {
	if e.RunDigest == "" {
		return nil
	}
	traceID, agentID := e.runTraceID(), e.agentSpanID()
	start, end := e.RunCreatedAt, e.RunCreatedAt
	for i, c := range e.Calls {
		if i == 0 || c.Start.Before(start) {
			start = c.Start
		}
		if c.End.After(end) {
			end = c.End
		}
	}
	if end.Before(start) {
		end = start
	}
	agent := span{
		TraceID: traceID, SpanID: agentID, Name: "invoke_agent", Kind: kindInternal,
		StartTimeUnixNano: nanos(start), EndTimeUnixNano: nanos(end),
		Attributes: []keyValue{
			str(attrConvID, e.RunID),
			str(attrOperation, "invoke_agent"),
			str("gait.pack_id", e.PackID),
			str("gait.run_id", e.RunID),
			str("gait.runpack.manifest_digest", e.RunDigest),
			integer("gait.tool_calls_total", len(e.Calls)),
		},
		Links:  []link{{TraceID: packTrace, SpanID: packSpan, Attributes: []keyValue{str("gait.link", "pack")}}},
		Status: status{Code: statusOK},
	}
	out := []span{agent}
	for _, c := range e.Calls {
		_, id := e.callIDs(c)
		attrs := []keyValue{
			str(attrConvID, e.RunID),
			str(attrOperation, "execute_tool"),
			str(attrToolCall, c.IntentID),
			str(attrToolName, c.ToolName),
			str("gait.args_digest", c.ArgsDigest),
			str("gait.run_id", e.RunID),
			integer("gait.step", c.Seq),
		}
		st := status{Code: statusOK}
		switch c.Status {
		case "":
			attrs = append(attrs, str("gait.result.status", "missing"))
			st = status{}
		default:
			attrs = append(attrs, str("gait.result.status", c.Status), str("gait.result_digest", c.ResultDigest), str("gait.verdict", c.Verdict))
			if c.Verdict == "error" {
				attrs = append(attrs, str(attrErrorType, c.Status))
				st = status{Code: statusError, Message: c.Status}
			} else if c.Verdict != "allow" {
				st = status{}
			}
		}
		sortAttrs(attrs)
		out = append(out, span{
			TraceID: traceID, SpanID: id, ParentSpanID: agentID, Name: "execute_tool " + c.ToolName, Kind: kindInternal,
			StartTimeUnixNano: nanos(c.Start), EndTimeUnixNano: nanos(c.End), Attributes: attrs, Status: st,
		})
	}
	return out
}

func sortAttrs(a []keyValue) { sort.Slice(a, func(i, j int) bool { return a[i].Key < a[j].Key }) }

// OTLPLines returns the export as OTLP/JSON, one document a line, as a
// collector's otlpjsonfile receiver reads them: a TracesData line (v1's
// gait.pack.verify span and, for a run pack, the run's GenAI spans), a
// LogsData line (v1's gait.pack.export.metadata event) and a MetricsData
// line (v1's pack metrics as gauges). Every v1 record keeps its gait.*
// attributes.
func (e *Export) OTLPLines(producer string) ([]byte, error) {
	packTrace, packSpan := e.ids()
	at := nanos(e.CreatedAt)
	attrs := otlpAttributes(e.attributes())
	res := e.resource(producer)
	sc := scope{Name: ScopeName, Version: producer}

	st := status{Code: statusOK}
	if !e.integrityOK() {
		st = status{Code: statusError}
	}
	spans := append([]span{{
		TraceID: packTrace, SpanID: packSpan, Name: "gait.pack.verify", Kind: kindInternal,
		StartTimeUnixNano: at, EndTimeUnixNano: at, Attributes: attrs, Status: st,
	}}, e.genAISpans(packTrace, packSpan)...)
	td := tracesData{ResourceSpans: []resourceSpans{{Resource: res, ScopeSpans: []scopeSpans{{Scope: sc, Spans: spans}}}}}

	body := "gait.pack.export.metadata"
	ld := logsData{ResourceLogs: []resourceLogs{{Resource: res, ScopeLogs: []scopeLogs{{Scope: sc, LogRecords: []logRecord{{
		TimeUnixNano: at, ObservedTimeUnixNano: at, SeverityNumber: severityInfo, SeverityText: "INFO",
		Body: anyValue{StringValue: &body}, Attributes: attrs, TraceID: packTrace, SpanID: packSpan,
	}}}}}}}

	var ms []otlpMetric
	for _, m := range e.metrics() {
		om := otlpMetric{Name: m.name, Unit: m.unit}
		dp := dataPoint{Attributes: attrs, TimeUnixNano: at}
		if m.isDouble {
			d := m.d
			dp.AsDouble = &d
		} else {
			s := strconv.Itoa(m.i)
			dp.AsInt = &s
		}
		om.Gauge.DataPoints = []dataPoint{dp}
		ms = append(ms, om)
	}
	md := metricsData{ResourceMetrics: []resourceMetrics{{Resource: res, ScopeMetrics: []scopeMetrics{{Scope: sc, Metrics: ms}}}}}

	var buf bytes.Buffer
	for _, doc := range []any{td, ld, md} {
		b, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}
