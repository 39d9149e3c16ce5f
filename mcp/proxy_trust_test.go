package mcp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/gate"
)

// TestProxyAppliesUpstreamTrust: the proxy checks the upstream it fronts
// (named by its initialize answer, "order-desk") against the policy's
// trust snapshot, and holds back every call to an untrusted upstream.
func TestProxyAppliesUpstreamTrust(t *testing.T) {
	base, err := os.ReadFile(filepath.Join("testdata", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for status, wantForwarded := range map[string]bool{"trusted": true, "revoked": false} {
		t.Run(status, func(t *testing.T) {
			dir := t.TempDir()
			snap := filepath.Join(dir, "snap.json")
			if err := os.WriteFile(snap, []byte(`{"entries":[{"server_id":"order-desk","status":"`+status+`"}]}`), 0o600); err != nil {
				t.Fatal(err)
			}
			p, err := gate.ParsePolicy(append(base, []byte("mcp_trust: {enabled: true, snapshot: "+snap+"}\n")...))
			if err != nil {
				t.Fatal(err)
			}
			proxy, cs := startProxy(t, ProxyOptions{Policy: p, Now: fixedClock()}, filepath.Join(dir, "upstream.log"))
			text, isErr := callText(t, cs, "lookup_order", map[string]any{"order_id": "A-1"})
			if isErr == wantForwarded || (proxy.Stats().Forwarded == 1) != wantForwarded {
				t.Fatalf("forwarded=%d isError=%v: %s", proxy.Stats().Forwarded, isErr, text)
			}
			if !wantForwarded && !strings.Contains(text, "mcp_trust_status_untrusted") {
				t.Fatalf("withheld call does not name the trust reason: %s", text)
			}
		})
	}
}
