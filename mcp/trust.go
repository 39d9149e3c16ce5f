package mcp

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"time"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/exitcode"
)

// applyUpstreamTrust applies the policy's mcp_trust to a call the proxy
// would forward to server. The call's risk class is the intent's (high
// when the proxy's context names none), so by default every call through
// an untrusted upstream is held back.
func applyUpstreamTrust(p *gate.Policy, server gate.MCPServer, d gate.Decision, in *gate.Intent, now time.Time) gate.Decision {
	mt := p.MCPTrust()
	if mt == nil {
		return d
	}
	return mt.ApplyTrust(d, mt.Check(server, in.Context.RiskClass, true, now))
}

// VerifyResult is what `gait mcp verify` reports, with v1's fields.
type VerifyResult struct {
	OK            bool              `json:"ok"`
	CorrelationID string            `json:"correlation_id,omitempty"`
	ServerID      string            `json:"server_id,omitempty"`
	ServerName    string            `json:"server_name,omitempty"`
	Verdict       gate.Verdict      `json:"verdict"`
	ReasonCodes   []string          `json:"reason_codes,omitempty"`
	Violations    []string          `json:"violations,omitempty"`
	SnapshotPath  string            `json:"snapshot_path,omitempty"`
	TrustModel    string            `json:"trust_model,omitempty"`
	MCPTrust      *gate.TrustResult `json:"mcp_trust,omitempty"`
}

// LoadServer reads a server description file (server_id or server_name,
// publisher, source).
func LoadServer(path string) (gate.MCPServer, error) {
	data, err := readCapped(path, 1<<20)
	if err != nil {
		return gate.MCPServer{}, exitcode.Invalidf("%s: cannot read the server description: %v; pass --server with a JSON file", path, err)
	}
	s, err := gate.ParseMCPServer(data)
	if err != nil {
		return gate.MCPServer{}, exitcode.Invalidf("%s: %v; write {\"server_id\": \"…\", \"publisher\": \"…\"}", path, err)
	}
	return s, nil
}

func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, exitcode.Invalidf("not a regular file")
	}
	if fi.Size() > limit {
		return nil, exitcode.Invalidf("%d bytes is over the %d byte limit", fi.Size(), limit)
	}
	return os.ReadFile(path)
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok { //nolint:errorlint // only the outermost path error is unwrapped
		return pe.Err
	}
	return err
}

// VerifyServer checks server against the policy's mcp_trust for a call of
// riskClass (empty: the check is required), as `gait mcp verify` does. A
// policy without an mcp_trust snapshot allows every server.
func VerifyServer(p *gate.Policy, server gate.MCPServer, riskClass string, now time.Time) VerifyResult {
	sum := sha256.Sum256([]byte(p.Digest() + "\x00" + server.ServerID + "\x00" + server.ServerName + "\x00" + strings.TrimSpace(riskClass)))
	res := VerifyResult{CorrelationID: hex.EncodeToString(sum[:12]), ServerID: server.ServerID, ServerName: server.ServerName, Verdict: gate.Allow}
	mt := p.MCPTrust()
	if mt == nil {
		res.OK = true
		return res
	}
	tr := mt.Check(server, riskClass, true, now)
	d := mt.ApplyTrust(gate.Decision{Verdict: gate.Allow}, tr)
	res.Verdict, res.ReasonCodes, res.Violations = d.Verdict, d.ReasonCodes, d.Violations
	res.OK = d.Verdict == gate.Allow
	res.ServerID, res.ServerName = tr.ServerID, tr.ServerName
	res.SnapshotPath, res.TrustModel, res.MCPTrust = mt.Snapshot(), "local_snapshot", &tr
	return res
}
