// Package export turns a verified unified pack into records for the
// observability and data tools teams already run: Gait v1's OpenTelemetry
// records (a span, an event and the pack metrics, with gait.* attributes),
// the same records as OTLP/JSON a collector's file receiver reads, with the
// run's tool calls as OpenTelemetry GenAI spans, and PostgreSQL DDL and an
// upsert for a pack index.
package export

import (
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"time"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/regress"
)

// Metrics are the pack metrics, with Gait v1's names and meaning.
type Metrics struct {
	ApprovalRequired     int     `json:"approval_required"`
	PolicyBlocked        int     `json:"policy_blocked"`
	RegressFailures      int     `json:"regress_failures"`
	ToolCallsSuccess     int     `json:"tool_calls_success"`
	ToolCallsSuccessRate float64 `json:"tool_calls_success_rate"`
	ToolCallsTotal       int     `json:"tool_calls_total"`
}

// Record is one pack's export record (v1's "export" object). A pack is
// verified before it is exported, so the integrity counts are always 0;
// they are kept for v1 consumers.
type Record struct {
	CreatedAt       time.Time `json:"created_at"`
	FilesChecked    int       `json:"files_checked"`
	HashMismatches  int       `json:"hash_mismatches"`
	ManifestDigest  string    `json:"manifest_digest"`
	Metrics         Metrics   `json:"metrics"`
	MissingFiles    int       `json:"missing_files"`
	PackID          string    `json:"pack_id"`
	PackType        string    `json:"pack_type"`
	SignatureStatus string    `json:"signature_status"`
	SignaturesTotal int       `json:"signatures_total"`
	SignaturesValid int       `json:"signatures_valid"`
	SourceRef       string    `json:"source_ref"`
	UndeclaredFiles int       `json:"undeclared_files"`
}

// Call is one tool call of a run pack: an intent and its result.
type Call struct {
	Seq          int
	IntentID     string
	ToolName     string
	Status       string // the result's status; "" when no result was recorded
	Verdict      string // allow, block, require_approval, dry_run or error
	ArgsDigest   string
	ResultDigest string
	Start, End   time.Time
}

// Export is what one pack exports.
type Export struct {
	Record
	RunID        string // run packs: the run id
	RunDigest    string // run packs: the runpack's manifest_digest
	RunCreatedAt time.Time
	Calls        []Call
}

// epoch is the time of a record with no usable time: v1's fixed 1980-01-01.
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Options configure Build.
type Options struct {
	// PublicKey checks the pack's signatures; without it a signed pack's
	// signature_status is "skipped", as in v1.
	PublicKey ed25519.PublicKey
}

// Build verifies the pack at path and builds its export. A pack that fails
// verification is not exported (the error carries exit code 2).
func Build(path string, opts Options) (*Export, error) {
	p, res, err := pack.OpenVerifiedPack(path, pack.VerifyOptions{PublicKey: opts.PublicKey})
	if err != nil {
		return nil, err
	}
	m := p.Manifest
	md, err := digest.RawJSON(p.File(pack.FilePackManifest))
	if err != nil {
		return nil, exitcode.Invalidf("%s: %s: %v", path, pack.FilePackManifest, err)
	}
	e := &Export{Record: Record{
		CreatedAt:       parseTime(m.CreatedAt, epoch),
		FilesChecked:    len(m.Contents),
		ManifestDigest:  md,
		PackID:          m.PackID,
		PackType:        m.PackType,
		SourceRef:       m.SourceRef,
		SignaturesTotal: len(m.Signatures),
		SignatureStatus: pack.SignatureMissing,
	}}
	if len(m.Signatures) > 0 {
		e.SignatureStatus = "skipped"
		if res.SignatureStatus == pack.SignatureVerified {
			e.SignatureStatus = pack.SignatureVerified
			id := keys.ID(opts.PublicKey)
			for _, s := range m.Signatures {
				if s.KeyID == id {
					e.SignaturesValid++
				}
			}
		}
	}
	if rp := p.EmbeddedRunpack(); rp != nil {
		e.addRun(rp)
	}
	return e, nil
}

func parseTime(s string, fallback time.Time) time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil || t.IsZero() {
		return fallback
	}
	return t.UTC()
}

// addRun fills the metrics (as v1 counts them) and the tool calls.
func (e *Export) addRun(rp *pack.Runpack) {
	e.RunID, e.RunDigest = rp.Manifest.RunID, rp.Manifest.ManifestDigest
	e.RunCreatedAt = parseTime(rp.Run.CreatedAt, e.CreatedAt)
	m := &e.Metrics
	m.ToolCallsTotal = len(rp.Results)
	if m.ToolCallsTotal == 0 {
		m.ToolCallsTotal = len(rp.Intents)
	}
	for _, r := range rp.Results {
		if strings.EqualFold(strings.TrimSpace(r.Status), "ok") {
			m.ToolCallsSuccess++
		}
		body := resultBody(r)
		switch v1Verdict(r, body) {
		case "block":
			m.PolicyBlocked++
		case "require_approval":
			m.ApprovalRequired++
		}
		if regressFailure(body) {
			m.RegressFailures++
		}
	}
	if m.ToolCallsTotal > 0 {
		m.ToolCallsSuccessRate = float64(m.ToolCallsSuccess) / float64(m.ToolCallsTotal)
	}
	// The first result recorded for an intent answers it (as
	// pack.Runpack.ResultFor), found through an index: runs can be long.
	first := make(map[string]int, len(rp.Results))
	for i, r := range rp.Results {
		if _, ok := first[r.IntentID]; !ok {
			first[r.IntentID] = i
		}
	}
	for i, in := range rp.Intents {
		c := Call{Seq: i, IntentID: in.IntentID, ToolName: in.ToolName, ArgsDigest: in.ArgsDigest}
		c.Start = parseTime(in.CreatedAt, e.RunCreatedAt)
		c.End = c.Start
		if j, ok := first[in.IntentID]; ok {
			r := rp.Results[j]
			c.Status, c.ResultDigest, c.Verdict = r.Status, r.ResultDigest, regress.ResultVerdict(r)
			if end := parseTime(r.CreatedAt, c.Start); end.After(c.Start) {
				c.End = end
			}
		}
		e.Calls = append(e.Calls, c)
	}
}

func resultBody(r pack.Result) map[string]any {
	var body map[string]any
	if len(r.Result) > 0 {
		_ = json.Unmarshal(r.Result, &body)
	}
	return body
}

// v1Verdict reads a result's verdict the way v1's export counts it: only
// result.verdict, and only allow, block and the approval spellings.
func v1Verdict(r pack.Result, body map[string]any) string {
	s, _ := body["verdict"].(string)
	if s == "" {
		s = r.Verdict
	}
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "allow", "block", "require_approval":
		return v
	case "approval_required", "needs_approval", "needsapproval":
		return "require_approval"
	}
	return ""
}

// regressFailure reports whether a result payload records a failed
// regression, by the signs v1 looks for.
func regressFailure(body map[string]any) bool {
	if len(body) == 0 {
		return false
	}
	for _, k := range []string{"regress_failures", "failed"} {
		if n, ok := body[k].(float64); ok && int(n) > 0 {
			return true
		}
	}
	for _, k := range []string{"regress_status", "status", "result_status"} {
		s, _ := body[k].(string)
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "fail", "failed", "regress_failed":
			return true
		}
	}
	var reasons []string
	if list, ok := body["reason_codes"].([]any); ok {
		for _, v := range list {
			if s, ok := v.(string); ok {
				reasons = append(reasons, s)
			}
		}
	}
	for _, k := range []string{"reason", "failure_reason"} {
		if s, ok := body[k].(string); ok {
			reasons = append(reasons, s)
		}
	}
	for _, r := range reasons {
		r = strings.ToLower(strings.TrimSpace(r))
		if strings.Contains(r, "regress") && (strings.Contains(r, "fail") || strings.Contains(r, "drift")) {
			return true
		}
	}
	return false
}

// ids returns v1's trace and span id for the pack: the first 32 and the
// next 16 hex digits of the pack id.
func (e *Export) ids() (traceID, spanID string) {
	seed := strings.ToLower(e.PackID)
	if !digest.Valid(seed) {
		seed = strings.ToLower(e.ManifestDigest)
	}
	if !digest.Valid(seed) {
		seed = digest.Bytes([]byte(e.PackType + "|" + e.SourceRef))
	}
	return seed[:32], seed[32:48]
}
