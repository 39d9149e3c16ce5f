package gate

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gait-dev/gait/schemas"

	"github.com/gait-dev/gait/internal/keys"
)

func mustPolicy(t testing.TB, y string) *Policy {
	t.Helper()
	p, err := ParsePolicy([]byte(y))
	if err != nil {
		t.Fatalf("ParsePolicy: %v\n%s", err, y)
	}
	return p
}

// baseIntent is a low-risk write with one path target and user provenance.
func baseIntent() IntentRequest {
	return IntentRequest{
		SchemaID: IntentSchemaID, SchemaVersion: SchemaVersion, CreatedAt: "2026-02-06T00:00:00Z",
		ToolName: "tool.write", Args: map[string]any{"path": "/tmp/x"},
		Targets:       []Target{{Kind: "path", Value: "/tmp/x", Operation: "write"}},
		ArgProvenance: []ArgProvenance{{ArgPath: "$.path", Source: "user"}},
		Context:       IntentContext{Identity: "alice", Workspace: "/work/a", RiskClass: "low"},
	}
}

func mustIntent(t testing.TB, req IntentRequest) *Intent {
	t.Helper()
	in, err := Normalize(req)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestMatchKeys(t *testing.T) {
	type mod func(*IntentRequest)
	cases := []struct {
		name  string
		match string
		hit   mod // makes the intent match (nil: base intent matches)
		miss  mod // makes it not match
	}{
		{"tool_names", "tool_names: [TOOL.WRITE]", nil, func(r *IntentRequest) { r.ToolName = "tool.read" }},
		{"tool_name alias", "tool_name: tool.write", nil, func(r *IntentRequest) { r.ToolName = "tool.read" }},
		{"risk_classes", "risk_classes: [low]", nil, func(r *IntentRequest) { r.Context.RiskClass = "high" }},
		{"identities", "identities: [alice]", nil, func(r *IntentRequest) { r.Context.Identity = "bob" }},
		{"workspace_prefixes", "workspace_prefixes: [/work/]", nil, func(r *IntentRequest) { r.Context.Workspace = "/other" }},
		{"target_kinds", "target_kinds: [path]", nil, func(r *IntentRequest) { r.Targets[0].Kind = "host" }},
		{"target_values", "target_values: [/tmp/x]", nil, func(r *IntentRequest) { r.Targets[0].Value = "/tmp/y" }},
		{"endpoint_classes", "endpoint_classes: [fs.write]", nil, func(r *IntentRequest) { r.Targets[0].Operation = "read" }},
		{"endpoint_class alias", "endpoint_class: [fs.write]", nil, func(r *IntentRequest) { r.Targets[0].Operation = "read" }},
		{"discovery_method", "discovery_method: [mcp]", func(r *IntentRequest) { r.Targets[0].DiscoveryMethod = "mcp" }, nil},
		{"tool_annotations", "tool_annotations: {readOnlyHint: true}", func(r *IntentRequest) { r.Targets[0].ReadOnlyHint = true }, nil},
		{"provenance_sources", "provenance_sources: [external]", func(r *IntentRequest) { r.ArgProvenance[0].Source = "external" }, nil},
		{"data_classes", "data_classes: [pii]", func(r *IntentRequest) { r.Targets[0].Sensitivity = "PII" }, nil},
		{"destination_kinds", "destination_kinds: [path]", nil, func(r *IntentRequest) { r.Targets[0].Kind = "url"; r.Targets[0].Value = "https://x" }},
		{"destination_values", "destination_values: [/tmp/x]", nil, func(r *IntentRequest) { r.Targets[0].Value = "/tmp/z" }},
		{"destination_operations", "destination_operations: [write]", nil, func(r *IntentRequest) { r.Targets[0].Operation = "append" }},
		{"skill_publishers", "skill_publishers: [acme]", func(r *IntentRequest) {
			r.SkillProvenance = &SkillProvenance{SkillName: "s", Source: "registry", Publisher: "ACME"}
		}, nil},
		{"skill_sources", "skill_sources: [registry]", func(r *IntentRequest) {
			r.SkillProvenance = &SkillProvenance{SkillName: "s", Source: "registry", Publisher: "acme"}
		}, nil},
		{"context_tool_names", "context_tool_names: [w]", func(r *IntentRequest) { r.Context.AuthContext = map[string]any{"wrkr.tool_name": "W"} }, nil},
		{"context_data_classes", "context_data_classes: [secret]", func(r *IntentRequest) { r.Context.AuthContext = map[string]any{"wrkr.data_class": "secret"} }, nil},
		{"context_endpoint_classes", "context_endpoint_classes: [net.http]", func(r *IntentRequest) { r.Context.AuthContext = map[string]any{"wrkr.endpoint_class": "net.http"} }, nil},
		{"context_autonomy_levels", "context_autonomy_levels: [high]", func(r *IntentRequest) { r.Context.AuthContext = map[string]any{"wrkr.autonomy_level": "high"} }, nil},
		{"require_delegation", "require_delegation: true", func(r *IntentRequest) { r.Delegation = &IntentDelegation{RequesterIdentity: "alice"} }, nil},
		{"allowed_delegator_identities", "allowed_delegator_identities: [lead]", func(r *IntentRequest) {
			r.Delegation = &IntentDelegation{RequesterIdentity: "alice", Chain: []DelegationLink{{DelegatorIdentity: "lead", DelegateIdentity: "alice"}}}
		}, nil},
		{"allowed_delegate_identities", "allowed_delegate_identities: [alice]", func(r *IntentRequest) { r.Delegation = &IntentDelegation{RequesterIdentity: "alice"} }, nil},
		{"delegation_scopes", "delegation_scopes: [write]", func(r *IntentRequest) {
			r.Delegation = &IntentDelegation{RequesterIdentity: "alice", ScopeClass: "WRITE"}
		}, nil},
		{"max_delegation_depth", "max_delegation_depth: 0", func(r *IntentRequest) { r.Delegation = &IntentDelegation{RequesterIdentity: "alice"} }, func(r *IntentRequest) {
			r.Delegation = &IntentDelegation{RequesterIdentity: "alice", Chain: []DelegationLink{{DelegatorIdentity: "a", DelegateIdentity: "b"}}}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustPolicy(t, fmt.Sprintf("default_verdict: block\nrules:\n  - name: r\n    effect: allow\n    match:\n      %s\n", tc.match))
			hit := baseIntent()
			if tc.hit != nil {
				tc.hit(&hit)
			}
			if d := p.Evaluate(mustIntent(t, hit)); d.Verdict != Allow || d.MatchedRule != "r" {
				t.Errorf("matching intent: %+v", d)
			}
			miss := baseIntent()
			if tc.miss != nil {
				tc.miss(&miss)
			}
			if tc.hit == nil || tc.miss != nil {
				if tc.hit != nil {
					tc.hit(&miss)
					tc.miss(&miss)
				}
				if d := p.Evaluate(mustIntent(t, miss)); d.Verdict != Block || d.MatchedRule != "" {
					t.Errorf("non-matching intent: %+v", d)
				}
			} else if d := p.Evaluate(mustIntent(t, miss)); d.Verdict != Block {
				t.Errorf("base intent should not match: %+v", d)
			}
		})
	}
}

func TestEffectsAndDefaults(t *testing.T) {
	for _, v := range []Verdict{Allow, Block, DryRun, RequireApproval} {
		p := mustPolicy(t, fmt.Sprintf("default_verdict: %s\nrules:\n  - name: r\n    effect: %s\n    match: {tool_names: [tool.write]}\n", v, v))
		d := p.Evaluate(mustIntent(t, baseIntent()))
		if d.Verdict != v || d.MatchedRule != "r" || !slices.Equal(d.ReasonCodes, []string{"matched_rule_r"}) {
			t.Errorf("effect %s: %+v", v, d)
		}
		other := baseIntent()
		other.ToolName = "tool.other"
		d = p.Evaluate(mustIntent(t, other))
		if d.Verdict != v || !slices.Equal(d.ReasonCodes, []string{"default_" + string(v)}) {
			t.Errorf("default %s: %+v", v, d)
		}
		if (v == RequireApproval) != (d.MinApprovals == 1) {
			t.Errorf("default %s min approvals %d", v, d.MinApprovals)
		}
	}
	// No default_verdict means require_approval.
	if p := mustPolicy(t, "rules: []\n"); p.DefaultVerdict() != RequireApproval {
		t.Errorf("default %s", p.DefaultVerdict())
	}
}

func TestPriorityLowestWinsAndReasonsSorted(t *testing.T) {
	p := mustPolicy(t, `
default_verdict: allow
rules:
  - {name: late, priority: 50, effect: allow, match: {tool_names: [tool.write]}}
  - {name: zeta, priority: 5, effect: require_approval, reason_codes: [z_code, a_code, z_code], match: {tool_names: [tool.write]}}
  - {name: alpha, priority: 5, effect: block, reason_codes: [m, b], violations: [y, x], match: {tool_names: [tool.write]}}
`)
	d := p.Evaluate(mustIntent(t, baseIntent()))
	if d.MatchedRule != "alpha" || d.Verdict != Block || !slices.Equal(d.ReasonCodes, []string{"b", "m"}) || !slices.Equal(d.Violations, []string{"x", "y"}) {
		t.Errorf("got %+v", d)
	}
}

func TestDestructivePhases(t *testing.T) {
	p := mustPolicy(t, "rules:\n  - {name: r, effect: allow, match: {tool_names: [tool.delete]}}\n")
	req := baseIntent()
	req.ToolName = "tool.delete"
	req.Targets[0].Operation = ""
	d := p.Evaluate(mustIntent(t, req))
	if d.Verdict != RequireApproval || !slices.Contains(d.ReasonCodes, "destructive_apply_requires_approval") || d.MinApprovals != 1 {
		t.Errorf("apply: %+v", d)
	}
	req.Context.Phase = "plan"
	d = p.Evaluate(mustIntent(t, req))
	if d.Verdict != DryRun || !slices.Contains(d.ReasonCodes, "plan_phase_non_destructive") {
		t.Errorf("plan: %+v", d)
	}
}

func TestEndpointAndDataflow(t *testing.T) {
	p := mustPolicy(t, `
rules:
  - name: ep
    effect: allow
    match: {tool_names: [tool.write]}
    endpoint: {path_denylist: [/etc/**], domain_allowlist: ["*.ok.example"], egress_classes: [net.http]}
  - name: df
    priority: 1
    effect: allow
    match: {tool_names: [tool.send]}
    dataflow: {enabled: true, action: block}
`)
	req := baseIntent()
	req.Targets = []Target{{Kind: "path", Value: "/etc/passwd", Operation: "write"}, {Kind: "url", Value: "https://api.bad.example/x"}}
	d := p.Evaluate(mustIntent(t, req))
	want := []string{"endpoint_constraint_violation", "endpoint_domain_not_allowlisted", "endpoint_path_denied", "matched_rule_ep"}
	if d.Verdict != Block || !slices.Equal(d.ReasonCodes, want) {
		t.Errorf("endpoint: %+v", d)
	}
	req.Targets = []Target{{Kind: "url", Value: "https://a.ok.example/x"}}
	if d := p.Evaluate(mustIntent(t, req)); d.Verdict != Allow {
		t.Errorf("endpoint allowed domain: %+v", d)
	}
	send := baseIntent()
	send.ToolName = "tool.send"
	send.Targets = []Target{{Kind: "host", Value: "x.example"}}
	send.ArgProvenance[0].Source = "tool_output"
	if d := p.Evaluate(mustIntent(t, send)); d.Verdict != Block || !slices.Contains(d.ReasonCodes, "dataflow_tainted_destination") {
		t.Errorf("dataflow: %+v", d)
	}
}

func TestFailClosed(t *testing.T) {
	p := mustPolicy(t, `
default_verdict: allow
fail_closed: {enabled: true, risk_classes: [high], required_fields: [targets, arg_provenance, delegation]}
rules: []
`)
	req := baseIntent()
	req.Context.RiskClass = "high"
	req.Targets = nil
	req.ArgProvenance = nil
	d := p.Evaluate(mustIntent(t, req))
	want := []string{"fail_closed_missing_arg_provenance", "fail_closed_missing_delegation", "fail_closed_missing_targets"}
	if d.Verdict != Block || !slices.Equal(d.ReasonCodes, want) {
		t.Errorf("missing fields: %+v", d)
	}
	// Unknown endpoint class under fail_closed blocks too.
	req = baseIntent()
	req.Context.RiskClass = "high"
	req.ToolName = "tool.misc"
	req.Targets[0].Operation = ""
	req.Delegation = &IntentDelegation{RequesterIdentity: "alice"}
	if d := p.Evaluate(mustIntent(t, req)); d.Verdict != Block || !slices.Contains(d.ReasonCodes, "fail_closed_endpoint_class_unknown") {
		t.Errorf("unknown endpoint class: %+v", d)
	}
	// A malformed intent blocks for a fail-closed risk class...
	bad := baseIntent()
	bad.Context.RiskClass = "high"
	bad.Context.Identity = ""
	if _, err := Normalize(bad); !errors.Is(err, ErrInvalidIntent) {
		t.Fatalf("Normalize: %v", err)
	}
	if d, ok := p.InvalidIntentDecision("HIGH"); !ok || d.Verdict != Block {
		t.Errorf("invalid intent, fail closed: %+v %v", d, ok)
	}
	// ...and is an error otherwise (never an allow).
	if _, ok := p.InvalidIntentDecision("low"); ok {
		t.Error("invalid intent under a non-fail-closed class should be an error")
	}
	if d := p.Evaluate(nil); d.Verdict != Block {
		t.Errorf("nil intent: %+v", d)
	}
}

func TestPolicyErrors(t *testing.T) {
	for name, y := range map[string]string{
		"unknown field":      "schema_id: gait.gate.policy\nbogus: 1\n",
		"unknown rule field": "rules:\n  - {name: r, effect: allow, colour: red}\n",
		"bad verdict":        "default_verdict: maybe\n",
		"bad effect":         "rules:\n  - {name: r, effect: perhaps}\n",
		"no effect":          "rules:\n  - {name: r}\n",
		"no name":            "rules:\n  - {effect: allow}\n",
		"duplicate rule":     "rules:\n  - {name: r, effect: allow}\n  - {name: r, effect: block}\n",
		"wrong schema":       "schema_id: other\n",
		"wrong version":      "schema_version: 2.0.0\n",
		"bad endpoint class": "rules:\n  - {name: r, effect: allow, match: {endpoint_classes: [fs.nope]}}\n",
		"bad required field": "fail_closed: {enabled: true, required_fields: [nope]}\n",
		"egress not net":     "rules:\n  - {name: r, effect: allow, endpoint: {egress_classes: [fs.read]}}\n",
		"duplicate key":      "default_verdict: allow\ndefault_verdict: block\n",
		"empty":              "",
		"not yaml":           "{[",
	} {
		if _, err := ParsePolicy([]byte(y)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: multi-line error %q", name, err)
		}
	}
}

func TestIntentProfiles(t *testing.T) {
	raw, _ := json.Marshal(baseIntent())
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	m["bogus"] = true
	withUnknown, _ := json.Marshal(m)
	if _, err := ParseIntent(withUnknown, ProfileStandard); err != nil {
		t.Errorf("standard profile rejected an unknown field: %v", err)
	}
	if _, err := ParseIntent(withUnknown, ProfileOSSProd); err == nil {
		t.Error("oss-prod profile accepted an unknown field")
	}
	for _, bad := range []string{`{`, `[]`, `{"tool_name": 3}`, `{"schema_id":"x"}`, `{} {}`} {
		if _, err := ParseIntent([]byte(bad), ProfileStandard); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestTokens(t *testing.T) {
	pair, _ := keys.Generate()
	other, _ := keys.Generate()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	p := mustPolicy(t, "rules:\n  - {name: w, effect: require_approval, min_approvals: 2, match: {tool_names: [tool.write]}}\n")
	in := mustIntent(t, baseIntent())
	mint := func(approver string, mod func(*ApprovalRequest), key keys.Pair) ApprovalToken {
		req := ApprovalRequest{IntentDigest: in.IntentDigest, PolicyDigest: p.Digest(), Approver: approver, ReasonCode: "ok", Scope: []string{"tool:tool.write"}, TTL: time.Hour}
		if mod != nil {
			mod(&req)
		}
		tok, err := MintApproval(req, key.Private, now.Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	enforce := func(toks ...ApprovalToken) Outcome {
		return p.Enforce(in, EnforceOptions{Now: clock, ApprovalTokens: toks, ApprovalKey: pair.Public})
	}
	if out := enforce(mint("a", nil, pair), mint("b", nil, pair)); out.Verdict != Allow || out.ValidApprovals != 2 {
		t.Errorf("two approvers: %+v", out)
	}
	if out := enforce(mint("a", nil, pair), mint("a", nil, pair)); out.Verdict != RequireApproval || !slices.Contains(out.ReasonCodes, CodeApprovalDistinct) {
		t.Errorf("same approver twice must not satisfy distinct approvers: %+v", out)
	}
	expired := mint("b", func(r *ApprovalRequest) { r.TTL = 30 * time.Second }, pair)
	wrongScope := mint("b", func(r *ApprovalRequest) { r.Scope = []string{"tool:tool.read"} }, pair)
	wrongIntent := mint("b", func(r *ApprovalRequest) { r.IntentDigest = strings.Repeat("a", 64) }, pair)
	wrongPolicy := mint("b", func(r *ApprovalRequest) { r.PolicyDigest = strings.Repeat("b", 64) }, pair)
	badSig := mint("b", nil, other)
	tampered := mint("b", nil, pair)
	tampered.ApproverIdentity = "mallory"
	unsigned := mint("b", nil, pair)
	unsigned.Signature = nil
	for code, tok := range map[string]ApprovalToken{
		CodeApprovalExpired: expired, CodeApprovalScope: wrongScope, CodeApprovalIntent: wrongIntent,
		CodeApprovalPolicy: wrongPolicy, CodeApprovalSigInvalid: badSig, CodeApprovalSigMissing: unsigned,
	} {
		out := enforce(mint("a", nil, pair), tok)
		if out.Verdict == Allow || !slices.Contains(out.ReasonCodes, code) {
			t.Errorf("%s: %+v", code, out)
		}
	}
	if out := enforce(mint("a", nil, pair), tampered); out.Verdict == Allow || !slices.Contains(out.ReasonCodes, CodeApprovalSigInvalid) {
		t.Errorf("tampered: %+v", out)
	}
	if out := enforce(); out.Verdict != RequireApproval || !slices.Contains(out.ReasonCodes, CodeApprovalMissing) {
		t.Errorf("no tokens: %+v", out)
	}
	// No verification key: nothing verifies.
	if out := p.Enforce(in, EnforceOptions{Now: clock, ApprovalTokens: []ApprovalToken{mint("a", nil, pair), mint("b", nil, pair)}}); out.Verdict == Allow {
		t.Errorf("no key: %+v", out)
	}
}

func TestDelegationTokens(t *testing.T) {
	pair, _ := keys.Generate()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p := mustPolicy(t, "default_verdict: block\nrules:\n  - {name: d, effect: allow, match: {require_delegation: true, delegation_scopes: [write]}}\n")
	req := baseIntent()
	req.Delegation = &IntentDelegation{RequesterIdentity: "alice", ScopeClass: "write", Chain: []DelegationLink{{DelegatorIdentity: "lead", DelegateIdentity: "alice", ScopeClass: "write"}}}
	in := mustIntent(t, req)
	mint := func(mod func(*DelegationRequest)) DelegationToken {
		r := DelegationRequest{Delegator: "lead", Delegate: "alice", Scope: []string{"write"}, TTL: time.Hour}
		if mod != nil {
			mod(&r)
		}
		tok, err := MintDelegation(r, pair.Private, now)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	run := func(toks ...DelegationToken) Outcome {
		return p.Enforce(in, EnforceOptions{Now: func() time.Time { return now.Add(time.Minute) }, DelegationTokens: toks, DelegationKey: pair.Public})
	}
	if out := run(mint(nil)); out.Verdict != Allow || out.DelegationRef == "" {
		t.Errorf("valid: %+v", out)
	}
	if out := run(); out.Verdict != Block || !slices.Contains(out.ReasonCodes, CodeDelegationMissing) {
		t.Errorf("missing: %+v", out)
	}
	for code, tok := range map[string]DelegationToken{
		CodeDelegationExpired:   mint(func(r *DelegationRequest) { r.TTL = time.Second }),
		CodeDelegationScope:     mint(func(r *DelegationRequest) { r.Scope = []string{"read"} }),
		CodeDelegationDelegate:  mint(func(r *DelegationRequest) { r.Delegate = "bob" }),
		CodeDelegationDelegator: mint(func(r *DelegationRequest) { r.Delegator = "random" }),
		CodeDelegationIntent:    mint(func(r *DelegationRequest) { r.IntentDigest = strings.Repeat("c", 64) }),
	} {
		if out := run(tok); out.Verdict != Block || !slices.Contains(out.ReasonCodes, code) {
			t.Errorf("%s: %+v", code, out)
		}
	}
}

// TestTraceSchemaAndSignature validates traces and tokens against the
// project's schemas (schemas/gate) and checks trace signatures.
func TestTraceSchemaAndSignature(t *testing.T) {
	sch, tokenSch, delegSch := "gate/trace", "gate/approval_token", "gate/delegation_token"
	validate := func(name string, v any) {
		t.Helper()
		raw, _ := json.Marshal(v)
		if err := schemas.Validate(name, raw); err != nil {
			t.Errorf("schema %s: %v\n%s", name, err, raw)
		}
	}
	pair, _ := keys.Generate()
	p := mustPolicy(t, "rules:\n  - {name: d, effect: allow, match: {tool_names: [tool.write]}}\n")
	req := baseIntent()
	req.Delegation = &IntentDelegation{RequesterIdentity: "alice", Chain: []DelegationLink{{DelegatorIdentity: "lead", DelegateIdentity: "alice"}}}
	in := mustIntent(t, req)
	out := p.Enforce(in, EnforceOptions{})
	tr, err := BuildTrace(in, out, pair.Private, "test")
	if err != nil {
		t.Fatal(err)
	}
	validate(sch, tr)
	doc, _ := json.Marshal(tr)
	if err := VerifyTrace(doc, pair.Public); err != nil {
		t.Errorf("VerifyTrace: %v", err)
	}
	// Fields Trace does not model are covered by the signature too.
	var extra map[string]any
	_ = json.Unmarshal(doc, &extra)
	extra["latency_ms"] = 0.5
	if withExtra, _ := json.Marshal(extra); VerifyTrace(withExtra, pair.Public) == nil {
		t.Error("VerifyTrace accepted a field added after signing")
	}
	tr2, _ := BuildTrace(in, out, pair.Private, "test")
	if a, b := mustDigest(t, tr), mustDigest(t, tr2); a != b {
		t.Error("traces of the same decision differ")
	}
	tr.Verdict = Block
	if modified, _ := json.Marshal(tr); VerifyTrace(modified, pair.Public) == nil {
		t.Error("VerifyTrace accepted a modified trace")
	}
	unsigned, _ := BuildTrace(in, out, nil, "test")
	validate(sch, unsigned)
	at, _ := MintApproval(ApprovalRequest{IntentDigest: in.IntentDigest, PolicyDigest: p.Digest(), Approver: "a", ReasonCode: "r", Scope: []string{"*"}, TTL: time.Hour}, pair.Private, time.Now())
	validate(tokenSch, at)
	dt, _ := MintDelegation(DelegationRequest{Delegator: "a", Delegate: "b", Scope: []string{"write"}, TTL: time.Hour}, pair.Private, time.Now())
	validate(delegSch, dt)
}

func TestIntentFromToolCall(t *testing.T) {
	args := map[string]any{
		"path": " /tmp/a.txt ", "url": "https://api.example.com/v1", "query": "select 1",
		"nested": map[string]any{"file": "/tmp/b"}, "note": "see https://docs.example.org/x", "count": 3,
	}
	req := IntentFromToolCall("fs.Delete", args, ToolCallContext{Identity: "agent"})
	var kinds []string
	for _, tg := range req.Targets {
		kinds = append(kinds, tg.Kind+"="+tg.Value)
	}
	want := []string{"other=select 1", "path=/tmp/a.txt", "path=/tmp/b", "url=https://api.example.com/v1"}
	if !slices.Equal(kinds, want) {
		t.Errorf("targets %v, want %v", kinds, want)
	}
	if len(req.ArgProvenance) != len(args) || req.Context.RiskClass != "high" {
		t.Errorf("provenance %v context %+v", req.ArgProvenance, req.Context)
	}
	p := mustPolicy(t, "default_verdict: allow\nrules:\n  - {name: no-delete, effect: block, match: {tool_names: [fs.delete]}}\n")
	d, in, err := p.EvaluateToolCall("fs.Delete", args, ToolCallContext{Identity: "agent"})
	if err != nil || d.Verdict != Block || d.MatchedRule != "no-delete" || in.IntentDigest == "" {
		t.Errorf("EvaluateToolCall: %+v %v", d, err)
	}
	// Deterministic: the same call gives the same digest.
	_, in2, _ := p.EvaluateToolCall("fs.Delete", args, ToolCallContext{Identity: "agent"})
	if in.IntentDigest != in2.IntentDigest {
		t.Error("intent digest is not deterministic")
	}
	// A call that cannot be normalized never allows.
	d, _, err = p.EvaluateToolCall("", args, ToolCallContext{})
	if d.Verdict == Allow || err == nil {
		t.Errorf("empty tool name: %+v %v", d, err)
	}
}

func TestFormatRoundTrip(t *testing.T) {
	p := mustPolicy(t, `
default_verdict: block
fail_closed: {enabled: true, required_fields: [targets]}
rules:
  - {name: b, priority: 2, effect: allow, reason_codes: [y, x], match: {tool_names: [B, a], max_delegation_depth: 0}}
  - {name: a, priority: 2, action: block, endpoint: {path_denylist: [/etc/**]}, destructive_budget: {requests: 3}}
`)
	out, err := p.Format()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParsePolicy(out)
	if err != nil {
		t.Fatalf("formatted policy does not parse: %v\n%s", err, out)
	}
	if q.Digest() != p.Digest() {
		t.Errorf("digest changed by fmt:\n%s", out)
	}
}
