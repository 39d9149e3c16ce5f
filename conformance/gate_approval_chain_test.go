package conformance_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gait-dev/gait/schemas"
)

// TestGateApprovalChainDifferential: with tokens given as v1 gives them
// (--approval-token, --approval-token-chain, keys from files or variables),
// gate eval gives v1's verdict, exit code, reason codes and valid_approvals
// for rules needing one and two approvals.
func TestGateApprovalChainDifferential(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	policy := func(min int) string {
		return "schema_id: gait.gate.policy\nschema_version: 1.0.0\ndefault_verdict: block\nrules:\n  - name: review\n    priority: 10\n    effect: require_approval\n" +
			"    min_approvals: " + string(rune('0'+min)) + "\n    match:\n      tool_names: [tool.write]\n"
	}
	intent := `{"schema_id":"gait.gate.intent_request","schema_version":"1.0.0","created_at":"2026-01-01T00:00:00Z","producer_version":"x","tool_name":"tool.write","args":{"path":"/a"},"targets":[{"kind":"path","value":"/a","operation":"write"}],"arg_provenance":[],"context":{"identity":"u","workspace":"/w","risk_class":"low"}}`
	for name, data := range map[string]string{"one.yaml": policy(1), "two.yaml": policy(2), "intent.json": intent} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	type answer struct {
		Verdict        string   `json:"verdict"`
		ReasonCodes    []string `json:"reason_codes"`
		ValidApprovals int      `json:"valid_approvals"`
		PolicyDigest   string   `json:"policy_digest"`
		IntentDigest   string   `json:"intent_digest"`
	}
	run := func(bin string, env []string, args ...string) (int, answer) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.Output()
		var a answer
		_ = json.Unmarshal(out, &a)
		return exitCodeOf(t, err), a
	}
	if code, _ := run(ref, nil, "keys", "init", "--out-dir", "k"); code != 0 {
		t.Fatal("v1 keys init failed")
	}
	pub, err := os.ReadFile(filepath.Join(dir, "k/gait_public.key"))
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"APPROVERS=" + strings.TrimSpace(string(pub))}
	for _, pol := range []string{"one.yaml", "two.yaml"} {
		_, base := run(ref, nil, "gate", "eval", "--policy", pol, "--intent", "intent.json", "--json")
		for i, who := range []string{"alice", "bob", "alice"} {
			args := []string{"approve", "--intent-digest", base.IntentDigest, "--policy-digest", base.PolicyDigest, "--scope", "tool:tool.write",
				"--ttl", "1h", "--approver", who, "--reason-code", "ok", "--key-mode", "prod", "--private-key", "k/gait_private.key",
				"--out", strings.TrimSuffix(pol, ".yaml") + "_" + who + string(rune('0'+i)) + ".json", "--json"}
			if code, _ := run(ref, nil, args...); code != 0 {
				t.Fatalf("v1 approve %v: exit %d", args, code)
			}
		}
		p := strings.TrimSuffix(pol, ".yaml")
		alice, bob, alice2 := p+"_alice0.json", p+"_bob1.json", p+"_alice2.json"
		for _, tokens := range [][]string{
			nil,
			{"--approval-token", alice},
			{"--approval-token-chain", alice},
			{"--approval-token-chain", alice + "," + bob},
			{"--approval-token", alice, "--approval-token-chain", bob},
			{"--approval-token-chain", alice + "," + alice2},
			{"--approval-token", alice, "--approval-token-chain", alice2},
		} {
			for _, key := range [][]string{{"--approval-public-key", "k/gait_public.key"}, {"--approval-public-key-env", "APPROVERS"}} {
				args := append([]string{"gate", "eval", "--policy", pol, "--intent", "intent.json"}, tokens...)
				args = append(append(args, key...), "--json")
				wc, want := run(ref, env, append(args, "--approval-audit-out", "audit_v1.json")...)
				gc, got := run(gaitBin, env, append(args, "--approval-audit-out", "audit_gait.json")...)
				if wc != gc || want.Verdict != got.Verdict || !slices.Equal(want.ReasonCodes, got.ReasonCodes) || want.ValidApprovals != got.ValidApprovals {
					t.Errorf("%s:\nv1   exit %d %+v\ngait exit %d %+v", strings.Join(args, " "), wc, want, gc, got)
				}
				// the approval audit record: the same, trace ids aside
				wa, ga := auditDoc(t, filepath.Join(dir, "audit_v1.json")), auditDoc(t, filepath.Join(dir, "audit_gait.json"))
				if wa != ga {
					t.Errorf("%s: approval audit\nv1   %s\ngait %s", strings.Join(args, " "), wa, ga)
				}
			}
		}
	}
}

// auditDoc reads an approval audit record, removes it (so the next call
// writes afresh) and returns it as canonical text with its trace id and
// producer version masked.
func auditDoc(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(path)
	if err := schemas.Validate("gate/approval_audit_record", data); err != nil {
		t.Errorf("schemas/gate/approval_audit_record rejects %s: %v", filepath.Base(path), err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	trace, _ := m["trace_id"].(string)
	delete(m, "producer_version")
	out, _ := json.Marshal(m)
	masked := strings.ReplaceAll(string(out), trace, "<trace>")
	// related ids are sorted by value, so the masked trace id sorts
	// differently in each: compare them as a set
	_ = json.Unmarshal([]byte(masked), &m)
	if rel, ok := m["relationship"].(map[string]any); ok {
		if ids, ok := rel["related_entity_ids"].([]any); ok {
			slices.SortFunc(ids, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
		}
	}
	out, _ = json.Marshal(m)
	return string(out)
}
