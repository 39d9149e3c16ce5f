package gate

import (
	"crypto/ed25519"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/keys"
)

// Trace is a gait.gate.trace record: which intent met which policy and
// what the gate answered. It holds no wall-clock time (created_at and
// observed_at are the intent's), so the same inputs give the same bytes and
// signature.
type Trace struct {
	SchemaID      string `json:"schema_id"`
	SchemaVersion string `json:"schema_version"`
	CreatedAt     string `json:"created_at"`
	// ObservedAt is when the gate saw the intent. Gait v1 takes the clock;
	// Gait writes the intent's time. v1 re-encodes a trace before checking
	// its signature and fills a missing observed_at with the zero time, so
	// a trace without it would not verify there.
	ObservedAt      string   `json:"observed_at,omitempty"`
	ProducerVersion string   `json:"producer_version"`
	TraceID         string   `json:"trace_id"`
	ToolName        string   `json:"tool_name"`
	ArgsDigest      string   `json:"args_digest"`
	IntentDigest    string   `json:"intent_digest"`
	PolicyDigest    string   `json:"policy_digest"`
	PolicyID        string   `json:"policy_id"`
	PolicyVersion   string   `json:"policy_version"`
	MatchedRuleIDs  []string `json:"matched_rule_ids,omitempty"`
	Verdict         Verdict  `json:"verdict"`
	// Context evidence, set when the intent's came from a context
	// envelope (ApplyContextEnvelope).
	ContextSetDigest    string `json:"context_set_digest,omitempty"`
	ContextEvidenceMode string `json:"context_evidence_mode,omitempty"`
	ContextRefCount     int    `json:"context_ref_count,omitempty"`
	ContextSource       string `json:"context_source,omitempty"`
	// Script intents: the step count, script hash, composite risk and
	// per-step verdicts; PreApproved when an approved-script entry
	// (PatternID) allowed the script, RegistryReason when a registry was
	// consulted.
	Script             bool             `json:"script,omitempty"`
	StepCount          int              `json:"step_count,omitempty"`
	ScriptHash         string           `json:"script_hash,omitempty"`
	CompositeRiskClass string           `json:"composite_risk_class,omitempty"`
	StepVerdicts       []StepVerdict    `json:"step_verdicts,omitempty"`
	PreApproved        bool             `json:"pre_approved,omitempty"`
	PatternID          string           `json:"pattern_id,omitempty"`
	RegistryReason     string           `json:"registry_reason,omitempty"`
	Violations         []string         `json:"violations,omitempty"`
	ApprovalTokenRef   string           `json:"approval_token_ref,omitempty"`
	DelegationRef      *TraceDelegation `json:"delegation_ref,omitempty"`
	SkillProvenance    *SkillProvenance `json:"skill_provenance,omitempty"`
	Relationship       *Relationship    `json:"relationship,omitempty"`
	Signature          *keys.Signature  `json:"signature,omitempty"`
}

// TraceDelegation summarizes the delegation used for a decision.
type TraceDelegation struct {
	DelegationTokenRef string   `json:"delegation_token_ref,omitempty"`
	RequesterIdentity  string   `json:"requester_identity,omitempty"`
	DelegationDepth    int      `json:"delegation_depth,omitempty"`
	ScopeClass         string   `json:"scope_class,omitempty"`
	ChainDigest        string   `json:"chain_digest,omitempty"`
	ReasonCodes        []string `json:"reason_codes,omitempty"`
}

// Relationship links the trace to the agents, tool and policy involved.
type Relationship struct {
	ParentRef        *EntityRef  `json:"parent_ref,omitempty"`
	EntityRefs       []EntityRef `json:"entity_refs,omitempty"`
	PolicyRef        *PolicyRef  `json:"policy_ref,omitempty"`
	AgentChain       []AgentLink `json:"agent_chain,omitempty"`
	Edges            []Edge      `json:"edges,omitempty"`
	RelatedEntityIDs []string    `json:"related_entity_ids,omitempty"`
}

// EntityRef names one entity.
type EntityRef struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// PolicyRef identifies the policy.
type PolicyRef struct {
	PolicyID       string   `json:"policy_id"`
	PolicyVersion  string   `json:"policy_version"`
	PolicyDigest   string   `json:"policy_digest"`
	MatchedRuleIDs []string `json:"matched_rule_ids,omitempty"`
}

// AgentLink is one agent and its role.
type AgentLink struct {
	Identity string `json:"identity"`
	Role     string `json:"role"`
}

// Edge is a directed relation between two entities.
type Edge struct {
	Kind string    `json:"kind"`
	From EntityRef `json:"from"`
	To   EntityRef `json:"to"`
}

// TraceID derives the deterministic trace id of an outcome.
func TraceID(in *Intent, out Outcome) string {
	return tokenID("trace", in.IntentDigest, out.PolicyDigest, string(out.Verdict), strings.Join(out.ApprovalRefs, ","), out.DelegationRef)
}

// BuildTrace builds the trace record for an outcome and signs it when priv
// is not nil.
func BuildTrace(in *Intent, out Outcome, priv ed25519.PrivateKey, producerVersion string) (Trace, error) {
	created := in.CreatedAt
	if created.IsZero() {
		created = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	tr := Trace{
		SchemaID: TraceSchemaID, SchemaVersion: SchemaVersion, CreatedAt: created.Format(time.RFC3339Nano), ObservedAt: created.Format(time.RFC3339Nano),
		ProducerVersion: producer(producerVersion), TraceID: TraceID(in, out), ToolName: in.ToolName,
		ArgsDigest: in.ArgsDigest, IntentDigest: in.IntentDigest, PolicyDigest: out.PolicyDigest,
		PolicyID: PolicySchemaID, PolicyVersion: SchemaVersion, Verdict: out.Verdict,
		SkillProvenance: in.SkillProvenance,
	}
	if len(out.Violations) > 0 {
		tr.Violations = out.Violations
	}
	if c := in.Context; c.ContextSetDigest != "" {
		tr.ContextSetDigest, tr.ContextEvidenceMode, tr.ContextRefCount, tr.ContextSource = c.ContextSetDigest, c.ContextEvidenceMode, len(c.ContextRefs), ContextSourceEnvelope
	}
	if sc := in.Script; sc != nil {
		tr.Script, tr.StepCount, tr.ScriptHash, tr.CompositeRiskClass = true, len(sc.Steps), sc.Hash, sc.CompositeRiskClass()
		tr.StepVerdicts = out.Steps
	}
	tr.PreApproved, tr.PatternID, tr.RegistryReason = out.PreApproved, out.PatternID, out.RegistryReason
	if out.Decision.MatchedRule != "" {
		tr.MatchedRuleIDs = []string{out.Decision.MatchedRule}
		if in.Script != nil {
			tr.MatchedRuleIDs = strings.Split(out.Decision.MatchedRule, ",")
		}
	}
	if len(out.ApprovalRefs) > 0 {
		tr.ApprovalTokenRef = strings.Join(out.ApprovalRefs, ",")
	}
	if d := in.Delegation; d != nil {
		td := &TraceDelegation{DelegationTokenRef: out.DelegationRef, RequesterIdentity: d.RequesterIdentity, DelegationDepth: len(d.Chain), ScopeClass: d.ScopeClass}
		if len(d.Chain) > 0 {
			cd, err := digest.JSON(d.Chain)
			if err != nil {
				return tr, err
			}
			td.ChainDigest = cd
		}
		for _, r := range out.ReasonCodes {
			if strings.HasPrefix(r, "delegation_") {
				td.ReasonCodes = append(td.ReasonCodes, r)
			}
		}
		tr.DelegationRef = td
	}
	tr.Relationship = NewRelationship(in, out, tr.TraceID)
	if priv != nil {
		sig, err := signDoc(tr, priv)
		if err != nil {
			return tr, err
		}
		tr.Signature = &sig
	}
	return tr, nil
}

// NewRelationship links a decision to its agents, tool, policy and trace
// (and its session, the parent, when the intent names one), as a trace's
// relationship does.
func NewRelationship(in *Intent, out Outcome, traceID string) *Relationship {
	var rules []string
	if out.Decision.MatchedRule != "" {
		rules = []string{out.Decision.MatchedRule}
		if in.Script != nil {
			rules = strings.Split(out.Decision.MatchedRule, ",")
		}
	}
	agent := EntityRef{Kind: "agent", ID: in.Context.Identity}
	tool := EntityRef{Kind: "tool", ID: in.ToolName}
	pol := EntityRef{Kind: "policy", ID: out.PolicyDigest}
	refs := []EntityRef{agent, pol, tool, {Kind: "trace", ID: traceID}}
	chain := []AgentLink{{Identity: in.Context.Identity, Role: "requester"}}
	edges := []Edge{{Kind: "calls", From: agent, To: tool}, {Kind: "governed_by", From: tool, To: pol}}
	if d := in.Delegation; d != nil {
		for _, l := range d.Chain {
			from, to := EntityRef{Kind: "agent", ID: l.DelegatorIdentity}, EntityRef{Kind: "agent", ID: l.DelegateIdentity}
			chain = append(chain, AgentLink{Identity: l.DelegatorIdentity, Role: "delegator"}, AgentLink{Identity: l.DelegateIdentity, Role: "delegate"})
			refs = append(refs, from, to)
			edges = append(edges, Edge{Kind: "delegates_to", From: from, To: to})
		}
	}
	refs, ids := sortedRefs(refs)
	edges = slices.Compact(edges)
	var parent *EntityRef
	if sid := in.Context.SessionID; sid != "" {
		parent = &EntityRef{Kind: "session", ID: sid}
	}
	return &Relationship{
		ParentRef:  parent,
		EntityRefs: refs,
		PolicyRef:  &PolicyRef{PolicyID: PolicySchemaID, PolicyVersion: SchemaVersion, PolicyDigest: out.PolicyDigest, MatchedRuleIDs: rules},
		AgentChain: chain, Edges: edges, RelatedEntityIDs: slices.Compact(ids),
	}
}

// VerifyTrace checks the signature of a trace document as written: the
// signed digest covers the canonical JSON of every field but "signature",
// including fields Trace does not model (v1's event_id, latency_ms), so v1
// traces verify as v1 signed them.
func VerifyTrace(doc []byte, pub ed25519.PublicKey) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(doc, &fields); err != nil {
		return err
	}
	rawSig, ok := fields["signature"]
	if !ok || string(rawSig) == "null" {
		return &TokenError{Code: "trace_signature_missing", Msg: "trace is not signed"}
	}
	var sig keys.Signature
	if err := json.Unmarshal(rawSig, &sig); err != nil {
		return &TokenError{Code: "trace_signature_invalid", Msg: "trace signature is malformed: " + err.Error()}
	}
	delete(fields, "signature")
	body, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	d, err := digest.RawJSON(body)
	if err != nil {
		return err
	}
	return keys.VerifySignature(pub, sig, d)
}

// WriteTrace writes a trace as indented JSON through an atomic rename.
func WriteTrace(path string, tr Trace) error {
	b, err := json.MarshalIndent(tr, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

// Result is the gait.gate.result document for an outcome.
type Result struct {
	SchemaID        string   `json:"schema_id"`
	SchemaVersion   string   `json:"schema_version"`
	CreatedAt       string   `json:"created_at"`
	ProducerVersion string   `json:"producer_version"`
	Verdict         Verdict  `json:"verdict"`
	ReasonCodes     []string `json:"reason_codes"`
	Violations      []string `json:"violations"`
}

// NewResult returns the gait.gate.result document for an outcome.
func NewResult(in *Intent, out Outcome, producerVersion string) Result {
	created := in.CreatedAt
	if created.IsZero() {
		created = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return Result{
		SchemaID: ResultSchemaID, SchemaVersion: SchemaVersion, CreatedAt: created.Format(time.RFC3339Nano),
		ProducerVersion: producer(producerVersion), Verdict: out.Verdict,
		ReasonCodes: nonNil(out.ReasonCodes), Violations: nonNil(out.Violations),
	}
}

// sortedRefs orders entity refs by kind, then id, without duplicates, and
// lists their ids sorted (a relationship's related_entity_ids).
func sortedRefs(refs []EntityRef) ([]EntityRef, []string) {
	slices.SortFunc(refs, func(a, b EntityRef) int {
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	refs = slices.Compact(refs)
	ids := make([]string, 0, len(refs))
	for _, r := range refs {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return refs, ids
}
