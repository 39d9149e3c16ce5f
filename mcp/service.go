package mcp

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/job"
	"github.com/gait-dev/gait/pack"
)

// DefaultMaxRequestBytes bounds a request body of the gate service.
const DefaultMaxRequestBytes = 1 << 20

// Retention bounds the files the service keeps in one artifact folder:
// files older than MaxAge and all but the newest MaxCount are removed
// (zero disables a bound).
type Retention struct {
	MaxAge   time.Duration
	MaxCount int
}

// ServiceOptions configure the gate service.
type ServiceOptions struct {
	Policy *gate.Policy
	// Adapter is the call format used when a request names none.
	Adapter string
	// AuthToken, when set, is the bearer token every evaluate request must
	// carry (compared in constant time). /healthz is always open.
	AuthToken string
	// MaxRequestBytes bounds a request body (DefaultMaxRequestBytes when 0).
	MaxRequestBytes int64
	// StrictStatus maps verdicts to HTTP statuses (block 403,
	// require_approval and dry_run 409); otherwise every decision is 200.
	StrictStatus bool
	// AllowClientArtifactPaths lets a request name trace_path,
	// runpack_out, pack_out and session_journal (relative, local paths
	// only); otherwise such a request is refused.
	AllowClientArtifactPaths bool
	// LocalCaller marks requests made by the local user (mcp bridge), not
	// by a network client: their artifact paths may be any path.
	LocalCaller bool
	// Artifact folders; empty disables the artifact. Each has a retention.
	TraceDir, RunpackDir, PackDir, SessionDir                         string
	TraceRetention, RunpackRetention, PackRetention, SessionRetention Retention
	// Limits counts rate limits and destructive budgets.
	Limits *gate.Limits
	// JobRoot is the jobs directory a call's context.job_id is looked up
	// in for the emergency stop (job.DefaultRoot when empty).
	JobRoot string
	// Envelope is the context envelope every call's context evidence
	// comes from (nil: none; evidence a call carries is never used).
	Envelope *gate.ContextEnvelope
	// Broker issues credentials for allows from rules with
	// require_broker_credential (nil: such an allow is blocked,
	// broker_credential_required).
	Broker *gate.Broker
	// LogExport and OTelExport, when set, are files that get one line
	// per decision (v1's --export-log-out and --export-otel-out).
	LogExport, OTelExport string
	// PrivateKey signs traces and packs when set.
	PrivateKey ed25519.PrivateKey
	Version    string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Service is the gate as an HTTP service (v1's `mcp serve --policy`): a
// dispatcher in any language posts a tool call and gets the verdict. The
// policy is compiled once; a request costs one evaluation and, when
// configured, the artifacts it asks for.
type Service struct {
	o        ServiceOptions
	tokenSum [32]byte
	pruners  map[string]*pruner
	bufs     sync.Pool
	logOut   *jsonlAppender
	otelOut  *jsonlAppender
}

// NewService checks the options.
func NewService(o ServiceOptions) (*Service, error) {
	if o.Policy == nil {
		return nil, exitcode.Invalidf("the gate service needs --policy P")
	}
	if o.Adapter == "" {
		o.Adapter = "mcp"
	}
	if !ValidAdapter(o.Adapter) {
		return nil, exitcode.Invalidf("--adapter %q is not one of %s", o.Adapter, strings.Join(Adapters, ", "))
	}
	if o.MaxRequestBytes < 0 {
		return nil, exitcode.Invalidf("--max-request-bytes must be > 0")
	}
	if o.MaxRequestBytes == 0 {
		o.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Limits == nil {
		o.Limits = gate.NewMemoryLimits()
	}
	s := &Service{o: o, pruners: map[string]*pruner{}}
	if o.AuthToken != "" {
		s.tokenSum = sha256.Sum256([]byte(o.AuthToken))
	}
	for dir, r := range map[string]Retention{o.TraceDir: o.TraceRetention, o.RunpackDir: o.RunpackRetention, o.PackDir: o.PackRetention, o.SessionDir: o.SessionRetention} {
		if dir != "" {
			if r.MaxAge < 0 || r.MaxCount < 0 {
				return nil, exitcode.Invalidf("%s: retention bounds must be >= 0", dir)
			}
			s.pruners[dir] = &pruner{dir: dir, r: r}
		}
	}
	s.bufs.New = func() any { return new(bytes.Buffer) }
	var err error
	if o.LogExport != "" {
		if s.logOut, err = openAppender(o.LogExport); err != nil {
			return nil, err
		}
	}
	if o.OTelExport != "" {
		if s.otelOut, err = openAppender(o.OTelExport); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close closes the export files.
func (s *Service) Close() error {
	return errors.Join(s.logOut.close(), s.otelOut.close())
}

// CheckListen refuses a listen address that is not on the loopback
// interface unless requests are authenticated.
func CheckListen(addr string, authenticated bool) error {
	if strings.TrimSpace(addr) == "" {
		return exitcode.Invalidf("--listen is empty; pass an address such as 127.0.0.1:8787")
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return exitcode.Invalidf("--listen %s: %v; pass host:port such as 127.0.0.1:8787", addr, err)
	}
	if isLoopback(host) || authenticated {
		return nil
	}
	return exitcode.Invalidf("--listen %s is not a loopback address; pass --auth-mode token --auth-token-env VAR to serve it, or listen on 127.0.0.1", addr)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// EvaluateRequest is the body of POST /v1/evaluate. Unknown fields are
// refused.
type EvaluateRequest struct {
	Adapter            string          `json:"adapter,omitempty"`
	RunID              string          `json:"run_id,omitempty"`
	SessionID          string          `json:"session_id,omitempty"`
	SessionJournal     string          `json:"session_journal,omitempty"`
	CheckpointInterval int             `json:"checkpoint_interval,omitempty"`
	EmitRunpack        bool            `json:"emit_runpack,omitempty"`
	EmitPack           bool            `json:"emit_pack,omitempty"`
	RunpackOut         string          `json:"runpack_out,omitempty"`
	PackOut            string          `json:"pack_out,omitempty"`
	TracePath          string          `json:"trace_path,omitempty"`
	Call               json.RawMessage `json:"call"`
}

// EvaluateResponse is the service's answer for one call. Executed is
// always false: the service decides, the dispatcher runs the tool only on
// allow.
type EvaluateResponse struct {
	OK bool `json:"ok"`
	// CorrelationID ties mcp bridge's answer to its logs, as v1's does
	// (see CorrelationID); the service's responses carry none.
	CorrelationID     string            `json:"correlation_id,omitempty"`
	Executed          bool              `json:"executed"`
	Adapter           string            `json:"adapter"`
	RunID             string            `json:"run_id"`
	JobID             string            `json:"job_id,omitempty"`
	Phase             string            `json:"phase"`
	SessionID         string            `json:"session_id,omitempty"`
	ToolName          string            `json:"tool_name"`
	Verdict           gate.Verdict      `json:"verdict"`
	ReasonCodes       []string          `json:"reason_codes"`
	Violations        []string          `json:"violations,omitempty"`
	MatchedRule       string            `json:"matched_rule,omitempty"`
	PolicyDigest      string            `json:"policy_digest"`
	PolicyID          string            `json:"policy_id"`
	PolicyVersion     string            `json:"policy_version"`
	IntentDigest      string            `json:"intent_digest,omitempty"`
	DecisionLatencyMS float64           `json:"decision_latency_ms"`
	TraceID           string            `json:"trace_id,omitempty"`
	TracePath         string            `json:"trace_path,omitempty"`
	RunpackPath       string            `json:"runpack_path,omitempty"`
	PackPath          string            `json:"pack_path,omitempty"`
	SessionJournal    string            `json:"session_journal,omitempty"`
	LogExport         string            `json:"log_export,omitempty"`
	OTelExport        string            `json:"otel_export,omitempty"`
	MCPTrust          *gate.TrustResult `json:"mcp_trust,omitempty"`
	CredentialIssuer  string            `json:"credential_issuer,omitempty"`
	CredentialRef     string            `json:"credential_ref,omitempty"`
	// CredentialRecord is the gait.gate.broker_credential_record of a
	// brokered credential (references only), for the caller to keep; it
	// is not part of the response body.
	CredentialRecord *gate.CredentialRecord `json:"-"`
	Warnings         []string               `json:"warnings"`
	Relationship     *gate.Relationship     `json:"relationship,omitempty"`
	ExitCode         int                    `json:"exit_code"`
}

// RequestError is a request the service refuses, with its HTTP status.
type RequestError struct {
	Status int
	Msg    string
}

func (e *RequestError) Error() string { return e.Msg }

func badRequest(format string, args ...any) *RequestError {
	return &RequestError{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// DecodeEvaluateRequest decodes one request body: a single JSON object
// with known fields and a call.
func DecodeEvaluateRequest(data []byte) (EvaluateRequest, error) {
	var req EvaluateRequest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return EvaluateRequest{}, badRequest("decode request: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return EvaluateRequest{}, badRequest("request body must contain a single JSON object")
	}
	if c := bytes.TrimSpace(req.Call); len(c) == 0 || string(c) == "null" {
		return EvaluateRequest{}, badRequest("request.call is required")
	}
	if req.CheckpointInterval < 0 {
		return EvaluateRequest{}, badRequest("request.checkpoint_interval must be >= 0")
	}
	return req, nil
}

// Handler serves GET /healthz, POST /v1/evaluate (JSON), POST
// /v1/evaluate/sse (one text/event-stream event) and POST
// /v1/evaluate/stream (one application/x-ndjson line).
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeError(w, http.StatusMethodNotAllowed, "expected GET")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true,"service":"gait.mcp.serve"}`+"\n")
	})
	mux.HandleFunc("/v1/evaluate", func(w http.ResponseWriter, r *http.Request) { s.serveEvaluate(w, r, "json") })
	mux.HandleFunc("/v1/evaluate/sse", func(w http.ResponseWriter, r *http.Request) { s.serveEvaluate(w, r, "sse") })
	mux.HandleFunc("/v1/evaluate/stream", func(w http.ResponseWriter, r *http.Request) { s.serveEvaluate(w, r, "ndjson") })
	return mux
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
		OK    bool   `json:"ok"`
	}{msg, false})
	_, _ = w.Write(append(b, '\n'))
}

func (s *Service) authorized(r *http.Request) (bool, string) {
	if s.o.AuthToken == "" {
		return true, ""
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return false, "missing bearer authorization"
	}
	sum := sha256.Sum256([]byte(tok))
	if subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) != 1 {
		return false, "invalid bearer authorization"
	}
	return true, ""
}

func (s *Service) serveEvaluate(w http.ResponseWriter, r *http.Request, format string) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "expected POST")
		return
	}
	if ok, msg := s.authorized(r); !ok {
		writeError(w, http.StatusUnauthorized, msg)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "content-type must be application/json")
		return
	}
	if r.ContentLength > s.o.MaxRequestBytes {
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusRequestEntityTooLarge, "request body exceeds max-request-bytes")
		return
	}
	buf := s.bufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 {
			buf.Reset()
			s.bufs.Put(buf)
		}
	}()
	buf.Reset()
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.o.MaxRequestBytes)); err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			writeError(w, http.StatusRequestEntityTooLarge, "request body exceeds max-request-bytes")
			return
		}
		writeError(w, http.StatusBadRequest, "read request: "+err.Error())
		return
	}
	req, err := DecodeEvaluateRequest(buf.Bytes())
	if err != nil {
		var re *RequestError
		errors.As(err, &re)
		writeError(w, re.Status, re.Msg)
		return
	}
	res, err := s.Evaluate(req)
	if err != nil {
		var re *RequestError
		if errors.As(err, &re) {
			writeError(w, re.Status, re.Msg)
			return
		}
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	status := http.StatusOK
	if s.o.StrictStatus {
		status = StrictStatus(res.Verdict)
	}
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	h := w.Header()
	switch format {
	case "sse":
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("Connection", "keep-alive")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "event: evaluate\ndata: ")
		_, _ = w.Write(bytes.TrimRight(buf.Bytes(), "\n"))
		_, _ = io.WriteString(w, "\n\n")
	case "ndjson":
		h.Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(status)
		_, _ = w.Write(buf.Bytes())
	default:
		h.Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(buf.Bytes())
	}
	if f, ok := w.(http.Flusher); ok && format != "json" {
		f.Flush()
	}
}

// StrictStatus is the HTTP status of a verdict under
// --http-verdict-status strict: allow 200, block 403, require_approval and
// dry_run 409 (dry_run did not run either).
func StrictStatus(v gate.Verdict) int {
	switch v {
	case gate.Allow:
		return http.StatusOK
	case gate.RequireApproval, gate.DryRun:
		return http.StatusConflict
	}
	return http.StatusForbidden
}

// Evaluate decides one request: it is the service without HTTP. The
// decision is the one gate eval and the MCP proxy make for a tool call
// (policy with the context envelope's evidence, rate limits and budgets,
// no tokens), with the policy's mcp_trust applied to the call's server,
// the emergency stop of the call's job, and the credential broker for an
// allow that needs one.
func (s *Service) Evaluate(req EvaluateRequest) (EvaluateResponse, error) {
	start := time.Now()
	adapter := req.Adapter
	if adapter == "" {
		adapter = s.o.Adapter
	}
	if !ValidAdapter(adapter) {
		return EvaluateResponse{}, badRequest("unsupported adapter: %s", adapter)
	}
	if err := s.checkArtifactRequest(req); err != nil {
		return EvaluateResponse{}, err
	}
	if req.RunID != "" && !pack.ValidRunID(normRunID(req.RunID)) {
		return EvaluateResponse{}, badRequest("request.run_id %q is invalid; use letters, digits, '_' or '-'", req.RunID)
	}
	call, err := ParseAdapterCall(adapter, req.Call)
	if err != nil {
		return EvaluateResponse{}, badRequest("%v", err)
	}
	return s.decide(req, adapter, call, start)
}

// EvaluateParsed is Evaluate for a call already read in the mcp adapter's
// terms: mcp proxy --call reads more call formats (a JSON-RPC tools/call
// request, {"tool_name", "args"}) than the adapters do. req.Call is
// ignored.
func (s *Service) EvaluateParsed(req EvaluateRequest, call ToolCallRequest) (EvaluateResponse, error) {
	start := time.Now()
	if err := s.checkArtifactRequest(req); err != nil {
		return EvaluateResponse{}, err
	}
	if req.RunID != "" && !pack.ValidRunID(normRunID(req.RunID)) {
		return EvaluateResponse{}, badRequest("request.run_id %q is invalid; use letters, digits, '_' or '-'", req.RunID)
	}
	return s.decide(req, "mcp", AdapterCall{Tool: call.Tool, Args: call.Args, Canonical: call.Canonical,
		Context: gate.ToolCallContext{RiskClass: call.RiskClass}, Server: call.Server, Request: call.Request}, start)
}

// decide evaluates one parsed call and writes the artifacts it asks for.
func (s *Service) decide(req EvaluateRequest, adapter string, call AdapterCall, start time.Time) (EvaluateResponse, error) {
	var err error
	now := s.o.Now()
	p := s.o.Policy
	// v1 names the run after the call's intent as the adapter read it,
	// before the envelope applies and the call's own evidence is dropped
	var runDigest string
	if req.RunID == "" && (s.o.Envelope != nil || gate.HasContextEvidence(call.Request.Context)) {
		if pre, err := gate.Normalize(call.Request); err == nil {
			runDigest = pre.IntentDigest
		}
	}
	if err := gate.ApplyContextEnvelope(&call.Request, s.o.Envelope, now); err != nil {
		return EvaluateResponse{}, badRequest("%v", err)
	}
	var d gate.Decision
	in, nerr := gate.Normalize(call.Request)
	if nerr != nil {
		// blocked when the policy fails closed for the risk class, else refused
		if d, _, err = p.EvaluateRequest(call.Request); err != nil {
			return EvaluateResponse{}, badRequest("%v", err)
		}
		in = nil
	} else {
		d = p.Evaluate(in)
	}
	res := EvaluateResponse{OK: true, Adapter: adapter, Phase: "apply", SessionID: req.SessionID, ToolName: call.Tool,
		PolicyDigest: p.Digest(), PolicyID: gate.PolicySchemaID, PolicyVersion: gate.SchemaVersion}
	if in != nil {
		if d, _, err = s.o.Limits.Apply(d, in, now); err != nil {
			return EvaluateResponse{}, err
		}
		if res.SessionID == "" {
			res.SessionID = in.Context.SessionID
		}
		res.IntentDigest = in.IntentDigest
		if in.Context.Phase != "" {
			res.Phase = in.Context.Phase
		}
	}
	if mt := p.MCPTrust(); mt != nil {
		var server gate.MCPServer
		if call.Server != nil {
			server = *call.Server
		}
		tr := mt.Check(server, call.Context.RiskClass, false, now)
		d = mt.ApplyTrust(d, tr)
		res.MCPTrust = &tr
	}
	if in != nil && in.Context.JobID != "" {
		res.JobID = in.Context.JobID
		var warning string
		if d, warning = EmergencyStop(d, in, s.o.JobRoot); warning != "" {
			res.Warnings = append(res.Warnings, warning)
		}
	}
	// As in v1's service, a request carries no approval or delegation
	// token: the policy's decision is the answer (require_approval stays
	// require_approval, for the dispatcher to route to a human). An allow
	// that needs a brokered credential gets it from the server's broker.
	out := gate.Outcome{Verdict: d.Verdict, ReasonCodes: d.ReasonCodes, Violations: d.Violations, Decision: d, PolicyDigest: p.Digest()}
	if in != nil {
		out = p.ApplyBroker(context.Background(), in, d, s.o.Broker, now)
		if out.BrokerError != "" {
			res.Warnings = append(res.Warnings, out.BrokerError)
		}
		if c := out.Credential; c != nil {
			res.CredentialIssuer, res.CredentialRef = c.Broker, c.Ref
		}
	}
	res.Verdict, res.ReasonCodes, res.Violations, res.MatchedRule = out.Verdict, nonNil(out.ReasonCodes), out.Violations, d.MatchedRule
	res.ExitCode = int(out.Verdict.ExitCode())
	res.RunID = normRunID(req.RunID)
	if runDigest == "" {
		runDigest = res.IntentDigest
	}
	if res.RunID == "" && len(runDigest) >= 12 {
		res.RunID = "run_mcp_" + runDigest[:12]
	}
	if in != nil {
		if err := s.writeArtifacts(req, call, in, out, &res, now); err != nil {
			return EvaluateResponse{}, err
		}
		if res.TraceID == "" {
			res.TraceID = gate.TraceID(in, out)
		}
		traceID := res.TraceID
		res.Relationship = gate.NewRelationship(in, out, traceID)
		if c := out.Credential; c != nil {
			rec := gate.NewCredentialRecord(in, traceID, *c, s.version())
			res.CredentialRecord = &rec
			if res.TracePath != "" && req.TracePath == "" {
				path := filepath.Join(filepath.Dir(res.TracePath), "credential_evidence_"+traceID+".json")
				if err := gate.WriteCredentialRecord(path, rec); err != nil {
					return EvaluateResponse{}, fmt.Errorf("%s: cannot write credential evidence: %w", path, err)
				}
			}
		}
	}
	res.Warnings = nonNil(res.Warnings)
	res.DecisionLatencyMS = float64(time.Since(start).Microseconds()) / 1000
	if in != nil {
		if err := s.exportDecision(in, out, &res); err != nil {
			return EvaluateResponse{}, err
		}
	}
	return res, nil
}

// CorrelationID is the correlation id of a one-shot decision (mcp
// bridge): 24 hex digits derived from the intent, policy and run, so the
// same call gives the same id and nothing random reaches its artifacts.
func CorrelationID(res EvaluateResponse) string {
	sum := sha256.Sum256([]byte("gait.mcp.bridge\x00" + res.IntentDigest + "\x00" + res.PolicyDigest + "\x00" + res.RunID))
	return hex.EncodeToString(sum[:12])
}

// sortedUnion returns list with extra added, sorted and without
// duplicates, in a new slice.
func sortedUnion(list []string, extra ...string) []string {
	out := make([]string, 0, len(list)+len(extra))
	out = append(append(out, list...), extra...)
	slices.Sort(out)
	return slices.Compact(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// normRunID gives a run id the run_ prefix v1 adds.
func normRunID(id string) string {
	id = strings.TrimSpace(id)
	if id == "" || strings.HasPrefix(id, "run_") {
		return id
	}
	return "run_" + id
}

// checkArtifactRequest refuses artifact paths a client may not choose and
// artifacts the server has no folder for.
func (s *Service) checkArtifactRequest(req EvaluateRequest) error {
	for name, path := range map[string]string{"trace_path": req.TracePath, "runpack_out": req.RunpackOut, "pack_out": req.PackOut, "session_journal": req.SessionJournal} {
		if path == "" {
			continue
		}
		if s.o.LocalCaller {
			continue
		}
		if !s.o.AllowClientArtifactPaths {
			return badRequest("request.%s is not allowed by server configuration", name)
		}
		if !filepath.IsLocal(path) || strings.Contains(path, `\`) {
			return badRequest("request.%s %q must be a relative path inside the service's working directory", name, path)
		}
	}
	if req.EmitRunpack && s.o.RunpackDir == "" && req.RunpackOut == "" {
		return badRequest("request.emit_runpack requires server --runpack-dir")
	}
	if req.EmitPack && s.o.PackDir == "" && req.PackOut == "" {
		return badRequest("request.emit_pack requires server --pack-dir")
	}
	if req.SessionID != "" && (s.o.SessionDir != "" || req.SessionJournal != "") && !validName(req.SessionID) {
		return badRequest("request.session_id %q must be letters, digits, '_', '-' or '.'", req.SessionID)
	}
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > 128 || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// writeArtifacts writes the trace, runpack, pack and session event the
// request and the server configuration ask for.
func (s *Service) writeArtifacts(req EvaluateRequest, call AdapterCall, in *gate.Intent, out gate.Outcome, res *EvaluateResponse, now time.Time) error {
	if s.o.TraceDir != "" || req.TracePath != "" {
		tr, err := gate.BuildTrace(in, out, s.o.PrivateKey, s.o.Version)
		if err != nil {
			return err
		}
		path := req.TracePath
		if path == "" {
			path = filepath.Join(s.o.TraceDir, "trace_"+tr.TraceID+"_"+now.UTC().Format("20060102T150405.000000000")+".json")
		}
		if err := gate.WriteTrace(path, tr); err != nil {
			return fmt.Errorf("%s: cannot write trace: %w", path, err)
		}
		res.TraceID, res.TracePath = tr.TraceID, path
		s.prune(s.o.TraceDir)
	}
	wantRunpack := req.EmitRunpack || req.RunpackOut != "" || req.EmitPack || req.PackOut != ""
	if wantRunpack {
		if s.o.RunpackDir != "" {
			if err := os.MkdirAll(s.o.RunpackDir, 0o750); err != nil {
				return err
			}
		}
		tmp, err := os.MkdirTemp(s.o.RunpackDir, ".gait-serve-")
		if err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(tmp) }()
		rec, err := NewRecorder(RecorderOptions{Dir: tmp, RunID: res.RunID, ProducerVersion: s.o.Version, Now: func() time.Time { return now }})
		if err != nil {
			return badRequest("%v", err)
		}
		result, _ := json.Marshal(struct {
			Verdict     gate.Verdict `json:"verdict"`
			ReasonCodes []string     `json:"reason_codes"`
		}{out.Verdict, res.ReasonCodes})
		if err := rec.Add(Call{Tool: call.Tool, Args: call.Canonical, Verdict: string(out.Verdict), ReasonCodes: res.ReasonCodes,
			Result: result, IsError: out.Verdict != gate.Allow}); err != nil {
			return err
		}
		path, err := rec.Close()
		if err != nil {
			return err
		}
		final := req.RunpackOut
		if final == "" && req.EmitRunpack {
			final = filepath.Join(s.o.RunpackDir, "runpack_"+res.RunID+"_"+now.UTC().Format("20060102T150405.000000000")+".zip")
		}
		if final != "" {
			if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
				return err
			}
			if err := os.Rename(path, final); err != nil {
				return err
			}
			path = final
		}
		if req.EmitRunpack || req.RunpackOut != "" {
			res.RunpackPath = path
			s.prune(s.o.RunpackDir)
		}
		if req.EmitPack || req.PackOut != "" {
			pk, err := pack.BuildRunPack(path, pack.PackOptions{PrivateKey: s.o.PrivateKey, ProducerVersion: s.o.Version})
			if err != nil {
				return err
			}
			out := req.PackOut
			if out == "" {
				out = filepath.Join(s.o.PackDir, "pack_"+res.RunID+"_"+now.UTC().Format("20060102T150405.000000000")+".zip")
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o750); err != nil {
				return err
			}
			if err := pk.WriteFile(out); err != nil {
				return err
			}
			res.PackPath = out
			s.prune(s.o.PackDir)
		}
	}
	if req.SessionID != "" && (s.o.SessionDir != "" || req.SessionJournal != "") {
		path := req.SessionJournal
		if path == "" {
			path = filepath.Join(s.o.SessionDir, req.SessionID+".jsonl")
		}
		if err := s.appendSession(path, req.SessionID, res, now); err != nil {
			return err
		}
		res.SessionJournal = path
		s.prune(s.o.SessionDir)
	}
	return nil
}

func (s *Service) appendSession(path, sessionID string, res *EvaluateResponse, now time.Time) error {
	ss := &job.Sessions{Now: func() time.Time { return now }, ProducerVersion: s.o.Version}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return err
		}
		if _, err := ss.Start(path, sessionID, res.RunID); err != nil {
			return err
		}
	}
	_, err := ss.Append(path, job.AppendOptions{Tool: res.ToolName, Verdict: string(res.Verdict), TraceID: res.TraceID, TracePath: res.TracePath,
		IntentDigest: res.IntentDigest, PolicyDigest: res.PolicyDigest, ReasonCodes: res.ReasonCodes, Violations: res.Violations})
	return err
}
