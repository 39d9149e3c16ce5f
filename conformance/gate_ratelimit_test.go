package conformance_test

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// Rate limits, destructive budgets and broker credentials: the same
// sequence of gate eval runs gets the same verdicts, reason codes,
// violations and rate-limit usage from Gait and from v1, and leaves state
// files with the same counters. Runs of the two implementations also share
// one state file.

const limitPolicy = `schema_id: gait.gate.policy
schema_version: 1.0.0
default_verdict: block
rules:
  - name: reads
    priority: 1
    effect: allow
    match:
      tool_names: [tool.read]
    rate_limit: {requests: 2, window: minute, scope: tool}
  - name: lists
    priority: 2
    effect: allow
    match:
      tool_names: [tool.list]
    rate_limit: {requests: 1, window: hour}
    violations: [list_violation]
  - name: deletes
    priority: 3
    effect: allow
    match:
      tool_names: [tool.delete]
    rate_limit: {requests: 3, window: minute, scope: identity}
    destructive_budget: {requests: 1, window: hour, scope: tool}
  - name: purges
    priority: 4
    effect: allow
    match:
      tool_names: [tool.purge]
    destructive_budget: {requests: 1, window: hour, scope: identity}
  - name: writes
    priority: 5
    effect: allow
    require_broker_credential: true
    broker_reference: egress
    broker_scopes: [write]
    match:
      tool_names: [tool.write]
    reason_codes: [write_ok]
  - name: approvals
    priority: 6
    effect: require_approval
    require_broker_credential: true
    match:
      tool_names: [tool.approve]
`

func limitIntentJSON(tool, identity, phase string, destructive bool) string {
	target := map[string]any{"kind": "path", "value": "/tmp/a"}
	if destructive {
		target["operation"] = "delete"
		target["destructive"] = true
	}
	ctx := map[string]any{"identity": identity, "workspace": "/tmp/w", "risk_class": "low"}
	if phase != "" {
		ctx["phase"] = phase
	}
	b, _ := json.Marshal(map[string]any{
		"schema_id": "gait.gate.intent_request", "schema_version": "1.0.0", "created_at": "2026-02-06T00:00:00Z",
		"producer_version": "conformance", "tool_name": tool, "args": map[string]any{"path": "/tmp/a"},
		"targets": []any{target}, "arg_provenance": []any{map[string]any{"arg_path": "$.path", "source": "user"}},
		"context": ctx,
	})
	return string(b)
}

// limitOutcome is what both implementations must agree on for one run.
type limitOutcome struct {
	Exit        int
	Verdict     string
	ReasonCodes []string
	Violations  []string
	Scope       string
	Key         string
	Used        int
	Remaining   int
}

func evalLimits(t *testing.T, bin, dir, intent string, extra ...string) limitOutcome {
	t.Helper()
	args := append([]string{"gate", "eval", "--policy", "policy.yaml", "--intent", intent, "--json"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	exit := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		exit = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	var doc struct {
		Verdict     string   `json:"verdict"`
		ReasonCodes []string `json:"reason_codes"`
		Violations  []string `json:"violations"`
		Scope       string   `json:"rate_limit_scope"`
		Key         string   `json:"rate_limit_key"`
		Used        int      `json:"rate_limit_used"`
		Remaining   int      `json:"rate_limit_remaining"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%s %v: output %q: %v", bin, args, out, err)
	}
	return limitOutcome{exit, doc.Verdict, nonEmpty(doc.ReasonCodes), nonEmpty(doc.Violations), doc.Scope, doc.Key, doc.Used, doc.Remaining}
}

func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func limitDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	// v1 does not create the state directory.
	if err := os.MkdirAll(filepath.Join(dir, ".gait-out"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"policy.yaml":       limitPolicy,
		"read.json":         limitIntentJSON("tool.read", "alice", "", false),
		"list_alice.json":   limitIntentJSON("tool.list", "alice", "", false),
		"list_bob.json":     limitIntentJSON("tool.list", "bob", "", false),
		"delete_plan.json":  limitIntentJSON("tool.delete", "alice", "plan", true),
		"delete_apply.json": limitIntentJSON("tool.delete", "alice", "apply", true),
		"purge_plan.json":   limitIntentJSON("tool.purge", "alice", "plan", true),
		"write.json":        limitIntentJSON("tool.write", "alice", "", false),
		"approve.json":      limitIntentJSON("tool.approve", "alice", "", false),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func limitCounters(t *testing.T, path string) map[string]int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		SchemaID string `json:"schema_id"`
		Counters []struct {
			Key   string `json:"key"`
			Count int    `json:"count"`
		} `json:"counters"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.SchemaID != "gait.gate.rate_limit_state" {
		t.Fatalf("%s: %v (schema %q)", path, err, doc.SchemaID)
	}
	out := map[string]int{}
	for _, c := range doc.Counters {
		out[c.Key] = c.Count
	}
	return out
}

// awayFromMinuteEdge waits when the next minute is close, so that both
// implementations count each sequence in the same windows.
func awayFromMinuteEdge() {
	if s := time.Now().Second(); s >= 50 {
		time.Sleep(time.Duration(61-s) * time.Second)
	}
}

var limitSequence = []string{
	"read.json", "read.json", "read.json", // 2 a minute: allow, allow, block
	"list_alice.json", "list_bob.json", "list_alice.json", // tool_identity by default
	"delete_plan.json", "delete_plan.json", "delete_apply.json", "delete_plan.json", // budget and rate limit together
	"purge_plan.json", "list_bob.json", "purge_plan.json", // an identity-scoped budget
	"write.json",   // no broker: block
	"approve.json", // require_approval stays
}

func TestGateLimitsMatchReference(t *testing.T) {
	ref := referenceBin(t)
	gaitDir, refDir := limitDir(t), limitDir(t)
	awayFromMinuteEdge()
	for i, intent := range limitSequence {
		got := evalLimits(t, gaitBin, gaitDir, intent)
		want := evalLimits(t, ref, refDir, intent)
		if !equalOutcome(got, want) {
			t.Errorf("run %d (%s):\n gait %+v\n v1   %+v", i+1, intent, got, want)
		}
		if got.Verdict == "" {
			t.Fatalf("run %d (%s): no verdict: %+v", i+1, intent, got)
		}
		if i == 2 && (got.Verdict != "block" || !slices.Contains(got.ReasonCodes, "rate_limit_exceeded")) {
			t.Fatalf("third read: %+v, want block for rate_limit_exceeded", got)
		}
	}
	got := limitCounters(t, filepath.Join(gaitDir, ".gait-out", "gate_rate_limits.json"))
	want := limitCounters(t, filepath.Join(refDir, ".gait-out", "gate_rate_limits.json"))
	if !maps.Equal(got, want) {
		t.Errorf("state counters:\n gait %v\n v1   %v", got, want)
	}

	// --rate-limit-state, and --credential-broker off.
	for _, extra := range [][]string{{"--rate-limit-state", "custom.json"}, {"--credential-broker", "off"}} {
		got := evalLimits(t, gaitBin, gaitDir, "read.json", extra...)
		want := evalLimits(t, ref, refDir, "read.json", extra...)
		if !equalOutcome(got, want) {
			t.Errorf("%v:\n gait %+v\n v1   %+v", extra, got, want)
		}
	}
}

// TestGateLimitsShareState alternates the two implementations on one
// state file: each reads what the other wrote.
func TestGateLimitsShareState(t *testing.T) {
	ref := referenceBin(t)
	dir := limitDir(t)
	awayFromMinuteEdge()
	for i, step := range []struct {
		bin     string
		intent  string
		verdict string
	}{
		{gaitBin, "read.json", "allow"},
		{ref, "read.json", "allow"},
		{gaitBin, "read.json", "block"},
		{ref, "list_alice.json", "allow"},
		{gaitBin, "list_alice.json", "block"},
		{gaitBin, "purge_plan.json", "dry_run"},
		{ref, "purge_plan.json", "block"},
	} {
		if got := evalLimits(t, step.bin, dir, step.intent); got.Verdict != step.verdict {
			t.Errorf("step %d (%s, %s): %+v, want %s", i+1, filepath.Base(step.bin), step.intent, got, step.verdict)
		}
	}
}

func TestGateLimitsBadStateIsInvalidInput(t *testing.T) {
	ref := referenceBin(t)
	for _, bin := range []string{gaitBin, ref} {
		dir := limitDir(t)
		if err := os.WriteFile(filepath.Join(dir, ".gait-out", "gate_rate_limits.json"), []byte("counters"), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "gate", "eval", "--policy", "policy.yaml", "--intent", "read.json", "--json")
		cmd.Dir = dir
		err := cmd.Run()
		if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 6 {
			t.Errorf("%s with a broken state file: %v, want exit 6", filepath.Base(bin), err)
		}
	}
}

func equalOutcome(a, b limitOutcome) bool {
	return a.Exit == b.Exit && a.Verdict == b.Verdict && slices.Equal(a.ReasonCodes, b.ReasonCodes) &&
		slices.Equal(a.Violations, b.Violations) && a.Scope == b.Scope && a.Key == b.Key && a.Used == b.Used && a.Remaining == b.Remaining
}
