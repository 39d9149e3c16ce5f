package mcp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gait-dev/gait/gate"
)

const limitedPolicy = `
default_verdict: block
rules:
  - name: lookups
    priority: 1
    effect: allow
    match: {tool_names: [lookup_order]}
    rate_limit: {requests: 2, window: minute, scope: tool}
  - name: deletes
    priority: 2
    effect: allow
    match: {tool_names: [delete_account]}
    destructive_budget: {requests: 1, window: hour, scope: identity}
  - name: brokered
    priority: 3
    effect: allow
    require_broker_credential: true
    match: {tool_names: [refund]}
`

func limitedProxy(t *testing.T, limits *gate.Limits, logPath string) (*Proxy, *sdk.ClientSession) {
	t.Helper()
	pol, err := gate.ParsePolicy([]byte(limitedPolicy))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	return startProxy(t, ProxyOptions{Policy: pol, Limits: limits, Context: gate.ToolCallContext{RiskClass: "low", Phase: "plan"},
		Now: func() time.Time { return at }}, logPath)
}

// TestProxyRateLimit: two lookups a minute are forwarded, the third is
// withheld as rate_limit_exceeded, and the count survives a restart when
// the proxies share a state file.
func TestProxyRateLimit(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "upstream.log")
	state := filepath.Join(dir, ".gait-out", "gate_rate_limits.json")

	p, cs := limitedProxy(t, gate.NewLimits(state), logPath)
	for i, wantErr := range []bool{false, false, true} {
		txt, isErr := callText(t, cs, "lookup_order", map[string]any{"order_id": "A1"})
		if isErr != wantErr {
			t.Fatalf("call %d: error %v, want %v: %s", i+1, isErr, wantErr, txt)
		}
		if wantErr && !strings.Contains(txt, "verdict=block") || wantErr && !strings.Contains(txt, "rate_limit_exceeded") {
			t.Fatalf("call %d: %q does not name the spent rate limit", i+1, txt)
		}
	}
	if st := p.Stats(); st.Forwarded != 2 || st.Withheld != 1 {
		t.Fatalf("stats %+v", st)
	}
	if log, _ := os.ReadFile(logPath); strings.Count(string(log), "lookup_order") != 2 {
		t.Fatalf("the upstream ran:\n%s", log)
	}

	// A second proxy on the same state file sees the spent limit.
	_, cs2 := limitedProxy(t, gate.NewLimits(state), logPath)
	if txt, isErr := callText(t, cs2, "lookup_order", map[string]any{"order_id": "A2"}); !isErr || !strings.Contains(txt, "rate_limit_exceeded") {
		t.Fatalf("after restart: %q %v", txt, isErr)
	}
	data, err := os.ReadFile(state)
	if err != nil || !strings.Contains(string(data), `"key": "minute|tool|2026-03-01T10:00:00Z|lookup_order",
      "count": 2`) {
		t.Fatalf("state file: %v\n%s", err, data)
	}
}

func TestProxyBudgetAndBroker(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "upstream.log")
	p, cs := limitedProxy(t, nil, logPath) // in-memory counters

	// delete_account with a path target is destructive: dry_run in the
	// plan phase (withheld, counted), then the budget is spent.
	args := map[string]any{"customer": "c-9", "path": "/accounts/c-9"}
	if txt, _ := callText(t, cs, "delete_account", args); !strings.Contains(txt, "verdict=dry_run") {
		t.Fatalf("first delete: %q", txt)
	}
	if txt, _ := callText(t, cs, "delete_account", args); !strings.Contains(txt, "verdict=block") || !strings.Contains(txt, "destructive_budget_exceeded") {
		t.Fatalf("second delete: %q", txt)
	}
	// An allow that needs a brokered credential is withheld.
	if txt, isErr := callText(t, cs, "refund", map[string]any{"order_id": "A1", "amount": 1}); !isErr || !strings.Contains(txt, "broker_credential_required") {
		t.Fatalf("refund: %q %v", txt, isErr)
	}
	if st := p.Stats(); st.Forwarded != 0 || st.Withheld != 3 {
		t.Fatalf("stats %+v", st)
	}
}
