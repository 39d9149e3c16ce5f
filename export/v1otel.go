package export

import (
	"bytes"
	"encoding/json"
)

// ScopeName is the instrumentation scope of every exported record.
const ScopeName = "gait.pack.export"

func (e *Export) integrityOK() bool {
	return e.HashMismatches == 0 && e.MissingFiles == 0 && e.UndeclaredFiles == 0
}

// attributes are the gait.* attributes every v1 record carries.
func (e *Export) attributes() map[string]any {
	return map[string]any{
		"gait.pack_id":           e.PackID,
		"gait.pack_type":         e.PackType,
		"gait.source_ref":        e.SourceRef,
		"gait.manifest_digest":   e.ManifestDigest,
		"gait.files_checked":     e.FilesChecked,
		"gait.hash_mismatches":   e.HashMismatches,
		"gait.missing_files":     e.MissingFiles,
		"gait.undeclared_files":  e.UndeclaredFiles,
		"gait.signature_status":  e.SignatureStatus,
		"gait.signatures_total":  e.SignaturesTotal,
		"gait.signatures_valid":  e.SignaturesValid,
		"gait.integrity_ok":      e.integrityOK(),
		"gait.tool_calls_total":  e.Metrics.ToolCallsTotal,
		"gait.tool_calls_ok":     e.Metrics.ToolCallsSuccess,
		"gait.policy_blocked":    e.Metrics.PolicyBlocked,
		"gait.approval_required": e.Metrics.ApprovalRequired,
		"gait.regress_failures":  e.Metrics.RegressFailures,
	}
}

// metric is one pack metric: an int or a double value.
type metric struct {
	name, unit string
	isDouble   bool
	i          int
	d          float64
}

func (e *Export) metrics() []metric {
	m := e.Metrics
	return []metric{
		{name: "gait.pack.tool_calls_total", unit: "1", i: m.ToolCallsTotal},
		{name: "gait.pack.tool_calls_success_total", unit: "1", i: m.ToolCallsSuccess},
		{name: "gait.pack.tool_calls_success_rate", unit: "ratio", isDouble: true, d: m.ToolCallsSuccessRate},
		{name: "gait.pack.policy_blocked_total", unit: "1", i: m.PolicyBlocked},
		{name: "gait.pack.approval_required_total", unit: "1", i: m.ApprovalRequired},
		{name: "gait.pack.regress_failures_total", unit: "1", i: m.RegressFailures},
	}
}

// V1Lines returns Gait v1's OpenTelemetry records, one JSON object a line:
// the gait.pack.verify span, the gait.pack.export.metadata event and one
// record per pack metric (record_type span, event, metric). The bytes are
// the ones v1 writes for the same pack.
func (e *Export) V1Lines() ([]byte, error) {
	traceID, spanID := e.ids()
	at := e.CreatedAt.UnixNano()
	attrs := e.attributes()
	code := "ok"
	if !e.integrityOK() {
		code = "error"
	}
	records := []map[string]any{
		{
			"record_type": "span", "trace_id": traceID, "span_id": spanID, "name": "gait.pack.verify",
			"start_time_unix_nano": at, "end_time_unix_nano": at, "status": map[string]any{"code": code},
			"attributes": attrs, "instrumentation_scope": ScopeName,
		},
		{
			"record_type": "event", "time_unix_nano": at, "severity_text": "INFO", "body": "gait.pack.export.metadata",
			"trace_id": traceID, "span_id": spanID, "attributes": attrs,
		},
	}
	for _, m := range e.metrics() {
		r := map[string]any{"record_type": "metric", "time_unix_nano": at, "name": m.name, "unit": m.unit, "attributes": attrs}
		if m.isDouble {
			r["value_double"] = m.d
		} else {
			r["value_int"] = m.i
		}
		records = append(records, r)
	}
	var buf bytes.Buffer
	for _, r := range records {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}
