// Package gate decides, before a tool call runs, whether it may run.
//
// A policy (gait.gate.policy YAML) is loaded and compiled once with
// LoadPolicy or ParsePolicy; the compiled *Policy evaluates normalized
// intents (gait.gate.intent_request) without allocating in the common path.
// Evaluate gives the policy's decision alone; Enforce adds approval and
// delegation tokens and gives the final verdict; BuildTrace turns an
// outcome into a signed gait.gate.trace record.
//
// The gate fails closed: a policy it cannot read is an error, an intent it
// cannot normalize is blocked under fail_closed risk classes and an error
// otherwise, and a token that is expired, out of scope, bound to another
// intent or policy, or wrongly signed never turns a verdict into allow.
package gate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
)

// Schema identifiers of the gate formats.
const (
	PolicySchemaID        = "gait.gate.policy"
	IntentSchemaID        = "gait.gate.intent_request"
	ResultSchemaID        = "gait.gate.result"
	TraceSchemaID         = "gait.gate.trace"
	ApprovalTokenSchemaID = "gait.gate.approval_token" //nolint:gosec // a schema id, not a credential
	DelegationSchemaID    = "gait.gate.delegation_token"
	SchemaVersion         = "1.0.0"
)

// Verdict is the gate's answer for one intent.
type Verdict string

// The four verdicts, from least to most restrictive.
const (
	Allow           Verdict = "allow"
	DryRun          Verdict = "dry_run"
	RequireApproval Verdict = "require_approval"
	Block           Verdict = "block"
)

func (v Verdict) rank() int {
	switch v {
	case Allow:
		return 0
	case DryRun:
		return 1
	case RequireApproval:
		return 2
	case Block:
		return 3
	}
	return 3 // unknown verdicts are treated as the most restrictive
}

// Valid reports whether v is one of the four verdicts.
func (v Verdict) Valid() bool {
	switch v {
	case Allow, DryRun, RequireApproval, Block:
		return true
	}
	return false
}

// ExitCode maps a verdict to the process exit code: allow and dry_run 0,
// block 3, require_approval 4.
func (v Verdict) ExitCode() exitcode.Code {
	switch v {
	case Allow, DryRun:
		return exitcode.OK
	case RequireApproval:
		return exitcode.ApprovalRequired
	}
	return exitcode.PolicyBlock
}

// stricter returns the more restrictive of a and b.
func stricter(a, b Verdict) Verdict {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// policyFile is the YAML document. Unknown fields are rejected.
type policyFile struct {
	SchemaID       string          `yaml:"schema_id,omitempty"`
	SchemaVersion  string          `yaml:"schema_version,omitempty"`
	DefaultVerdict string          `yaml:"default_verdict,omitempty"`
	DefaultAction  string          `yaml:"default_action,omitempty"`
	Scripts        *scriptsFile    `yaml:"scripts,omitempty"`
	FailClosed     *failClosedFile `yaml:"fail_closed,omitempty"`
	MCPTrust       *mcpTrustFile   `yaml:"mcp_trust,omitempty"`
	Rules          []ruleFile      `yaml:"rules,omitempty"`
}

type scriptsFile struct {
	MaxSteps             int  `yaml:"max_steps,omitempty"`
	RequireApprovalAbove int  `yaml:"require_approval_above,omitempty"`
	BlockMixedRisk       bool `yaml:"block_mixed_risk,omitempty"`
}

type failClosedFile struct {
	Enabled        bool     `yaml:"enabled,omitempty"`
	RiskClasses    []string `yaml:"risk_classes,omitempty,flow"`
	RequiredFields []string `yaml:"required_fields,omitempty,flow"`
}

type mcpTrustFile struct {
	Enabled             bool     `yaml:"enabled,omitempty"`
	Snapshot            string   `yaml:"snapshot,omitempty"`
	Action              string   `yaml:"action,omitempty"`
	RequiredRiskClasses []string `yaml:"required_risk_classes,omitempty,flow"`
	MinScore            float64  `yaml:"min_score,omitempty"`
	MaxAge              string   `yaml:"max_age,omitempty"`
	PublisherAllowlist  []string `yaml:"publisher_allowlist,omitempty,flow"`
	RequireRegistry     bool     `yaml:"require_registry,omitempty"`
}

type ruleFile struct {
	Name                        string        `yaml:"name"`
	Priority                    int           `yaml:"priority,omitempty"`
	Effect                      string        `yaml:"effect,omitempty"`
	Action                      string        `yaml:"action,omitempty"`
	MinApprovals                int           `yaml:"min_approvals,omitempty"`
	RequireDistinctApprovers    bool          `yaml:"require_distinct_approvers,omitempty"`
	RequireContextEvidence      bool          `yaml:"require_context_evidence,omitempty"`
	RequiredContextEvidenceMode string        `yaml:"required_context_evidence_mode,omitempty"`
	MaxContextAgeSeconds        int64         `yaml:"max_context_age_seconds,omitempty"`
	RequireBrokerCredential     bool          `yaml:"require_broker_credential,omitempty"`
	BrokerReference             string        `yaml:"broker_reference,omitempty"`
	BrokerScopes                []string      `yaml:"broker_scopes,omitempty,flow"`
	Match                       matchFile     `yaml:"match,omitempty"`
	Endpoint                    *endpointFile `yaml:"endpoint,omitempty"`
	Dataflow                    *dataflowFile `yaml:"dataflow,omitempty"`
	RateLimit                   *limitFile    `yaml:"rate_limit,omitempty"`
	DestructiveBudget           *limitFile    `yaml:"destructive_budget,omitempty"`
	ReasonCodes                 []string      `yaml:"reason_codes,omitempty,flow"`
	Violations                  []string      `yaml:"violations,omitempty,flow"`
}

type matchFile struct {
	ToolName                   string          `yaml:"tool_name,omitempty"`
	ToolNames                  []string        `yaml:"tool_names,omitempty,flow"`
	RiskClasses                []string        `yaml:"risk_classes,omitempty,flow"`
	TargetKinds                []string        `yaml:"target_kinds,omitempty,flow"`
	TargetValues               []string        `yaml:"target_values,omitempty,flow"`
	EndpointClass              []string        `yaml:"endpoint_class,omitempty,flow"`
	EndpointClasses            []string        `yaml:"endpoint_classes,omitempty,flow"`
	DiscoveryMethods           []string        `yaml:"discovery_method,omitempty,flow"`
	ToolAnnotations            *annotationFile `yaml:"tool_annotations,omitempty"`
	SkillPublishers            []string        `yaml:"skill_publishers,omitempty,flow"`
	SkillSources               []string        `yaml:"skill_sources,omitempty,flow"`
	DataClasses                []string        `yaml:"data_classes,omitempty,flow"`
	DestinationKinds           []string        `yaml:"destination_kinds,omitempty,flow"`
	DestinationValues          []string        `yaml:"destination_values,omitempty,flow"`
	DestinationOperations      []string        `yaml:"destination_operations,omitempty,flow"`
	ProvenanceSources          []string        `yaml:"provenance_sources,omitempty,flow"`
	Identities                 []string        `yaml:"identities,omitempty,flow"`
	WorkspacePrefixes          []string        `yaml:"workspace_prefixes,omitempty,flow"`
	ContextToolNames           []string        `yaml:"context_tool_names,omitempty,flow"`
	ContextDataClasses         []string        `yaml:"context_data_classes,omitempty,flow"`
	ContextEndpointClasses     []string        `yaml:"context_endpoint_classes,omitempty,flow"`
	ContextAutonomyLevels      []string        `yaml:"context_autonomy_levels,omitempty,flow"`
	RequireDelegation          bool            `yaml:"require_delegation,omitempty"`
	AllowedDelegatorIdentities []string        `yaml:"allowed_delegator_identities,omitempty,flow"`
	AllowedDelegateIdentities  []string        `yaml:"allowed_delegate_identities,omitempty,flow"`
	DelegationScopes           []string        `yaml:"delegation_scopes,omitempty,flow"`
	MaxDelegationDepth         *int            `yaml:"max_delegation_depth,omitempty"`
}

type annotationFile struct {
	ReadOnlyHint    *bool `yaml:"readOnlyHint,omitempty"`    //nolint:tagliatelle // MCP tool annotation names
	DestructiveHint *bool `yaml:"destructiveHint,omitempty"` //nolint:tagliatelle // MCP tool annotation names
	IdempotentHint  *bool `yaml:"idempotentHint,omitempty"`  //nolint:tagliatelle // MCP tool annotation names
	OpenWorldHint   *bool `yaml:"openWorldHint,omitempty"`   //nolint:tagliatelle // MCP tool annotation names
}

type endpointFile struct {
	Enabled           bool     `yaml:"enabled,omitempty"`
	PathAllowlist     []string `yaml:"path_allowlist,omitempty,flow"`
	PathDenylist      []string `yaml:"path_denylist,omitempty,flow"`
	DomainAllowlist   []string `yaml:"domain_allowlist,omitempty,flow"`
	DomainDenylist    []string `yaml:"domain_denylist,omitempty,flow"`
	EgressClasses     []string `yaml:"egress_classes,omitempty,flow"`
	Action            string   `yaml:"action,omitempty"`
	DestructiveAction string   `yaml:"destructive_action,omitempty"`
	ReasonCode        string   `yaml:"reason_code,omitempty"`
	Violation         string   `yaml:"violation,omitempty"`
}

type dataflowFile struct {
	Enabled               bool     `yaml:"enabled,omitempty"`
	TaintedSources        []string `yaml:"tainted_sources,omitempty,flow"`
	DestinationKinds      []string `yaml:"destination_kinds,omitempty,flow"`
	DestinationValues     []string `yaml:"destination_values,omitempty,flow"`
	DestinationOperations []string `yaml:"destination_operations,omitempty,flow"`
	Action                string   `yaml:"action,omitempty"`
	ReasonCode            string   `yaml:"reason_code,omitempty"`
	Violation             string   `yaml:"violation,omitempty"`
}

type limitFile struct {
	Requests int    `yaml:"requests,omitempty"`
	Window   string `yaml:"window,omitempty"`
	Scope    string `yaml:"scope,omitempty"`
}

// Limit is a request budget: at most Requests per Window ("minute" or
// "hour") counted per Scope ("tool", "identity" or "tool_identity").
type Limit struct {
	Requests int    `json:"requests"`
	Window   string `json:"window"`
	Scope    string `json:"scope"`
}

// Policy is a compiled gate policy. It is immutable and safe for
// concurrent use.
type Policy struct {
	doc            policyFile // normalized document (what fmt prints)
	digest         string
	defaultVerdict Verdict
	defaultReasons []string
	failClosed     failClosed
	rules          []rule
	mcpTrust       *MCPTrust // nil without an mcp_trust snapshot; see mcptrust.go
}

type failClosed struct {
	enabled        bool
	riskClasses    []string
	requiredFields []string
}

// maxPolicyBytes bounds the policy file size read into memory.
const maxPolicyBytes = 4 << 20

// LoadPolicy reads and compiles a policy file. Every error is a user error
// (exit 6) naming the file.
func LoadPolicy(path string) (*Policy, error) {
	data, err := readBounded(path, maxPolicyBytes)
	if err != nil {
		return nil, exitcode.Invalidf("%s: cannot read policy: %v; pass an existing gait.gate.policy YAML file with --policy", path, err)
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return nil, exitcode.Invalidf("%s: %v; fix the policy (see docs/policy.md) and run `gait policy validate %s`", path, err, path)
	}
	return p, nil
}

func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(filepath.Clean(path))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errors.New("no such file")
		}
		return nil, errors.Unwrap(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, errors.New("is a directory")
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("file is %d bytes, larger than the %d byte limit", st.Size(), limit)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ParsePolicy parses and compiles policy YAML. Unknown fields, duplicate
// keys, unknown verdicts and invalid values are errors.
func ParsePolicy(data []byte) (p *Policy, err error) {
	defer func() {
		// yaml.v3 can panic on pathological input; a policy that cannot be
		// parsed is an error, never a crash.
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("policy YAML cannot be parsed: %v", r)
		}
	}()
	var doc policyFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("policy is empty")
		}
		return nil, fmt.Errorf("policy YAML: %s", oneLine(err.Error()))
	}
	var extra any
	if err := dec.Decode(&extra); err == nil {
		return nil, errors.New("policy YAML holds more than one document")
	}
	return compile(doc)
}

func oneLine(s string) string {
	s = strings.TrimPrefix(s, "yaml: ")
	s = strings.ReplaceAll(s, "unmarshal errors:\n", "")
	fields := strings.Fields(strings.ReplaceAll(s, "\n", " "))
	s = strings.Join(fields, " ")
	s = strings.ReplaceAll(s, " in type gate.policyFile", "")
	for _, t := range []string{"ruleFile", "matchFile", "endpointFile", "dataflowFile", "limitFile", "failClosedFile", "scriptsFile", "mcpTrustFile", "annotationFile"} {
		s = strings.ReplaceAll(s, " in type gate."+t, "")
	}
	return s
}

// Digest returns the policy digest: the hex SHA-256 of the RFC 8785 form of
// the normalized policy, computed the way Gait v1 computes it, so approval
// tokens and traces from either implementation agree.
func (p *Policy) Digest() string { return p.digest }

// DefaultVerdict is the verdict for intents no rule matches.
func (p *Policy) DefaultVerdict() Verdict { return p.defaultVerdict }

// RuleCount is the number of rules.
func (p *Policy) RuleCount() int { return len(p.rules) }

// ToolNames lists the tool names the rules match by name (match.tool_name
// and match.tool_names), lowercased, sorted and de-duplicated.
func (p *Policy) ToolNames() []string {
	var out []string
	for i := range p.rules {
		out = append(out, p.rules[i].toolNames...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Format returns the normalized policy as YAML: rules in evaluation order,
// lists sorted and de-duplicated, defaults written out. Parsing the output
// gives a policy with the same digest.
func (p *Policy) Format() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&p.doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// HighRiskRulesWithoutBroker names allow or require_approval rules that
// match high or critical risk classes without require_broker_credential;
// the oss-prod profile refuses such policies.
func (p *Policy) HighRiskRulesWithoutBroker() []string {
	var out []string
	for i := range p.rules {
		r := &p.rules[i]
		if r.effect == Block || r.brokerRequired {
			continue
		}
		if slices.Contains(r.riskClasses, "high") || slices.Contains(r.riskClasses, "critical") {
			out = append(out, r.name)
		}
	}
	return out
}

// policyDigest computes the v1-compatible digest of a normalized document.
func policyDigest(doc *policyFile, rules []rule) (string, error) {
	fc := map[string]any{"Enabled": false, "RiskClasses": []string{}, "RequiredFields": []string{}}
	if doc.FailClosed != nil {
		fc["Enabled"] = doc.FailClosed.Enabled
		fc["RiskClasses"] = nonNil(doc.FailClosed.RiskClasses)
		fc["RequiredFields"] = nonNil(doc.FailClosed.RequiredFields)
	}
	out := make([]any, 0, len(rules))
	for i := range doc.Rules {
		rf := &doc.Rules[i]
		m := &rf.Match
		match := map[string]any{
			"ToolNames":         nonNil(m.ToolNames),
			"RiskClasses":       nonNil(m.RiskClasses),
			"TargetKinds":       nonNil(m.TargetKinds),
			"TargetValues":      nonNil(m.TargetValues),
			"ProvenanceSources": nonNil(m.ProvenanceSources),
			"Identities":        nonNil(m.Identities),
			"WorkspacePrefixes": nonNil(m.WorkspacePrefixes),
		}
		optional := []struct {
			key string
			val []string
		}{
			{"EndpointClasses", m.EndpointClasses}, {"DiscoveryMethods", m.DiscoveryMethods},
			{"SkillPublishers", m.SkillPublishers}, {"SkillSources", m.SkillSources},
			{"DataClasses", m.DataClasses}, {"DestinationKinds", m.DestinationKinds},
			{"DestinationValues", m.DestinationValues}, {"DestinationOps", m.DestinationOperations},
			{"ContextToolNames", m.ContextToolNames}, {"ContextDataClasses", m.ContextDataClasses},
			{"ContextEndpointClasses", m.ContextEndpointClasses}, {"ContextAutonomyLevels", m.ContextAutonomyLevels},
			{"AllowedDelegatorIdentities", m.AllowedDelegatorIdentities},
			{"AllowedDelegateIdentities", m.AllowedDelegateIdentities}, {"DelegationScopes", m.DelegationScopes},
		}
		for _, o := range optional {
			if len(o.val) > 0 {
				match[o.key] = o.val
			}
		}
		if a := m.ToolAnnotations; a != nil {
			ann := map[string]any{}
			for _, h := range []struct {
				key string
				val *bool
			}{{"ReadOnlyHint", a.ReadOnlyHint}, {"DestructiveHint", a.DestructiveHint}, {"IdempotentHint", a.IdempotentHint}, {"OpenWorldHint", a.OpenWorldHint}} {
				if h.val != nil {
					ann[h.key] = *h.val
				}
			}
			if len(ann) > 0 {
				match["ToolAnnotations"] = ann
			}
		}
		if m.RequireDelegation {
			match["RequireDelegation"] = true
		}
		if m.MaxDelegationDepth != nil {
			match["MaxDelegationDepth"] = *m.MaxDelegationDepth
		}
		r := map[string]any{
			"Name": rf.Name, "Priority": rf.Priority, "Effect": rf.Effect, "Match": match,
			"ReasonCodes": nonNil(rf.ReasonCodes), "Violations": nonNil(rf.Violations),
		}
		if rf.MinApprovals > 0 {
			r["MinApprovals"] = rf.MinApprovals
		}
		if rf.RequireDistinctApprovers {
			r["RequireDistinctApprovers"] = true
		}
		if rf.RequireContextEvidence {
			r["RequireContextEvidence"] = true
		}
		if rf.RequiredContextEvidenceMode != "" {
			r["RequiredContextEvidenceMode"] = rf.RequiredContextEvidenceMode
		}
		if rf.MaxContextAgeSeconds > 0 {
			r["MaxContextAgeSeconds"] = rf.MaxContextAgeSeconds
		}
		if rf.RequireBrokerCredential {
			r["RequireBrokerCredential"] = true
		}
		if rf.BrokerReference != "" {
			r["BrokerReference"] = rf.BrokerReference
		}
		if len(rf.BrokerScopes) > 0 {
			r["BrokerScopes"] = rf.BrokerScopes
		}
		if l := rf.RateLimit; l != nil && l.Requests > 0 {
			r["RateLimit"] = map[string]any{"Requests": l.Requests, "Window": l.Window, "Scope": l.Scope}
		}
		if l := rf.DestructiveBudget; l != nil && l.Requests > 0 {
			r["DestructiveBudget"] = map[string]any{"Requests": l.Requests, "Window": l.Window, "Scope": l.Scope}
		}
		if d := rf.Dataflow; d != nil && d.Enabled {
			df := map[string]any{
				"Enabled": true, "TaintedSources": nonNil(d.TaintedSources), "Action": d.Action,
				"ReasonCode": d.ReasonCode, "Violation": d.Violation,
			}
			if len(d.DestinationKinds) > 0 {
				df["DestinationKinds"] = d.DestinationKinds
			}
			if len(d.DestinationValues) > 0 {
				df["DestinationValues"] = d.DestinationValues
			}
			if len(d.DestinationOperations) > 0 {
				df["DestinationOperations"] = d.DestinationOperations
			}
			r["Dataflow"] = df
		}
		if e := rf.Endpoint; e != nil && e.Enabled {
			r["Endpoint"] = map[string]any{
				"Enabled": true, "PathAllowlist": nonNil(e.PathAllowlist), "PathDenylist": nonNil(e.PathDenylist),
				"DomainAllowlist": nonNil(e.DomainAllowlist), "DomainDenylist": nonNil(e.DomainDenylist),
				"EgressClasses": nonNil(e.EgressClasses), "Action": e.Action, "DestructiveAction": e.DestructiveAction,
				"ReasonCode": e.ReasonCode, "Violation": e.Violation,
			}
		}
		out = append(out, r)
	}
	payload := map[string]any{
		"SchemaID": doc.SchemaID, "SchemaVersion": doc.SchemaVersion,
		"DefaultVerdict": doc.DefaultVerdict, "FailClosed": fc, "Rules": out,
	}
	if s := doc.Scripts; s != nil && (s.MaxSteps > 0 || s.RequireApprovalAbove > 0 || s.BlockMixedRisk) {
		payload["Scripts"] = map[string]any{"MaxSteps": s.MaxSteps, "RequireApprovalAbove": s.RequireApprovalAbove, "BlockMixedRisk": s.BlockMixedRisk}
	}
	return digest.JSON(payload)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
