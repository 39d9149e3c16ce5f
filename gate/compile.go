package gate

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Allowed enumerations.
var (
	targetKinds       = []string{"bucket", "host", "other", "path", "queue", "repo", "table", "topic", "url"}
	provenanceSources = []string{"external", "system", "tool_output", "user"}
	endpointClasses   = []string{"fs.delete", "fs.read", "fs.write", "net.dns", "net.http", "other", "proc.exec", "ui.click", "ui.navigate", "ui.type"}
	discoveryMethods  = []string{"a2a", "dynamic_mcp", "manual", "mcp", "static_mcp", "unknown", "webmcp"}
	requiredFields    = []string{"arg_provenance", "context_evidence", "delegation", "endpoint_class", "targets"}
	limitWindows      = []string{"hour", "minute"}
	limitScopes       = []string{"identity", "tool", "tool_identity"}
)

// rule is one compiled rule. String lists are sorted and de-duplicated;
// reason and violation lists are precomputed so that Evaluate returns
// shared slices instead of building new ones.
type rule struct {
	name     string
	priority int
	effect   Verdict

	toolNames, riskClasses, identities, workspacePrefixes      []string
	targetKinds, targetValues, endpointClasses, discovery      []string
	skillPublishers, skillSources, dataClasses                 []string
	destKinds, destValues, destOps, provenance                 []string
	ctxToolNames, ctxDataClasses, ctxEndpointClasses, ctxLevel []string
	annotations                                                [4]int8 // -1 unset; read_only, destructive, idempotent, open_world

	delegationConstrained bool
	requireDelegation     bool
	delegators, delegates []string
	delegationScopes      []string
	maxDepth              int // -1 when unset

	reasons, violations []string
	// reasons with destructive_apply_requires_approval / plan_phase_non_destructive merged in
	reasonsApply, reasonsPlan []string

	minApprovals    int
	distinct        bool
	brokerRequired  bool
	brokerReference string
	brokerScopes    []string
	rateLimit       Limit
	budget          Limit
	endpoint        *endpointRule
	dataflow        *dataflowRule
	contextRequired bool
	contextMode     string
	maxContextAge   int64
}

type endpointRule struct {
	pathAllow, pathDeny, domainAllow, domainDeny, egress []string
	action, destructiveAction                            Verdict
	reasonCode, violation                                string
}

type dataflowRule struct {
	tainted, kinds, values, ops []string
	action                      Verdict
	reasonCode, violation       string
}

func normList(in []string, lower bool) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if lower {
			s = strings.ToLower(s)
		}
		if s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

func checkEnum(field, rule string, values, allowed []string) error {
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			return fmt.Errorf("rule %q: %s %q is not one of %s", rule, field, v, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func normVerdict(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func normLimit(l *limitFile, what, name string) (*limitFile, Limit, error) {
	if l == nil {
		return nil, Limit{}, nil
	}
	l.Window = strings.ToLower(strings.TrimSpace(l.Window))
	l.Scope = strings.ToLower(strings.TrimSpace(l.Scope))
	if l.Requests < 0 {
		return nil, Limit{}, fmt.Errorf("rule %q: %s.requests must be >= 1", name, what)
	}
	if l.Requests == 0 && l.Window == "" && l.Scope == "" {
		return nil, Limit{}, nil
	}
	if l.Requests == 0 {
		return nil, Limit{}, fmt.Errorf("rule %q: %s.requests must be >= 1", name, what)
	}
	if l.Window == "" {
		l.Window = "minute"
	}
	if l.Scope == "" {
		l.Scope = "tool_identity"
	}
	if !slices.Contains(limitWindows, l.Window) {
		return nil, Limit{}, fmt.Errorf("rule %q: %s.window %q is not minute or hour", name, what, l.Window)
	}
	if !slices.Contains(limitScopes, l.Scope) {
		return nil, Limit{}, fmt.Errorf("rule %q: %s.scope %q is not tool, identity or tool_identity", name, what, l.Scope)
	}
	return l, Limit{Requests: l.Requests, Window: l.Window, Scope: l.Scope}, nil
}

// compile normalizes doc in place and builds the evaluation form.
func compile(doc policyFile) (*Policy, error) {
	if doc.SchemaID == "" {
		doc.SchemaID = PolicySchemaID
	}
	if doc.SchemaID != PolicySchemaID {
		return nil, fmt.Errorf("schema_id %q is not %s", doc.SchemaID, PolicySchemaID)
	}
	if doc.SchemaVersion == "" {
		doc.SchemaVersion = SchemaVersion
	}
	if doc.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("schema_version %q is not supported (want %s)", doc.SchemaVersion, SchemaVersion)
	}
	doc.DefaultVerdict = normVerdict(doc.DefaultVerdict)
	action := normVerdict(doc.DefaultAction)
	if doc.DefaultVerdict == "" {
		doc.DefaultVerdict = action
	}
	if action != "" && action != doc.DefaultVerdict {
		return nil, errors.New("default_action and default_verdict disagree")
	}
	doc.DefaultAction = ""
	if doc.DefaultVerdict == "" {
		doc.DefaultVerdict = string(RequireApproval)
	}
	if !Verdict(doc.DefaultVerdict).Valid() {
		return nil, fmt.Errorf("default_verdict %q is not allow, block, dry_run or require_approval", doc.DefaultVerdict)
	}
	p := &Policy{defaultVerdict: Verdict(doc.DefaultVerdict), defaultReasons: []string{"default_" + doc.DefaultVerdict}}
	if fc := doc.FailClosed; fc != nil {
		fc.RiskClasses = normList(fc.RiskClasses, true)
		if fc.Enabled && len(fc.RiskClasses) == 0 {
			fc.RiskClasses = []string{"critical", "high"}
		}
		fc.RequiredFields = normList(fc.RequiredFields, true)
		for _, f := range fc.RequiredFields {
			if !slices.Contains(requiredFields, f) {
				return nil, fmt.Errorf("fail_closed.required_fields %q is not one of %s", f, strings.Join(requiredFields, ", "))
			}
		}
		p.failClosed = failClosed{enabled: fc.Enabled, riskClasses: fc.RiskClasses, requiredFields: fc.RequiredFields}
		if !fc.Enabled && len(fc.RiskClasses) == 0 && len(fc.RequiredFields) == 0 {
			doc.FailClosed = nil
		}
	}
	mt, err := compileMCPTrust(doc.MCPTrust)
	if err != nil {
		return nil, err
	}
	p.mcpTrust = mt
	if s := doc.Scripts; s != nil {
		if s.MaxSteps < 0 || s.RequireApprovalAbove < 0 {
			return nil, errors.New("scripts.max_steps and scripts.require_approval_above must be >= 0")
		}
		if *s == (scriptsFile{}) {
			doc.Scripts = nil
		}
	}
	seen := make(map[string]bool, len(doc.Rules))
	for i := range doc.Rules {
		if err := normRule(&doc.Rules[i]); err != nil {
			return nil, err
		}
		if seen[doc.Rules[i].Name] {
			return nil, fmt.Errorf("rule %q is defined twice", doc.Rules[i].Name)
		}
		seen[doc.Rules[i].Name] = true
	}
	slices.SortStableFunc(doc.Rules, func(a, b ruleFile) int {
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		return strings.Compare(a.Name, b.Name)
	})
	p.rules = make([]rule, len(doc.Rules))
	for i := range doc.Rules {
		p.rules[i] = buildRule(&doc.Rules[i])
	}
	d, err := policyDigest(&doc, p.rules)
	if err != nil {
		return nil, err
	}
	p.digest = d
	p.doc = doc
	return p, nil
}

// normRule validates and normalizes one rule document in place.
func normRule(r *ruleFile) error {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		return errors.New("a rule has no name")
	}
	if r.Priority < 0 {
		return fmt.Errorf("rule %q: priority must be >= 0", r.Name)
	}
	r.Effect = normVerdict(r.Effect)
	action := normVerdict(r.Action)
	if r.Effect == "" {
		r.Effect = action
	}
	if action != "" && action != r.Effect {
		return fmt.Errorf("rule %q: action and effect disagree", r.Name)
	}
	r.Action = ""
	if r.Effect == "" {
		return fmt.Errorf("rule %q: effect is missing", r.Name)
	}
	if !Verdict(r.Effect).Valid() {
		return fmt.Errorf("rule %q: effect %q is not allow, block, dry_run or require_approval", r.Name, r.Effect)
	}
	m := &r.Match
	if t := strings.TrimSpace(m.ToolName); t != "" {
		m.ToolNames = append(m.ToolNames, t)
	}
	m.ToolName = ""
	m.ToolNames = normList(m.ToolNames, true)
	m.RiskClasses = normList(m.RiskClasses, true)
	m.TargetKinds = normList(m.TargetKinds, true)
	m.TargetValues = normList(m.TargetValues, false)
	m.EndpointClasses = normList(append(m.EndpointClasses, m.EndpointClass...), true)
	m.EndpointClass = nil
	if err := checkEnum("match.endpoint_classes", r.Name, m.EndpointClasses, endpointClasses); err != nil {
		return err
	}
	m.DiscoveryMethods = normList(m.DiscoveryMethods, true)
	if err := checkEnum("match.discovery_method", r.Name, m.DiscoveryMethods, discoveryMethods); err != nil {
		return err
	}
	if a := m.ToolAnnotations; a != nil && *a == (annotationFile{}) {
		m.ToolAnnotations = nil
	}
	m.SkillPublishers = normList(m.SkillPublishers, true)
	m.SkillSources = normList(m.SkillSources, true)
	m.DataClasses = normList(m.DataClasses, true)
	m.DestinationKinds = normList(m.DestinationKinds, true)
	m.DestinationValues = normList(m.DestinationValues, false)
	m.DestinationOperations = normList(m.DestinationOperations, true)
	m.ProvenanceSources = normList(m.ProvenanceSources, true)
	m.Identities = normList(m.Identities, false)
	m.WorkspacePrefixes = normList(m.WorkspacePrefixes, false)
	m.ContextToolNames = normList(m.ContextToolNames, true)
	m.ContextDataClasses = normList(m.ContextDataClasses, true)
	m.ContextEndpointClasses = normList(m.ContextEndpointClasses, true)
	m.ContextAutonomyLevels = normList(m.ContextAutonomyLevels, true)
	m.AllowedDelegatorIdentities = normList(m.AllowedDelegatorIdentities, false)
	m.AllowedDelegateIdentities = normList(m.AllowedDelegateIdentities, false)
	m.DelegationScopes = normList(m.DelegationScopes, true)
	if m.MaxDelegationDepth != nil && *m.MaxDelegationDepth < 0 {
		return fmt.Errorf("rule %q: match.max_delegation_depth must be >= 0", r.Name)
	}
	r.ReasonCodes = normList(r.ReasonCodes, false)
	r.Violations = normList(r.Violations, false)
	if r.MinApprovals < 0 {
		return fmt.Errorf("rule %q: min_approvals must be >= 1", r.Name)
	}
	if r.MinApprovals > 1 {
		r.RequireDistinctApprovers = true
	}
	r.RequiredContextEvidenceMode = strings.ToLower(strings.TrimSpace(r.RequiredContextEvidenceMode))
	if r.RequiredContextEvidenceMode != "" && r.RequiredContextEvidenceMode != "required" {
		return fmt.Errorf("rule %q: required_context_evidence_mode must be required", r.Name)
	}
	if r.RequireContextEvidence && r.RequiredContextEvidenceMode == "" {
		r.RequiredContextEvidenceMode = "required"
	}
	if r.MaxContextAgeSeconds < 0 {
		return fmt.Errorf("rule %q: max_context_age_seconds must be >= 0", r.Name)
	}
	r.BrokerReference = strings.TrimSpace(r.BrokerReference)
	r.BrokerScopes = normList(r.BrokerScopes, true)
	var err error
	if r.RateLimit, _, err = normLimit(r.RateLimit, "rate_limit", r.Name); err != nil {
		return err
	}
	if r.DestructiveBudget, _, err = normLimit(r.DestructiveBudget, "destructive_budget", r.Name); err != nil {
		return err
	}
	if d := r.Dataflow; d != nil {
		d.TaintedSources = normList(d.TaintedSources, true)
		d.DestinationKinds = normList(d.DestinationKinds, true)
		d.DestinationValues = normList(d.DestinationValues, false)
		d.DestinationOperations = normList(d.DestinationOperations, true)
		d.Action = normVerdict(d.Action)
		d.ReasonCode = strings.TrimSpace(d.ReasonCode)
		d.Violation = strings.TrimSpace(d.Violation)
		if d.Enabled || len(d.TaintedSources)+len(d.DestinationKinds)+len(d.DestinationValues)+len(d.DestinationOperations) > 0 {
			d.Enabled = true
			if len(d.TaintedSources) == 0 {
				d.TaintedSources = []string{"external", "tool_output"}
			}
			if d.Action == "" {
				d.Action = string(RequireApproval)
			}
			if d.Action != string(Block) && d.Action != string(RequireApproval) {
				return fmt.Errorf("rule %q: dataflow.action %q is not block or require_approval", r.Name, d.Action)
			}
			if d.ReasonCode == "" {
				d.ReasonCode = "dataflow_tainted_destination"
			}
			if d.Violation == "" {
				d.Violation = "tainted_dataflow"
			}
		} else {
			r.Dataflow = nil
		}
	}
	if e := r.Endpoint; e != nil {
		e.PathAllowlist = normList(e.PathAllowlist, false)
		e.PathDenylist = normList(e.PathDenylist, false)
		e.DomainAllowlist = normList(e.DomainAllowlist, true)
		e.DomainDenylist = normList(e.DomainDenylist, true)
		e.EgressClasses = normList(e.EgressClasses, true)
		if err := checkEnum("endpoint.egress_classes", r.Name, e.EgressClasses, endpointClasses); err != nil {
			return err
		}
		for _, c := range e.EgressClasses {
			if !strings.HasPrefix(c, "net.") {
				return fmt.Errorf("rule %q: endpoint.egress_classes %q is not a network class (net.*)", r.Name, c)
			}
		}
		e.Action = normVerdict(e.Action)
		e.DestructiveAction = normVerdict(e.DestructiveAction)
		e.ReasonCode = strings.TrimSpace(e.ReasonCode)
		e.Violation = strings.TrimSpace(e.Violation)
		if e.Enabled || len(e.PathAllowlist)+len(e.PathDenylist)+len(e.DomainAllowlist)+len(e.DomainDenylist)+len(e.EgressClasses) > 0 || e.DestructiveAction != "" {
			e.Enabled = true
			if e.Action == "" {
				e.Action = string(Block)
			}
			for _, a := range []string{e.Action, e.DestructiveAction} {
				if a != "" && a != string(Block) && a != string(RequireApproval) {
					return fmt.Errorf("rule %q: endpoint action %q is not block or require_approval", r.Name, a)
				}
			}
			if e.ReasonCode == "" {
				e.ReasonCode = "endpoint_constraint_violation"
			}
			if e.Violation == "" {
				e.Violation = "endpoint_constraint_violation"
			}
		} else {
			r.Endpoint = nil
		}
	}
	return nil
}

func buildRule(rf *ruleFile) rule {
	m := &rf.Match
	r := rule{
		name: rf.Name, priority: rf.Priority, effect: Verdict(rf.Effect),
		toolNames: m.ToolNames, riskClasses: m.RiskClasses, identities: m.Identities, workspacePrefixes: m.WorkspacePrefixes,
		targetKinds: m.TargetKinds, targetValues: m.TargetValues, endpointClasses: m.EndpointClasses, discovery: m.DiscoveryMethods,
		skillPublishers: m.SkillPublishers, skillSources: m.SkillSources, dataClasses: m.DataClasses,
		destKinds: m.DestinationKinds, destValues: m.DestinationValues, destOps: m.DestinationOperations, provenance: m.ProvenanceSources,
		ctxToolNames: m.ContextToolNames, ctxDataClasses: m.ContextDataClasses, ctxEndpointClasses: m.ContextEndpointClasses, ctxLevel: m.ContextAutonomyLevels,
		annotations:       [4]int8{-1, -1, -1, -1},
		requireDelegation: m.RequireDelegation,
		delegators:        m.AllowedDelegatorIdentities, delegates: m.AllowedDelegateIdentities, delegationScopes: m.DelegationScopes,
		maxDepth:       -1,
		violations:     nonNil(rf.Violations),
		minApprovals:   rf.MinApprovals,
		distinct:       rf.RequireDistinctApprovers,
		brokerRequired: rf.RequireBrokerCredential, brokerReference: rf.BrokerReference, brokerScopes: rf.BrokerScopes,
		contextMode:   rf.RequiredContextEvidenceMode,
		maxContextAge: rf.MaxContextAgeSeconds,
	}
	if a := m.ToolAnnotations; a != nil {
		for i, h := range []*bool{a.ReadOnlyHint, a.DestructiveHint, a.IdempotentHint, a.OpenWorldHint} {
			if h != nil {
				r.annotations[i] = 0
				if *h {
					r.annotations[i] = 1
				}
			}
		}
	}
	if m.MaxDelegationDepth != nil {
		r.maxDepth = *m.MaxDelegationDepth
	}
	r.delegationConstrained = r.requireDelegation || len(r.delegators) > 0 || len(r.delegates) > 0 || len(r.delegationScopes) > 0 || r.maxDepth >= 0
	r.reasons = rf.ReasonCodes
	if len(r.reasons) == 0 {
		r.reasons = []string{"matched_rule_" + ruleTag(rf.Name)}
	}
	r.reasonsApply = mergeSorted(r.reasons, "destructive_apply_requires_approval")
	r.reasonsPlan = mergeSorted(r.reasons, "plan_phase_non_destructive")
	r.contextRequired = rf.RequireContextEvidence || rf.RequiredContextEvidenceMode == "required" || rf.MaxContextAgeSeconds > 0
	if l := rf.RateLimit; l != nil {
		r.rateLimit = Limit{Requests: l.Requests, Window: l.Window, Scope: l.Scope}
	}
	if l := rf.DestructiveBudget; l != nil {
		r.budget = Limit{Requests: l.Requests, Window: l.Window, Scope: l.Scope}
	}
	if e := rf.Endpoint; e != nil {
		r.endpoint = &endpointRule{
			pathAllow: e.PathAllowlist, pathDeny: e.PathDenylist, domainAllow: e.DomainAllowlist, domainDeny: e.DomainDenylist,
			egress: e.EgressClasses, action: Verdict(e.Action), destructiveAction: Verdict(e.DestructiveAction),
			reasonCode: e.ReasonCode, violation: e.Violation,
		}
	}
	if d := rf.Dataflow; d != nil {
		r.dataflow = &dataflowRule{
			tainted: d.TaintedSources, kinds: d.DestinationKinds, values: d.DestinationValues, ops: d.DestinationOperations,
			action: Verdict(d.Action), reasonCode: d.ReasonCode, violation: d.Violation,
		}
	}
	return r
}

// ruleTag turns a rule name into the suffix of its default reason code.
func ruleTag(name string) string {
	s := strings.ToLower(name)
	s = strings.ReplaceAll(s, " ", "_")
	return strings.ReplaceAll(s, "-", "_")
}

// mergeSorted returns the sorted union of sorted list and extra values.
func mergeSorted(list []string, extra ...string) []string {
	out := make([]string, 0, len(list)+len(extra))
	out = append(out, list...)
	for _, e := range extra {
		if e != "" {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
