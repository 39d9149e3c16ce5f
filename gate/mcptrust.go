package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// TrustSnapshotSchemaID names the local MCP server trust snapshot format.
const TrustSnapshotSchemaID = "gait.mcp.trust_snapshot"

// Trust statuses, as v1 writes them in a trace's mcp_trust block.
const (
	TrustTrusted        = "trusted"
	TrustMissing        = "missing"
	TrustUnknown        = "unknown"
	TrustUntrusted      = "untrusted"
	TrustInvalid        = "invalid"
	TrustStale          = "stale"
	TrustBelowThreshold = "below_threshold"
)

// Reason codes of the MCP trust check.
const (
	ReasonTrustVerified            = "mcp_trust_verified"
	ReasonTrustSnapshotUnavailable = "mcp_trust_snapshot_unavailable"
	ReasonTrustSnapshotInvalid     = "mcp_trust_snapshot_invalid"
	ReasonTrustServerUnknown       = "mcp_trust_server_unknown"
	ReasonTrustIdentifierMissing   = "mcp_trust_identifier_missing"
	ReasonTrustStatusUntrusted     = "mcp_trust_status_untrusted"
	ReasonTrustPublisherUntrusted  = "mcp_trust_publisher_untrusted"
	ReasonTrustRegistryUnverified  = "mcp_trust_registry_unverified"
	ReasonTrustStale               = "mcp_trust_stale"
	ReasonTrustBelowThreshold      = "mcp_trust_below_threshold"
	// ViolationTrustPolicy is the violation an enforced trust failure adds.
	ViolationTrustPolicy = "mcp_trust_policy"
)

// maxSnapshotBytes bounds the trust snapshot read into memory.
const maxSnapshotBytes = 16 << 20

// MCPServer describes the MCP server a tool call goes to: v1's server
// description (`gait mcp verify --server`) and a call's "server" object.
// Unknown fields are ignored.
type MCPServer struct {
	ServerID   string `json:"server_id,omitempty"`
	ServerName string `json:"server_name,omitempty"`
	Publisher  string `json:"publisher,omitempty"`
	Source     string `json:"source,omitempty"`
}

// key is the identity the snapshot is searched by: the id, else the name,
// compared case-insensitively.
func (s MCPServer) key() string {
	if k := lowTrim(s.ServerID); k != "" {
		return k
	}
	return lowTrim(s.ServerName)
}

// ParseMCPServer reads a server description. It needs a server_id or a
// server_name.
func ParseMCPServer(data []byte) (MCPServer, error) {
	var s MCPServer
	if err := json.Unmarshal(data, &s); err != nil {
		return MCPServer{}, fmt.Errorf("not a JSON server description: %w", err)
	}
	if s.key() == "" {
		return MCPServer{}, errors.New("the server description has no server_id or server_name")
	}
	return s, nil
}

// TrustResult is the outcome of the trust check for one server: the
// mcp_trust block of v1's traces and responses.
type TrustResult struct {
	ServerID         string    `json:"server_id,omitempty"`
	ServerName       string    `json:"server_name,omitempty"`
	Publisher        string    `json:"publisher,omitempty"`
	Source           string    `json:"source,omitempty"`
	Status           string    `json:"status"`
	DecisionSource   string    `json:"decision_source,omitempty"`
	Score            *float64  `json:"score,omitempty"`
	Threshold        float64   `json:"threshold,omitempty"`
	UpdatedAt        time.Time `json:"updated_at"`
	MaxAgeSeconds    int64     `json:"max_age_seconds,omitempty"`
	Required         bool      `json:"required,omitempty"`
	Enforced         bool      `json:"enforced,omitempty"`
	RegistryVerified bool      `json:"registry_verified,omitempty"`
	PublisherAllowed bool      `json:"publisher_allowed,omitempty"`
	ReasonCodes      []string  `json:"reason_codes"`
}

// MCPTrust is a policy's compiled mcp_trust block. The snapshot is a local
// file (relative paths resolve from the working directory, as in v1); it is
// read on first use and again whenever its size or modification time
// changes, so a long-running proxy or service sees a refreshed snapshot
// without re-reading it on every call.
type MCPTrust struct {
	snapshot    string
	action      Verdict
	required    []string
	minScore    float64
	maxAge      time.Duration
	publishers  []string
	needRegistr bool

	mu     sync.Mutex
	cached *TrustSnapshot
	stamp  snapStamp
	err    error
	read   time.Time
}

type snapStamp struct {
	size  int64
	mtime time.Time
}

// Snapshot is the snapshot path as the policy names it.
func (t *MCPTrust) Snapshot() string { return t.snapshot }

// Action is the verdict an enforced trust failure gives: block or
// require_approval.
func (t *MCPTrust) Action() Verdict { return t.action }

// MCPTrust returns the policy's trust configuration, or nil when the
// policy has no mcp_trust block with a snapshot. As in v1, a block that
// names a snapshot is applied even with enabled: false.
func (p *Policy) MCPTrust() *MCPTrust { return p.mcpTrust }

func compileMCPTrust(mt *mcpTrustFile) (*MCPTrust, error) {
	if mt == nil {
		return nil, nil
	}
	snap := strings.TrimSpace(mt.Snapshot)
	if snap == "" {
		if mt.Enabled {
			return nil, errors.New("mcp_trust.snapshot is required when mcp_trust is enabled; name the local trust snapshot file")
		}
		return nil, nil
	}
	t := &MCPTrust{snapshot: snap, action: Block, minScore: mt.MinScore}
	switch a := normVerdict(mt.Action); a {
	case "", string(Block):
	case string(RequireApproval):
		t.action = RequireApproval
	default:
		return nil, fmt.Errorf("mcp_trust.action %q is not block or require_approval", mt.Action)
	}
	if mt.MinScore < 0 || mt.MinScore > 1 {
		return nil, fmt.Errorf("mcp_trust.min_score %v must be between 0 and 1", mt.MinScore)
	}
	if s := strings.TrimSpace(mt.MaxAge); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("mcp_trust.max_age %q is not a duration such as 24h or 30m", mt.MaxAge)
		}
		if d < 0 {
			return nil, fmt.Errorf("mcp_trust.max_age %q is negative", mt.MaxAge)
		}
		t.maxAge = d
	}
	t.required = normList(mt.RequiredRiskClasses, true)
	if len(t.required) == 0 {
		t.required = []string{"critical", "high"}
	}
	t.publishers = normList(mt.PublisherAllowlist, true)
	t.needRegistr = mt.RequireRegistry
	return t, nil
}

// TrustSnapshot is a parsed snapshot, indexed by server key.
type TrustSnapshot struct {
	byKey map[string]*trustEntry
}

type trustEntry struct {
	ServerID   string    `json:"server_id"`
	ServerName string    `json:"server_name"`
	Publisher  string    `json:"publisher"`
	Source     string    `json:"source"`
	Status     string    `json:"status"`
	Score      *float64  `json:"score"`
	UpdatedAt  time.Time `json:"updated_at"`
	// RegistryVerification is v1's typed registry block; a local snapshot
	// never proves registry verification, so only its type is checked.
	RegistryVerification *struct{} `json:"registry_verification"`
}

// ParseTrustSnapshot parses a gait.mcp.trust_snapshot document. Unknown
// fields are tolerated; an entry without server_id or server_name, two
// entries for one server, a wrong schema or a mistyped field make the
// snapshot invalid.
func ParseTrustSnapshot(data []byte) (*TrustSnapshot, error) {
	var doc struct {
		SchemaID      string       `json:"schema_id"`
		SchemaVersion string       `json:"schema_version"`
		Entries       []trustEntry `json:"entries"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse trust snapshot: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("parse trust snapshot: trailing data after the snapshot")
	}
	if doc.SchemaID != "" && doc.SchemaID != TrustSnapshotSchemaID {
		return nil, fmt.Errorf("trust snapshot schema_id %q is not %s", doc.SchemaID, TrustSnapshotSchemaID)
	}
	if doc.SchemaVersion != "" && doc.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("trust snapshot schema_version %q is not %s", doc.SchemaVersion, SchemaVersion)
	}
	s := &TrustSnapshot{byKey: make(map[string]*trustEntry, len(doc.Entries))}
	for i := range doc.Entries {
		e := &doc.Entries[i]
		k := MCPServer{ServerID: e.ServerID, ServerName: e.ServerName}.key()
		if k == "" {
			return nil, fmt.Errorf("trust snapshot entry[%d] has no server_id or server_name", i)
		}
		if _, dup := s.byKey[k]; dup {
			return nil, fmt.Errorf("trust snapshot lists server %q twice", k)
		}
		s.byKey[k] = e
	}
	return s, nil
}

// snapshotRecheck is how often a long-lived checker looks at the
// snapshot file for changes.
const snapshotRecheck = time.Second

// load returns the snapshot, or errUnavailable / a parse error.
func (t *MCPTrust) load(now time.Time) (*TrustSnapshot, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.read.IsZero() && now.Sub(t.read) >= 0 && now.Sub(t.read) < snapshotRecheck {
		return t.cached, t.err
	}
	t.read = now
	fi, err := os.Stat(t.snapshot)
	if err != nil || !fi.Mode().IsRegular() {
		t.cached, t.err, t.stamp = nil, errSnapshotUnavailable, snapStamp{}
		return nil, t.err
	}
	st := snapStamp{size: fi.Size(), mtime: fi.ModTime()}
	if st == t.stamp && (t.cached != nil || t.err != nil) {
		return t.cached, t.err
	}
	t.stamp = st
	if fi.Size() > maxSnapshotBytes {
		t.cached, t.err = nil, fmt.Errorf("trust snapshot is over %d bytes", maxSnapshotBytes)
		return nil, t.err
	}
	data, err := os.ReadFile(t.snapshot)
	if err != nil {
		t.cached, t.err = nil, errSnapshotUnavailable
		return nil, t.err
	}
	t.cached, t.err = ParseTrustSnapshot(data)
	return t.cached, t.err
}

var errSnapshotUnavailable = errors.New("trust snapshot unavailable")

// Check evaluates the trust of server for a call of riskClass at now.
// The check is required when the normalized risk class is one of the
// policy's required_risk_classes (default high and critical); an empty
// risk class is required only when requireWhenEmpty is set (`mcp verify`
// without --risk-class). Enforced reports a required check that failed.
func (t *MCPTrust) Check(server MCPServer, riskClass string, requireWhenEmpty bool, now time.Time) TrustResult {
	res := TrustResult{ServerID: strings.TrimSpace(server.ServerID), ServerName: strings.TrimSpace(server.ServerName),
		Publisher: lowTrim(server.Publisher), Source: strings.TrimSpace(server.Source), DecisionSource: t.snapshot}
	res.Threshold, res.MaxAgeSeconds = t.minScore, int64(t.maxAge/time.Second)
	rc := lowTrim(riskClass)
	res.Required = (rc == "" && requireWhenEmpty) || (rc != "" && slices.Contains(t.required, rc))
	fail := func(status, reason string) TrustResult {
		res.Status, res.ReasonCodes = status, []string{reason}
		res.Enforced = res.Required
		return res
	}
	key := server.key()
	if key == "" {
		return fail(TrustMissing, ReasonTrustIdentifierMissing)
	}
	snap, err := t.load(now)
	if errors.Is(err, errSnapshotUnavailable) {
		return fail(TrustMissing, ReasonTrustSnapshotUnavailable)
	}
	if err != nil {
		return fail(TrustInvalid, ReasonTrustSnapshotInvalid)
	}
	e := snap.byKey[key]
	if e == nil {
		return fail(TrustUnknown, ReasonTrustServerUnknown)
	}
	res = TrustResult{ServerID: strings.TrimSpace(e.ServerID), ServerName: strings.TrimSpace(e.ServerName),
		Publisher: lowTrim(e.Publisher), Source: strings.TrimSpace(e.Source), DecisionSource: t.snapshot,
		Score: e.Score, UpdatedAt: e.UpdatedAt, Required: res.Required, Threshold: t.minScore, MaxAgeSeconds: int64(t.maxAge / time.Second)}
	var reasons []string
	untrusted, invalid, stale, below := false, false, false, false
	if st := lowTrim(e.Status); st != "" && st != TrustTrusted {
		reasons, untrusted = append(reasons, ReasonTrustStatusUntrusted), true
	}
	if t.minScore > 0 {
		if e.Score == nil || *e.Score < t.minScore {
			reasons, below = append(reasons, ReasonTrustBelowThreshold), true
		}
	}
	if t.maxAge > 0 {
		if e.UpdatedAt.IsZero() || now.Sub(e.UpdatedAt) > t.maxAge {
			reasons, stale = append(reasons, ReasonTrustStale), true
		}
	}
	if len(t.publishers) > 0 {
		res.PublisherAllowed = res.Publisher != "" && slices.Contains(t.publishers, res.Publisher)
		if !res.PublisherAllowed {
			reasons, untrusted = append(reasons, ReasonTrustPublisherUntrusted), true
		}
	}
	if t.needRegistr {
		reasons, invalid = append(reasons, ReasonTrustRegistryUnverified), true
	}
	switch {
	case untrusted:
		res.Status = TrustUntrusted
	case invalid:
		res.Status = TrustInvalid
	case stale:
		res.Status = TrustStale
	case below:
		res.Status = TrustBelowThreshold
	default:
		res.Status = TrustTrusted
		reasons = []string{ReasonTrustVerified}
	}
	slices.Sort(reasons)
	res.ReasonCodes = reasons
	res.Enforced = res.Required && res.Status != TrustTrusted
	return res
}

// ApplyTrust folds a trust result into a decision: its reason codes are
// merged in (sorted), and an enforced failure makes the verdict at least
// the policy's mcp_trust.action (a dry_run stays dry_run, as in v1) and
// adds the mcp_trust_policy violation.
// The decision's slices are copied, never modified.
func (t *MCPTrust) ApplyTrust(d Decision, tr TrustResult) Decision {
	d.ReasonCodes = mergeSorted(d.ReasonCodes, tr.ReasonCodes...)
	if tr.Enforced {
		if d.Verdict != DryRun { // as in v1: a dry run stays a dry run (it does not execute)
			d.Verdict = stricter(d.Verdict, t.action)
		}
		d.Violations = mergeSorted(d.Violations, ViolationTrustPolicy)
	}
	return d
}
