package mcp

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/exitcode"
)

// DecisionLogLine is one line of --export-log-out: v1's decision event,
// field for field.
type DecisionLogLine struct {
	CreatedAt         string       `json:"created_at"`
	ProducerVersion   string       `json:"producer_version"`
	RunID             string       `json:"run_id"`
	SessionID         string       `json:"session_id,omitempty"`
	TraceID           string       `json:"trace_id"`
	TracePath         string       `json:"trace_path,omitempty"`
	ToolName          string       `json:"tool_name"`
	Verdict           gate.Verdict `json:"verdict"`
	ReasonCodes       []string     `json:"reason_codes"`
	PolicyDigest      string       `json:"policy_digest"`
	IntentDigest      string       `json:"intent_digest"`
	DecisionLatencyMS float64      `json:"decision_latency_ms"`
}

// DecisionOTelLine is one line of --export-otel-out: v1's OpenTelemetry
// log record of a decision (body gait.mcp.proxy.decision), with the
// intent's time.
type DecisionOTelLine struct {
	Attributes   DecisionOTelAttributes `json:"attributes"`
	Body         string                 `json:"body"`
	SeverityText string                 `json:"severity_text"`
	TimeUnixNano int64                  `json:"time_unix_nano"`
	TraceID      string                 `json:"trace_id"`
}

// DecisionOTelAttributes are the gait.* attributes of a decision record.
type DecisionOTelAttributes struct {
	DecisionLatencyMS float64      `json:"gait.decision_latency_ms"`
	DelegationDepth   int          `json:"gait.delegation_depth"`
	DelegationRef     string       `json:"gait.delegation_ref"`
	IntentDigest      string       `json:"gait.intent_digest"`
	PolicyDigest      string       `json:"gait.policy_digest"`
	ReasonCodes       []string     `json:"gait.reason_codes"`
	RunID             string       `json:"gait.run_id"`
	SessionID         string       `json:"gait.session_id"`
	ToolName          string       `json:"gait.tool_name"`
	TracePath         string       `json:"gait.trace_path"`
	Verdict           gate.Verdict `json:"gait.verdict"`
}

// DecisionOTelBody is the body of every decision record.
const DecisionOTelBody = "gait.mcp.proxy.decision"

// maxExportLine bounds one exported line; a longer one (a policy with
// thousands of reason codes) is refused rather than written.
const maxExportLine = 1 << 20

// jsonlAppender appends whole lines to one file. One appender serves all
// of a service's requests: a mutex makes each line a single write, so
// lines from concurrent requests never interleave, and nothing queues
// beyond the requests waiting for the lock.
type jsonlAppender struct {
	mu   sync.Mutex
	path string
	f    *os.File
}

func openAppender(path string) (*jsonlAppender, error) {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, exitcode.Invalidf("%s: cannot create the export folder: %v; pass a writable path", path, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, exitcode.Invalidf("%s: cannot open the export file: %v; pass a writable path", path, err)
	}
	return &jsonlAppender{path: path, f: f}, nil
}

func (a *jsonlAppender) append(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(b) > maxExportLine {
		return fmt.Errorf("%s: export line of %d bytes is over the %d byte limit", a.path, len(b), maxExportLine)
	}
	b = append(b, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.f.Write(b); err != nil {
		return fmt.Errorf("%s: cannot append the export line: %w", a.path, err)
	}
	return nil
}

func (a *jsonlAppender) close() error {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.f.Close()
}

// exportDecision appends the decision to the configured exports.
func (s *Service) exportDecision(in *gate.Intent, out gate.Outcome, res *EvaluateResponse) error {
	if s.logOut == nil && s.otelOut == nil {
		return nil
	}
	created := in.CreatedAt
	if created.IsZero() {
		created = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	traceID := res.TraceID
	if traceID == "" {
		traceID = gate.TraceID(in, out)
	}
	if s.logOut != nil {
		if err := s.logOut.append(DecisionLogLine{
			CreatedAt: created.UTC().Format(time.RFC3339Nano), ProducerVersion: s.version(), RunID: res.RunID, SessionID: in.Context.SessionID,
			TraceID: traceID, TracePath: res.TracePath, ToolName: res.ToolName, Verdict: res.Verdict, ReasonCodes: res.ReasonCodes,
			PolicyDigest: res.PolicyDigest, IntentDigest: res.IntentDigest, DecisionLatencyMS: res.DecisionLatencyMS,
		}); err != nil {
			return err
		}
		res.LogExport = s.logOut.path
	}
	if s.otelOut != nil {
		depth := 0
		if in.Delegation != nil {
			depth = len(in.Delegation.Chain)
		}
		if err := s.otelOut.append(DecisionOTelLine{
			Attributes: DecisionOTelAttributes{
				DecisionLatencyMS: res.DecisionLatencyMS, DelegationDepth: depth, DelegationRef: out.DelegationRef,
				IntentDigest: res.IntentDigest, PolicyDigest: res.PolicyDigest, ReasonCodes: res.ReasonCodes, RunID: res.RunID,
				SessionID: in.Context.SessionID, ToolName: res.ToolName, TracePath: res.TracePath, Verdict: res.Verdict,
			},
			Body: DecisionOTelBody, SeverityText: "INFO", TimeUnixNano: created.UnixNano(), TraceID: traceID,
		}); err != nil {
			return err
		}
		res.OTelExport = s.otelOut.path
	}
	return nil
}

func (s *Service) version() string {
	if s.o.Version == "" {
		return "0.0.0-dev"
	}
	return s.o.Version
}
