package gate

import (
	"encoding/json"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Decision is what the policy says about one intent, before approval and
// delegation tokens are considered (see Enforce).
//
// ReasonCodes and Violations are sorted. They may share memory with the
// compiled policy: treat them as read-only.
type Decision struct {
	Verdict     Verdict  `json:"verdict"`
	ReasonCodes []string `json:"reason_codes"`
	Violations  []string `json:"violations"`
	// MatchedRule is empty when the default verdict applied.
	MatchedRule              string   `json:"matched_rule,omitempty"`
	MinApprovals             int      `json:"min_approvals,omitempty"`
	RequireDistinctApprovers bool     `json:"require_distinct_approvers,omitempty"`
	RequireDelegation        bool     `json:"require_delegation,omitempty"`
	RequireBrokerCredential  bool     `json:"require_broker_credential,omitempty"`
	BrokerReference          string   `json:"broker_reference,omitempty"`
	BrokerScopes             []string `json:"broker_scopes,omitempty"`
	RateLimit                Limit    `json:"-"`
	DestructiveBudget        Limit    `json:"-"`
	// Steps are a script's per-step decisions (nil for one tool call).
	Steps []StepVerdict `json:"step_verdicts,omitempty"`
}

var (
	emptyList           = []string{}
	reasonIntentInvalid = []string{"fail_closed_intent_invalid"}
	violIntentInvalid   = []string{"intent_not_evaluable"}
)

// FailClosedFor reports whether the policy fails closed for a risk class.
func (p *Policy) FailClosedFor(riskClass string) bool {
	return p.failClosed.enabled && slices.Contains(p.failClosed.riskClasses, lowTrim(riskClass))
}

// InvalidIntentDecision is the decision for an intent that could not be
// normalized: block when the policy fails closed for its risk class,
// ok=false otherwise (the caller must then report the input error).
func (p *Policy) InvalidIntentDecision(riskClass string) (Decision, bool) {
	if !p.FailClosedFor(riskClass) {
		return Decision{}, false
	}
	return Decision{Verdict: Block, ReasonCodes: reasonIntentInvalid, Violations: violIntentInvalid}, true
}

// Evaluate returns the policy decision for a normalized intent. Rules are
// tried in priority order (lowest number first, then by name); the first
// rule whose match holds decides. Required fields under fail_closed are
// checked first. Evaluate does not allocate unless an endpoint, dataflow
// or context constraint fires.
func (p *Policy) Evaluate(in *Intent) Decision {
	if in == nil {
		return Decision{Verdict: Block, ReasonCodes: reasonIntentInvalid, Violations: violIntentInvalid}
	}
	if in.Script != nil {
		return p.evaluateScript(in)
	}
	if p.FailClosedFor(in.Context.RiskClass) {
		if d, blocked := p.failClosedCheck(in); blocked {
			return d
		}
	}
	for i := range p.rules {
		r := &p.rules[i]
		if !r.matches(in) {
			continue
		}
		return r.decide(in)
	}
	d := Decision{Verdict: p.defaultVerdict, ReasonCodes: p.defaultReasons, Violations: emptyList}
	if p.defaultVerdict == RequireApproval {
		d.MinApprovals = 1
	}
	return d
}

func (p *Policy) failClosedCheck(in *Intent) (Decision, bool) {
	var reasons, violations []string
	for _, f := range p.failClosed.requiredFields {
		switch f {
		case "targets":
			if len(in.Targets) == 0 {
				reasons = append(reasons, "fail_closed_missing_targets")
				violations = append(violations, "missing_targets")
			}
		case "arg_provenance":
			if len(in.ArgProvenance) == 0 {
				reasons = append(reasons, "fail_closed_missing_arg_provenance")
				violations = append(violations, "missing_arg_provenance")
			}
		case "endpoint_class":
			for i := range in.Targets {
				if c := in.Targets[i].EndpointClass; c == "" || c == "other" {
					reasons = append(reasons, "fail_closed_missing_endpoint_class")
					violations = append(violations, "missing_endpoint_class")
					break
				}
			}
		case "delegation":
			if in.Delegation == nil {
				reasons = append(reasons, "fail_closed_missing_delegation")
				violations = append(violations, "missing_delegation")
			}
		case "context_evidence":
			if in.Context.ContextSetDigest == "" {
				reasons = append(reasons, "context_evidence_missing")
				violations = append(violations, "missing_context_evidence")
			}
		}
	}
	for i := range in.Targets {
		if c := in.Targets[i].EndpointClass; c == "" || c == "other" {
			reasons = append(reasons, "fail_closed_endpoint_class_unknown")
			violations = append(violations, "endpoint_class_unknown")
			break
		}
	}
	if len(reasons) == 0 {
		return Decision{}, false
	}
	return Decision{Verdict: Block, ReasonCodes: mergeSorted(reasons), Violations: mergeSorted(violations)}, true
}

func (r *rule) decide(in *Intent) Decision {
	d := Decision{
		Verdict: r.effect, ReasonCodes: r.reasons, Violations: r.violations, MatchedRule: r.name,
		MinApprovals: r.minApprovals, RequireDistinctApprovers: r.distinct, RequireDelegation: r.requireDelegation,
		RequireBrokerCredential: r.brokerRequired, BrokerReference: r.brokerReference, BrokerScopes: r.brokerScopes,
		RateLimit: r.rateLimit, DestructiveBudget: r.budget,
	}
	var extraReasons, extraViolations []string
	if r.dataflow != nil {
		if v, ok := r.dataflow.check(in); ok {
			d.Verdict = v
			extraReasons = append(extraReasons, r.dataflow.reasonCode)
			extraViolations = append(extraViolations, r.dataflow.violation)
		}
	}
	if r.endpoint != nil {
		if v, rs, vs := r.endpoint.check(in); len(rs) > 0 {
			d.Verdict = stricter(d.Verdict, v)
			extraReasons = append(extraReasons, rs...)
			extraViolations = append(extraViolations, vs...)
		}
	}
	if r.contextRequired {
		if rs, vs := r.checkContext(in); len(rs) > 0 {
			d.Verdict = Block
			extraReasons = append(extraReasons, rs...)
			extraViolations = append(extraViolations, vs...)
		}
	}
	phaseReasons := r.reasons
	if in.destructive {
		switch in.Context.Phase {
		case "plan":
			d.Verdict = stricter(d.Verdict, DryRun)
			phaseReasons = r.reasonsPlan
		case "", "apply":
			d.Verdict = stricter(d.Verdict, RequireApproval)
			phaseReasons = r.reasonsApply
		}
	}
	if len(extraReasons) > 0 {
		d.ReasonCodes = mergeSorted(phaseReasons, extraReasons...)
		d.Violations = mergeSorted(r.violations, extraViolations...)
	} else {
		d.ReasonCodes = phaseReasons
	}
	if d.Verdict == RequireApproval && d.MinApprovals == 0 {
		d.MinApprovals = 1
	}
	return d
}

// contains is a linear search: rule lists are short, and a scan over a few
// strings beats hashing.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (r *rule) matches(in *Intent) bool {
	if len(r.toolNames) > 0 && !contains(r.toolNames, in.ToolName) {
		return false
	}
	if len(r.riskClasses) > 0 && !contains(r.riskClasses, in.Context.RiskClass) {
		return false
	}
	if len(r.identities) > 0 && !contains(r.identities, in.Context.Identity) {
		return false
	}
	if len(r.workspacePrefixes) > 0 {
		ok := false
		for _, p := range r.workspacePrefixes {
			if strings.HasPrefix(in.Context.Workspace, p) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if !ctxMatch(r.ctxToolNames, in, "wrkr.tool_name") || !ctxMatch(r.ctxDataClasses, in, "wrkr.data_class") ||
		!ctxMatch(r.ctxEndpointClasses, in, "wrkr.endpoint_class") || !ctxMatch(r.ctxLevel, in, "wrkr.autonomy_level") {
		return false
	}
	if !anyTarget(r.targetKinds, in.Targets, func(t *Target) string { return t.Kind }) ||
		!anyTarget(r.targetValues, in.Targets, func(t *Target) string { return t.Value }) ||
		!anyTarget(r.endpointClasses, in.Targets, func(t *Target) string { return t.EndpointClass }) ||
		!anyTarget(r.discovery, in.Targets, func(t *Target) string { return t.DiscoveryMethod }) {
		return false
	}
	if !r.annotationsMatch(in.Targets) {
		return false
	}
	if len(r.skillPublishers) > 0 && (in.SkillProvenance == nil || !contains(r.skillPublishers, strings.ToLower(in.SkillProvenance.Publisher))) {
		return false
	}
	if len(r.skillSources) > 0 && (in.SkillProvenance == nil || !contains(r.skillSources, in.SkillProvenance.Source)) {
		return false
	}
	if !anyTarget(r.dataClasses, in.Targets, func(t *Target) string { return t.Sensitivity }) ||
		!anyTarget(r.destKinds, in.Targets, func(t *Target) string { return t.Kind }) ||
		!anyTarget(r.destValues, in.Targets, func(t *Target) string { return t.Value }) ||
		!anyTarget(r.destOps, in.Targets, func(t *Target) string { return t.Operation }) {
		return false
	}
	if len(r.provenance) > 0 {
		ok := false
		for i := range in.ArgProvenance {
			if contains(r.provenance, in.ArgProvenance[i].Source) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return !r.delegationConstrained || r.delegationMatches(in.Delegation)
}

func anyTarget(want []string, targets []Target, field func(*Target) string) bool {
	if len(want) == 0 {
		return true
	}
	for i := range targets {
		if contains(want, field(&targets[i])) {
			return true
		}
	}
	return false
}

func ctxMatch(want []string, in *Intent, key string) bool {
	if len(want) == 0 {
		return true
	}
	s, _ := in.Context.AuthContext[key].(string)
	s = lowTrim(s)
	return s != "" && contains(want, s)
}

func (r *rule) annotationsMatch(targets []Target) bool {
	for i, want := range r.annotations {
		if want < 0 {
			continue
		}
		ok := false
		for j := range targets {
			t := &targets[j]
			got := [4]bool{t.ReadOnlyHint, t.DestructiveHint, t.IdempotentHint, t.OpenWorldHint}[i]
			if got == (want == 1) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (r *rule) delegationMatches(d *Delegation) bool {
	if d == nil {
		return false
	}
	if r.maxDepth >= 0 && len(d.Chain) > r.maxDepth {
		return false
	}
	if len(r.delegators) > 0 {
		ok := false
		for i := range d.Chain {
			if contains(r.delegators, d.Chain[i].DelegatorIdentity) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(r.delegates) > 0 && !contains(r.delegates, d.RequesterIdentity) {
		ok := false
		for i := range d.Chain {
			if contains(r.delegates, d.Chain[i].DelegateIdentity) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(r.delegationScopes) > 0 && !contains(r.delegationScopes, d.ScopeClass) {
		ok := false
		for i := range d.Chain {
			if contains(r.delegationScopes, d.Chain[i].ScopeClass) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (df *dataflowRule) check(in *Intent) (Verdict, bool) {
	tainted := false
	for i := range in.ArgProvenance {
		if contains(df.tainted, in.ArgProvenance[i].Source) {
			tainted = true
			break
		}
	}
	if !tainted || len(in.Targets) == 0 {
		return "", false
	}
	for i := range in.Targets {
		t := &in.Targets[i]
		if len(df.kinds) == 0 && len(df.values) == 0 && len(df.ops) == 0 {
			switch t.Kind {
			case "host", "url", "bucket", "queue", "topic":
				return df.action, true
			}
			continue
		}
		if len(df.kinds) > 0 && !contains(df.kinds, t.Kind) {
			continue
		}
		if len(df.values) > 0 && !contains(df.values, t.Value) {
			continue
		}
		if len(df.ops) > 0 && !contains(df.ops, t.Operation) {
			continue
		}
		return df.action, true
	}
	return "", false
}

func (e *endpointRule) check(in *Intent) (Verdict, []string, []string) {
	var reasons, violations []string
	add := func(code string) {
		reasons = append(reasons, code)
		violations = append(violations, code)
	}
	for i := range in.Targets {
		t := &in.Targets[i]
		if t.Kind == "path" {
			if len(e.pathDeny) > 0 && matchAnyPath(t.Value, e.pathDeny) {
				add("endpoint_path_denied")
			}
			if len(e.pathAllow) > 0 && !matchAnyPath(t.Value, e.pathAllow) {
				add("endpoint_path_not_allowlisted")
			}
		}
		if t.EndpointDomain != "" {
			if len(e.domainDeny) > 0 && matchAnyDomain(t.EndpointDomain, e.domainDeny) {
				add("endpoint_domain_denied")
			}
			if len(e.domainAllow) > 0 && !matchAnyDomain(t.EndpointDomain, e.domainAllow) {
				add("endpoint_domain_not_allowlisted")
			}
		}
		if strings.HasPrefix(t.EndpointClass, "net.") && len(e.egress) > 0 && !contains(e.egress, t.EndpointClass) {
			add("endpoint_egress_class_not_allowed")
		}
	}
	verdict := e.action
	if e.destructiveAction != "" && in.destructive {
		verdict = stricter(verdict, e.destructiveAction)
		reasons = append(reasons, "endpoint_destructive_operation")
		violations = append(violations, "destructive_operation")
	}
	if len(reasons) == 0 {
		return "", nil, nil
	}
	reasons = append(reasons, e.reasonCode)
	violations = append(violations, e.violation)
	return verdict, reasons, violations
}

func matchAnyPath(value string, patterns []string) bool {
	for _, p := range patterns {
		if p == value {
			return true
		}
		if prefix, ok := strings.CutSuffix(p, "/**"); ok && (value == prefix || strings.HasPrefix(value, prefix+"/")) {
			return true
		}
		if ok, err := path.Match(p, value); err == nil && ok {
			return true
		}
	}
	return false
}

func matchAnyDomain(value string, patterns []string) bool {
	for _, p := range patterns {
		if p == value {
			return true
		}
		if strings.HasPrefix(p, "*.") && strings.HasSuffix(value, p[1:]) {
			return true
		}
		if ok, err := path.Match(p, value); err == nil && ok {
			return true
		}
	}
	return false
}

func (r *rule) checkContext(in *Intent) ([]string, []string) {
	var reasons, violations []string
	if in.Context.ContextSetDigest == "" {
		reasons = append(reasons, "context_evidence_missing", "context_set_digest_missing")
		violations = append(violations, "missing_context_evidence")
	}
	if r.contextMode == "required" && in.Context.ContextEvidenceMode != "required" {
		reasons = append(reasons, "context_evidence_mode_mismatch")
		violations = append(violations, "context_evidence_mode_violation")
	}
	if r.maxContextAge > 0 {
		age, ok := contextAge(in.Context.AuthContext["context_age_seconds"])
		if !ok || age > r.maxContextAge {
			reasons = append(reasons, "context_freshness_exceeded")
			violations = append(violations, "context_freshness_violation")
		}
	}
	return reasons, violations
}

func contextAge(v any) (int64, bool) {
	switch t := v.(type) {
	case json.Number:
		if n, err := t.Int64(); err == nil && n >= 0 {
			return n, true
		}
		if f, err := t.Float64(); err == nil && f >= 0 {
			return int64(f), true
		}
	case float64:
		if t >= 0 {
			return int64(t), true
		}
	case int:
		return int64(t), t >= 0
	case int64:
		return t, t >= 0
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64); err == nil && n >= 0 {
			return n, true
		}
	}
	return 0, false
}
