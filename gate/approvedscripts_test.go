package gate

import (
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/schemas"
)

const scriptPolicy = `
default_verdict: block
rules:
  - name: read
    priority: 10
    effect: allow
    match: {tool_names: [tool.read]}
    reason_codes: [read_ok]
  - name: write
    priority: 20
    effect: require_approval
    match: {tool_names: [tool.write]}
    reason_codes: [write_review]
`

func scriptIntent(risk string, tools ...string) IntentRequest {
	req := baseIntent()
	req.ToolName, req.Args, req.Targets, req.ArgProvenance = "script", map[string]any{}, nil, nil
	req.Context.RiskClass = risk
	req.Script = &Script{}
	for _, tool := range tools {
		op := strings.TrimPrefix(tool, "tool.")
		req.Script.Steps = append(req.Script.Steps, ScriptStep{ToolName: tool, Args: map[string]any{"path": "/tmp/" + op},
			Targets: []Target{{Kind: "path", Value: "/tmp/" + op, Operation: op}}})
	}
	return req
}

func testKey(t testing.TB) (ed25519.PrivateKey, ed25519.PublicKey) {
	t.Helper()
	pair, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return pair.Private, pair.Public
}

var scriptNow = time.Date(2026, 2, 6, 10, 0, 0, 0, time.UTC)

func approve(t *testing.T, p *Policy, in *Intent, priv ed25519.PrivateKey, pattern string, ttl time.Duration) ApprovedScript {
	t.Helper()
	e, err := ApproveScript(p, in, ApproveScriptRequest{PatternID: pattern, Approver: "carol", TTL: ttl, Now: scriptNow, Scope: []string{"b", " a"}}, priv)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestScriptHashMatchesV1 pins the hash Gait v1 gives the same steps.
func TestScriptHashMatchesV1(t *testing.T) {
	req := scriptIntent("high", "tool.read", "tool.write")
	req.Script.Steps[0].Args = map[string]any{"path": "/tmp/a"}
	req.Script.Steps[0].Targets = []Target{{Kind: "path", Value: "/tmp/a"}}
	req.Script.Steps[1].Args = map[string]any{"path": "/tmp/b"}
	req.Script.Steps[1].Targets = []Target{{Kind: "path", Value: "/tmp/b"}}
	in := mustIntent(t, req)
	if in.Script.Hash != "6e490b030d253a60cccbf9800df9f5c71789158833a4ae8020b35fafebdbdd29" {
		t.Fatalf("script hash %s", in.Script.Hash)
	}
	if got := in.Script.CompositeRiskClass(); got != "medium" {
		t.Errorf("composite risk %s", got)
	}
	req.ScriptHash = strings.Repeat("0", 64)
	if _, err := Normalize(req); err == nil || !strings.Contains(err.Error(), "does not match the steps") {
		t.Errorf("wrong script_hash accepted: %v", err)
	}
}

func TestApprovedScriptFastPath(t *testing.T) {
	priv, pub := testKey(t)
	_, otherPub := testKey(t)
	p := mustPolicy(t, scriptPolicy)
	in := mustIntent(t, scriptIntent("high", "tool.read", "tool.write"))

	if out := p.Enforce(in, EnforceOptions{Now: func() time.Time { return scriptNow }}); out.Verdict != RequireApproval ||
		!slices.Equal(out.ReasonCodes, []string{"approval_token_missing", "read_ok", "write_review"}) || out.Decision.MatchedRule != "read,write" {
		t.Fatalf("without registry: %s %v %q", out.Verdict, out.ReasonCodes, out.Decision.MatchedRule)
	}

	e := approve(t, p, in, priv, "", time.Hour)
	if e.PatternID != "pattern_"+in.Script.Hash[:12] || !slices.Equal(e.Scope, []string{"a", "b"}) || !slices.Equal(e.ToolSequence, []string{"tool.read", "tool.write"}) {
		t.Fatalf("entry %+v", e)
	}
	var reg ScriptRegistry
	reg.Put(e)
	path := filepath.Join(t.TempDir(), "registry.json")
	if err := WriteScriptRegistry(path, reg); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if err := schemas.Validate("gate/approved_script_registry", data); err != nil {
		t.Fatalf("registry does not validate: %v\n%s", err, data)
	}

	opened, err := OpenScriptRegistry(path, pub, scriptNow, true)
	if err != nil {
		t.Fatal(err)
	}
	out := p.Enforce(in, EnforceOptions{Now: func() time.Time { return scriptNow }, ApprovedScripts: opened})
	if out.Verdict != Allow || !out.PreApproved || out.PatternID != e.PatternID || len(out.Steps) != 2 || out.Steps[1].Verdict != Allow {
		t.Fatalf("pre-approval: %+v", out)
	}

	// another policy: the entry no longer matches
	other := mustPolicy(t, scriptPolicy+"  - {name: extra, priority: 99, effect: block, match: {tool_names: [x]}}\n")
	if out := other.Enforce(in, EnforceOptions{ApprovedScripts: opened}); out.PreApproved || out.RegistryReason != CodeApprovedScriptNotFound {
		t.Fatalf("other policy: %+v", out)
	}
	// a single call is never pre-approved
	single := mustIntent(t, baseIntent())
	if out := p.Enforce(single, EnforceOptions{ApprovedScripts: opened}); out.PreApproved || out.RegistryReason != CodeApprovedScriptNoScript {
		t.Fatalf("single call: %+v", out)
	}
	// steps out of sorted order never match (as in v1)
	rev := mustIntent(t, scriptIntent("high", "tool.write", "tool.read"))
	regRev := ScriptRegistry{Entries: []ApprovedScript{approve(t, p, rev, priv, "rev", time.Hour)}}
	if out := p.Enforce(rev, EnforceOptions{ApprovedScripts: &regRev}); out.PreApproved {
		t.Fatalf("unsorted steps pre-approved: %+v", out)
	}

	// strict (high risk, oss-prod): a missing key, a wrong key, an
	// expired entry, a malformed file block; lenient: ignored
	bad := filepath.Join(t.TempDir(), "bad.json")
	_ = os.WriteFile(bad, []byte("not json"), 0o644)
	expired := ScriptRegistry{Entries: []ApprovedScript{approve(t, p, in, priv, "old", time.Minute)}}
	expiredPath := filepath.Join(t.TempDir(), "expired.json")
	_ = WriteScriptRegistry(expiredPath, expired)
	for name, tc := range map[string]struct {
		path string
		pub  ed25519.PublicKey
	}{
		"no key": {path, nil}, "wrong key": {path, otherPub}, "malformed": {bad, pub}, "expired": {expiredPath, pub},
	} {
		r, err := OpenScriptRegistry(tc.path, tc.pub, scriptNow.Add(time.Hour), true)
		if r != nil || !errors.Is(err, ErrScriptRegistry) || exitcode.Of(err) != exitcode.PolicyBlock {
			t.Errorf("%s, strict: %v, %v; want a block", name, r, err)
		}
		if r, err := OpenScriptRegistry(tc.path, tc.pub, scriptNow.Add(time.Hour), false); r != nil || err != nil {
			t.Errorf("%s, lenient: %v, %v; want ignored", name, r, err)
		}
	}
	// a missing registry is empty, strict or not
	if r, err := OpenScriptRegistry(filepath.Join(t.TempDir(), "none.json"), pub, scriptNow, true); err != nil || r == nil || len(r.Entries) != 0 {
		t.Errorf("missing registry: %v, %v", r, err)
	}
	for _, tc := range []struct {
		profile Profile
		risk    string
		want    bool
	}{{ProfileStandard, "low", false}, {ProfileStandard, "medium", false}, {ProfileStandard, "High", true}, {ProfileStandard, "critical", true}, {ProfileOSSProd, "low", true}} {
		if got := ScriptRegistryStrict(tc.profile, tc.risk); got != tc.want {
			t.Errorf("ScriptRegistryStrict(%s, %s) = %v", tc.profile, tc.risk, got)
		}
	}
}

func TestApprovedScriptTamper(t *testing.T) {
	priv, pub := testKey(t)
	p := mustPolicy(t, scriptPolicy)
	in := mustIntent(t, scriptIntent("low", "tool.read", "tool.write"))
	e := approve(t, p, in, priv, "", time.Hour)
	if err := VerifyApprovedScript(e, pub, scriptNow); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*ApprovedScript){
		"approver":   func(e *ApprovedScript) { e.ApproverIdentity = "mallory" },
		"expiry":     func(e *ApprovedScript) { e.ExpiresAt = "2030-01-01T00:00:00Z" },
		"sequence":   func(e *ApprovedScript) { e.ToolSequence = []string{"tool.read"} },
		"unsigned":   func(e *ApprovedScript) { e.Signature = nil },
		"bad digest": func(e *ApprovedScript) { e.PolicyDigest = "x" },
	} {
		c := e
		c.ToolSequence = slices.Clone(e.ToolSequence)
		mutate(&c)
		if err := VerifyApprovedScript(c, pub, scriptNow); err == nil {
			t.Errorf("%s: tampered entry verifies", name)
		}
	}
}

func TestScriptPolicyBlock(t *testing.T) {
	base := `
default_verdict: allow
rules: []
scripts:
`
	cases := []struct {
		scripts string
		tools   []string
		verdict Verdict
		code    string
	}{
		{"  max_steps: 1\n", []string{"tool.read", "tool.read"}, Block, CodeScriptMaxSteps},
		{"  max_steps: 2\n", []string{"tool.read", "tool.read"}, Allow, ""},
		{"  require_approval_above: 1\n", []string{"tool.read", "tool.read"}, RequireApproval, CodeScriptStepThreshold},
		{"  block_mixed_risk: true\n", []string{"tool.read", "tool.write"}, Block, CodeScriptMixedRisk},
		{"  block_mixed_risk: true\n", []string{"tool.read", "tool.read"}, Allow, ""},
	}
	for _, tc := range cases {
		p := mustPolicy(t, base+tc.scripts)
		d := p.Evaluate(mustIntent(t, scriptIntent("low", tc.tools...)))
		if d.Verdict != tc.verdict || (tc.code != "" && !slices.Contains(d.ReasonCodes, tc.code)) {
			t.Errorf("%s%v: %s %v", tc.scripts, tc.tools, d.Verdict, d.ReasonCodes)
		}
	}
	if _, err := Normalize(scriptIntent("low")); err == nil {
		t.Error("a script without steps normalizes")
	}
}

// FuzzParseScriptRegistry: parsing never panics; what parses writes and
// parses again to the same entries.
func FuzzParseScriptRegistry(f *testing.F) {
	for _, s := range []string{`{"entries":[]}`, `[]`, `{}`, `{"entries":null}`,
		`{"entries":[{"schema_id":"gait.gate.approved_script_entry","schema_version":"1.0.0","created_at":"2026-01-01T00:00:00Z","producer_version":"x","pattern_id":"p","policy_digest":"` + strings.Repeat("a", 64) + `","script_hash":"` + strings.Repeat("b", 64) + `","tool_sequence":["tool.read"],"approver_identity":"c","expires_at":"2027-01-01T00:00:00Z"}]}`,
		`[{"pattern_id":"p","unknown":1}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseScriptRegistry(data)
		if err != nil {
			return
		}
		path := filepath.Join(t.TempDir(), "r.json")
		if err := WriteScriptRegistry(path, r); err != nil {
			t.Fatal(err)
		}
		back, _ := os.ReadFile(path)
		again, err := ParseScriptRegistry(back)
		if err != nil || len(again.Entries) != len(r.Entries) {
			t.Fatalf("round trip: %v (%d vs %d entries)", err, len(again.Entries), len(r.Entries))
		}
		for i := range r.Entries {
			if VerifyApprovedScript(r.Entries[i], nil, time.Time{}) == nil {
				t.Fatal("an entry verifies without a key")
			}
		}
	})
}

// TestScriptCarriesStepLimits: the first rate limit and destructive budget
// among the steps' rules apply to the script as one call.
func TestScriptCarriesStepLimits(t *testing.T) {
	p := mustPolicy(t, `
default_verdict: allow
rules:
  - name: reads
    priority: 1
    effect: allow
    match: {tool_names: [tool.read]}
    rate_limit: {requests: 2, window: hour, scope: tool}
  - name: writes
    priority: 2
    effect: allow
    match: {tool_names: [tool.write]}
    destructive_budget: {requests: 1, window: hour, scope: identity}
`)
	d := p.Evaluate(mustIntent(t, scriptIntent("low", "tool.write", "tool.read")))
	if d.RateLimit.Requests != 2 || d.DestructiveBudget.Requests != 1 {
		t.Fatalf("limits %+v %+v", d.RateLimit, d.DestructiveBudget)
	}
}
