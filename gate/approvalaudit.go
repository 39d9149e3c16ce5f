package gate

import (
	"slices"
	"strings"
	"time"
)

// ApprovalAuditSchemaID names the approval audit record.
const ApprovalAuditSchemaID = "gait.gate.approval_audit_record"

// ApprovalAudit is v1's approval audit record (gate eval
// --approval-audit-out): for a call that needed approval, every approval
// token presented (by token id), whether it held, and whether enough did.
type ApprovalAudit struct {
	SchemaID          string               `json:"schema_id"`
	SchemaVersion     string               `json:"schema_version"`
	CreatedAt         string               `json:"created_at"`
	ProducerVersion   string               `json:"producer_version"`
	TraceID           string               `json:"trace_id"`
	ToolName          string               `json:"tool_name"`
	IntentDigest      string               `json:"intent_digest"`
	PolicyDigest      string               `json:"policy_digest"`
	RequiredApprovals int                  `json:"required_approvals"`
	ValidApprovals    int                  `json:"valid_approvals"`
	Approved          bool                 `json:"approved"`
	Approvers         []string             `json:"approvers,omitempty"`
	Entries           []ApprovalAuditEntry `json:"entries"`
	Relationship      AuditRelationship    `json:"relationship"`
}

// ApprovalAuditEntry is one presented approval token.
type ApprovalAuditEntry struct {
	TokenID          string   `json:"token_id"`
	ApproverIdentity string   `json:"approver_identity"`
	ReasonCode       string   `json:"reason_code"`
	Scope            []string `json:"scope"`
	ExpiresAt        string   `json:"expires_at"`
	Valid            bool     `json:"valid"`
	ErrorCode        string   `json:"error_code,omitempty"`
}

// AuditRelationship links an audit record to its decision's trace, tool,
// policy and the agents it names.
type AuditRelationship struct {
	ParentRef        EntityRef      `json:"parent_ref"`
	EntityRefs       []EntityRef    `json:"entity_refs"`
	PolicyRef        auditPolicyRef `json:"policy_ref"`
	Edges            []Edge         `json:"edges"`
	ParentRecordID   string         `json:"parent_record_id"`
	RelatedEntityIDs []string       `json:"related_entity_ids"`
}

type auditPolicyRef struct {
	PolicyDigest string `json:"policy_digest"`
}

// NewApprovalAudit builds the audit record of a decision, or nil when its
// rule asked for no approval (v1 writes none then). tokens are the tokens
// presented, in the order out.Approvals checked them.
func NewApprovalAudit(in *Intent, out Outcome, tokens []ApprovalToken, traceID, producerVersion string) *ApprovalAudit {
	if out.RequiredApprovals == 0 {
		return nil
	}
	a := &ApprovalAudit{SchemaID: ApprovalAuditSchemaID, SchemaVersion: SchemaVersion, CreatedAt: in.CreatedAt.UTC().Format(time.RFC3339Nano),
		ProducerVersion: producerVersion, TraceID: traceID, ToolName: in.ToolName, IntentDigest: in.IntentDigest,
		PolicyDigest: out.PolicyDigest, RequiredApprovals: out.RequiredApprovals, ValidApprovals: out.ValidApprovals,
		// as v1: approved means enough valid tokens, even when the rule's
		// distinct-approver condition still holds the call back
		Approved: out.ValidApprovals >= out.RequiredApprovals}
	if in.CreatedAt.IsZero() {
		a.CreatedAt = "1980-01-01T00:00:00Z"
	}
	for i, res := range out.Approvals {
		e := ApprovalAuditEntry{TokenID: res.TokenID, ApproverIdentity: res.Identity, Valid: res.Valid, ErrorCode: res.ErrorCode}
		if i < len(tokens) {
			t := tokens[i]
			e.ReasonCode, e.Scope, e.ExpiresAt = t.ReasonCode, t.Scope, t.ExpiresAt.UTC().Format(time.RFC3339Nano)
		}
		a.Entries = append(a.Entries, e)
		if res.Valid {
			a.Approvers = append(a.Approvers, res.Identity)
		}
	}
	slices.SortStableFunc(a.Entries, func(x, y ApprovalAuditEntry) int { return strings.Compare(x.TokenID, y.TokenID) })
	slices.Sort(a.Approvers)
	a.Approvers = slices.Compact(a.Approvers)

	tool := EntityRef{Kind: "tool", ID: in.ToolName}
	pol := EntityRef{Kind: "policy", ID: out.PolicyDigest}
	trace := EntityRef{Kind: "trace", ID: traceID}
	refs := []EntityRef{pol, tool, trace}
	for _, who := range a.Approvers {
		refs = append(refs, EntityRef{Kind: "agent", ID: who})
	}
	refs, ids := sortedRefs(refs)
	a.Relationship = AuditRelationship{ParentRef: trace, EntityRefs: refs, PolicyRef: auditPolicyRef{out.PolicyDigest},
		Edges: []Edge{{Kind: "governed_by", From: tool, To: pol}}, ParentRecordID: traceID, RelatedEntityIDs: slices.Compact(ids)}
	return a
}
