package gate

import (
	"testing"
	"time"
)

func TestNewApprovalAudit(t *testing.T) {
	in := &Intent{ToolName: "tool.write", IntentDigest: "i", CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if a := NewApprovalAudit(in, Outcome{Verdict: Allow}, nil, "t1", "v"); a != nil {
		t.Fatalf("an audit for a call that needed no approval: %+v", a)
	}
	exp := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	tokens := []ApprovalToken{
		{TokenID: "b2", ApproverIdentity: "alice", ReasonCode: "ok", Scope: []string{"tool:tool.write"}, ExpiresAt: exp},
		{TokenID: "a1", ApproverIdentity: "alice", ReasonCode: "again", ExpiresAt: exp},
		{TokenID: "c3", ApproverIdentity: "mallory", ExpiresAt: exp},
	}
	out := Outcome{Verdict: RequireApproval, PolicyDigest: "p", RequiredApprovals: 2, ValidApprovals: 2, Approvals: []TokenResult{
		{TokenID: "b2", Identity: "alice", Valid: true}, {TokenID: "a1", Identity: "alice", Valid: true},
		{TokenID: "c3", Identity: "mallory", ErrorCode: CodeApprovalInvalid}}}
	a := NewApprovalAudit(in, out, tokens, "t1", "v")
	if a == nil || !a.Approved || a.CreatedAt != "2026-01-01T00:00:00Z" || len(a.Approvers) != 1 || a.Approvers[0] != "alice" {
		t.Fatalf("audit: %+v", a)
	}
	if got := []string{a.Entries[0].TokenID, a.Entries[1].TokenID, a.Entries[2].TokenID}; got[0] != "a1" || got[1] != "b2" || got[2] != "c3" {
		t.Fatalf("entries not by token id: %v", got)
	}
	if e := a.Entries[0]; e.ReasonCode != "again" || e.ExpiresAt != "2026-01-02T00:00:00Z" || !e.Valid {
		t.Fatalf("entry a1 lost its token's details: %+v", e)
	}
	if e := a.Entries[2]; e.Valid || e.ErrorCode != CodeApprovalInvalid {
		t.Fatalf("entry c3: %+v", e)
	}
	if r := a.Relationship; r.ParentRecordID != "t1" || r.ParentRef.ID != "t1" || len(r.EntityRefs) != 4 {
		t.Fatalf("relationship: %+v", r)
	}
	out.ValidApprovals = 1
	if a := NewApprovalAudit(in, out, tokens, "t1", "v"); a.Approved {
		t.Fatal("approved with too few valid tokens")
	}
}
