package gate

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func trustPolicy(t *testing.T, snapshot, extra string) *MCPTrust {
	t.Helper()
	p, err := ParsePolicy([]byte("default_verdict: allow\nmcp_trust:\n  enabled: true\n  snapshot: " + snapshot + "\n" + extra))
	if err != nil {
		t.Fatal(err)
	}
	if p.MCPTrust() == nil {
		t.Fatal("no mcp_trust compiled")
	}
	return p.MCPTrust()
}

func TestMCPTrustCheck(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "snap.json")
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	write := func(doc string) {
		if err := os.WriteFile(snap, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, snapshot, policy, risk string
		server                       MCPServer
		emptyRequired                bool
		status                       string
		reasons                      []string
		enforced                     bool
	}{
		{"verified", `{"entries":[{"server_id":"github","status":"trusted"}]}`, "", "high", MCPServer{ServerID: "GitHub"}, false, TrustTrusted, []string{ReasonTrustVerified}, false},
		{"unknown server", `{"entries":[{"server_id":"other"}]}`, "", "high", MCPServer{ServerID: "github"}, false, TrustUnknown, []string{ReasonTrustServerUnknown}, true},
		{"no identity", `{"entries":[]}`, "", "high", MCPServer{}, false, TrustMissing, []string{ReasonTrustIdentifierMissing}, true},
		{"not required for low", `{"entries":[{"server_id":"github","status":"revoked"}]}`, "", "low", MCPServer{ServerID: "github"}, false, TrustUntrusted, []string{ReasonTrustStatusUntrusted}, false},
		{"empty risk required in verify", `{"entries":[{"server_id":"github","status":"revoked"}]}`, "", "", MCPServer{ServerID: "github"}, true, TrustUntrusted, []string{ReasonTrustStatusUntrusted}, true},
		{"duplicate entries", `{"entries":[{"server_id":"a"},{"server_id":"A"}]}`, "", "high", MCPServer{ServerID: "a"}, false, TrustInvalid, []string{ReasonTrustSnapshotInvalid}, true},
		{"wrong version", `{"schema_version":"2.0.0","entries":[{"server_id":"a"}]}`, "", "high", MCPServer{ServerID: "a"}, false, TrustInvalid, []string{ReasonTrustSnapshotInvalid}, true},
		{"stale and below", `{"entries":[{"server_id":"a","score":0.2,"updated_at":"2026-11-01T00:00:00Z"}]}`, "  min_score: 0.5\n  max_age: 24h\n", "high", MCPServer{ServerID: "a"}, false, TrustStale, []string{ReasonTrustBelowThreshold, ReasonTrustStale}, true},
		{"publisher", `{"entries":[{"server_id":"a","publisher":"Evil","updated_at":"2026-12-02T11:00:00Z"}]}`, "  publisher_allowlist: [acme]\n  max_age: 24h\n", "high", MCPServer{ServerID: "a"}, false, TrustUntrusted, []string{ReasonTrustPublisherUntrusted}, true},
		{"registry", `{"entries":[{"server_name":"a","score":0.9}]}`, "  require_registry: true\n  min_score: 0.5\n", "critical", MCPServer{ServerName: "A"}, false, TrustInvalid, []string{ReasonTrustRegistryUnverified}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			write(c.snapshot)
			mt := trustPolicy(t, snap, c.policy)
			r := mt.Check(c.server, c.risk, c.emptyRequired, now)
			if r.Status != c.status || !slices.Equal(r.ReasonCodes, c.reasons) || r.Enforced != c.enforced {
				t.Fatalf("got status=%s reasons=%v enforced=%v, want %s %v %v", r.Status, r.ReasonCodes, r.Enforced, c.status, c.reasons, c.enforced)
			}
			d := mt.ApplyTrust(Decision{Verdict: Allow, ReasonCodes: []string{"default_allow"}}, r)
			if c.enforced != (d.Verdict == Block) || !slices.IsSorted(d.ReasonCodes) {
				t.Fatalf("applied: %+v", d)
			}
		})
	}
	t.Run("missing snapshot", func(t *testing.T) {
		mt := trustPolicy(t, filepath.Join(dir, "nope.json"), "  action: require_approval\n")
		r := mt.Check(MCPServer{ServerID: "a"}, "high", false, now)
		if r.Status != TrustMissing || !r.Enforced {
			t.Fatalf("%+v", r)
		}
		if d := mt.ApplyTrust(Decision{Verdict: Allow}, r); d.Verdict != RequireApproval || !slices.Equal(d.Violations, []string{ViolationTrustPolicy}) {
			t.Fatalf("%+v", d)
		}
	})
}

func FuzzParseTrustSnapshot(f *testing.F) {
	f.Add([]byte(`{"schema_id":"gait.mcp.trust_snapshot","schema_version":"1.0.0","entries":[{"server_id":"a","status":"trusted","score":0.5,"updated_at":"2026-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"entries":[{"server_name":"b"},{"server_id":"B"}]}`))
	f.Add([]byte(`{"entries":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseTrustSnapshot(data)
		if err == nil && s == nil {
			t.Fatal("nil snapshot without error")
		}
		if err == nil {
			for k := range s.byKey {
				if k == "" {
					t.Fatal("empty key indexed")
				}
			}
		}
	})
}
