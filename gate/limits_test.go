package gate

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gait-dev/gait/internal/exitcode"
)

var limitsNow = time.Date(2026, 2, 6, 10, 15, 30, 0, time.UTC)

const limitsPolicy = `
default_verdict: block
rules:
  - name: reads
    priority: 1
    effect: allow
    match: {tool_names: [tool.read]}
    rate_limit: {requests: 2, window: minute, scope: tool}
  - name: deletes
    priority: 2
    effect: allow
    match: {tool_names: [tool.delete]}
    rate_limit: {requests: 3, window: minute, scope: identity}
    destructive_budget: {requests: 1, window: hour, scope: tool}
    violations: [v_delete]
  - name: writes
    priority: 3
    effect: allow
    match: {tool_names: [tool.write]}
`

func limitIntent(t testing.TB, tool, identity string) *Intent {
	t.Helper()
	req := baseIntent()
	req.ToolName, req.Context.Identity = tool, identity
	if tool == "tool.delete" {
		req.Targets[0].Operation = "delete"
	}
	req.Context.Phase = "plan" // destructive calls become dry_run, not require_approval
	return mustIntent(t, req)
}

func applyAt(t *testing.T, l *Limits, p *Policy, in *Intent, at time.Time) (Decision, *LimitUsage) {
	t.Helper()
	d, usage, err := l.Apply(p.Evaluate(in), in, at)
	if err != nil {
		t.Fatal(err)
	}
	return d, usage
}

func TestRateLimitWindow(t *testing.T) {
	p := mustPolicy(t, limitsPolicy)
	l := NewMemoryLimits()
	in := limitIntent(t, "tool.read", "alice")
	for i, want := range []Verdict{Allow, Allow, Block} {
		d, u := applyAt(t, l, p, in, limitsNow.Add(time.Duration(i)*time.Second))
		if d.Verdict != want {
			t.Fatalf("call %d: verdict %s, want %s (%v)", i+1, d.Verdict, want, d.ReasonCodes)
		}
		wantUsed := min(i+1, 2)
		if u == nil || u.Scope != "tool" || u.Key != "tool.read" || u.Used != wantUsed || u.Remaining != 2-wantUsed {
			t.Fatalf("call %d: usage %+v", i+1, u)
		}
	}
	d, _ := applyAt(t, l, p, in, limitsNow)
	if !slices.Equal(d.ReasonCodes, []string{"matched_rule_reads", "rate_limit_exceeded"}) || !slices.Equal(d.Violations, []string{"rate_limit_exceeded"}) {
		t.Fatalf("exceeded: %v %v", d.ReasonCodes, d.Violations)
	}
	// The rule's own reason list is shared with the compiled policy and
	// must not have been changed.
	if d := p.Evaluate(in); !slices.Equal(d.ReasonCodes, []string{"matched_rule_reads"}) {
		t.Fatalf("compiled reasons changed: %v", d.ReasonCodes)
	}
	if d, _ := applyAt(t, l, p, in, limitsNow.Add(30*time.Second)); d.Verdict != Allow {
		t.Fatalf("next minute: %s", d.Verdict)
	}
	if _, ok := l.mem["minute|tool|2026-02-06T10:15:00Z|tool.read"]; ok {
		t.Fatal("the spent window was not dropped")
	}
}

// TestLimitKeys pins v1's counter keys, the budget's "destructive_budget|"
// prefix included.
func TestLimitKeys(t *testing.T) {
	p := mustPolicy(t, limitsPolicy)
	l := NewMemoryLimits()
	del := limitIntent(t, "tool.delete", "alice")
	if !del.Destructive() {
		t.Fatal("tool.delete intent is not destructive")
	}
	d, _ := applyAt(t, l, p, del, limitsNow)
	if d.Verdict != DryRun {
		t.Fatalf("first delete: %s %v", d.Verdict, d.ReasonCodes)
	}
	d, u := applyAt(t, l, p, del, limitsNow)
	if d.Verdict != Block || !slices.Equal(d.Violations, []string{"destructive_budget_exceeded", "v_delete"}) {
		t.Fatalf("second delete: %s %v", d.Verdict, d.Violations)
	}
	if u.Used != 2 || u.Key != "alice" {
		t.Fatalf("the rate limit is counted even when the budget is spent: %+v", u)
	}
	want := map[string]int{
		"minute|identity|2026-02-06T10:15:00Z|alice":                    2,
		"hour|tool|2026-02-06T10:00:00Z|destructive_budget|tool.delete": 1,
	}
	if !mapsEqual(l.mem, want) {
		t.Fatalf("counters %v, want %v", l.mem, want)
	}
	// A non-destructive call under a rule with only a budget needs no
	// counting at all.
	w := limitIntent(t, "tool.write", "alice")
	if d := p.Evaluate(w); d.NeedsLimits(w) {
		t.Fatal("a rule without limits needs limits")
	}
}

func TestLimitScopes(t *testing.T) {
	for _, c := range []struct {
		scope, key string
		budget     string
	}{
		{"tool", "minute|tool|2026-02-06T10:15:00Z|tool.delete", "minute|tool|2026-02-06T10:15:00Z|destructive_budget|tool.delete"},
		{"identity", "minute|identity|2026-02-06T10:15:00Z|bob", "minute|identity|2026-02-06T10:15:00Z|bob"},
		{"tool_identity", "minute|tool_identity|2026-02-06T10:15:00Z|tool.delete|bob", "minute|tool_identity|2026-02-06T10:15:00Z|destructive_budget|tool.delete|bob"},
	} {
		lim := Limit{Requests: 1, Window: "minute", Scope: c.scope}
		if k, _ := limitKey(lim, "tool.delete", "bob", limitsNow); k != c.key {
			t.Errorf("%s: rate key %q, want %q", c.scope, k, c.key)
		}
		if k, _ := limitKey(lim, "destructive_budget|tool.delete", "bob", limitsNow); k != c.budget {
			t.Errorf("%s: budget key %q, want %q", c.scope, k, c.budget)
		}
	}
}

func TestPruneCounters(t *testing.T) {
	c := map[string]int{
		"garbage":                                3,
		"a|b|c":                                  3,
		"a|b|c|d":                                3,
		"minute|tool|notatime|x":                 3,
		"minute|tool|2026-02-06T10:14:00Z|x":     3,
		"minute|identity|2026-02-06T10:15:00Z|x": 3,
		"minute|tool|2026-02-06T11:15:00+01:00|tz": 3,
		"hour|tool|2020-01-01T00:00:00Z|x":         3,
		"hour|tool|2026-02-06T10:00:00Z|x":         0,
		"minute||2026-02-06T10:15:00Z|":            1,
	}
	pruneCounters(c, "minute", limitsNow)
	want := map[string]int{"a|b|c|d": 3, "minute|identity|2026-02-06T10:15:00Z|x": 3, "hour|tool|2020-01-01T00:00:00Z|x": 3, "minute||2026-02-06T10:15:00Z|": 1}
	if !mapsEqual(c, want) {
		t.Fatalf("pruned to %v, want %v", c, want)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestLimitStateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".gait-out", "gate_rate_limits.json")
	p := mustPolicy(t, limitsPolicy)
	in := limitIntent(t, "tool.read", "alice")

	// No limit, no file.
	w := limitIntent(t, "tool.write", "alice")
	if _, _, err := NewLimits(path).Apply(p.Evaluate(w), w, limitsNow); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Fatalf("a call without limits touched the state directory: %v", err)
	}

	for i, want := range []Verdict{Allow, Allow, Block} {
		// A new Limits each time, as separate gate eval runs.
		if d, _ := applyAt(t, NewLimits(path), p, in, limitsNow); d.Verdict != want {
			t.Fatalf("run %d: %s, want %s", i+1, d.Verdict, want)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "schema_id": "gait.gate.rate_limit_state",
  "schema_version": "1.0.0",
  "counters": [
    {
      "key": "minute|tool|2026-02-06T10:15:00Z|tool.read",
      "count": 2
    }
  ]
}
`
	if string(data) != want {
		t.Fatalf("state file:\n%s\nwant:\n%s", data, want)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", st.Mode().Perm())
	}

	// v1's readers tolerate unknown fields; a duplicate key keeps the last.
	if err := os.WriteFile(path, []byte(`{"schema_id":"x","extra":1,"counters":[{"key":"minute|tool|2026-02-06T10:15:00Z|tool.read","count":2},{"key":"minute|tool|2026-02-06T10:15:00Z|tool.read","count":1}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if d, u := applyAt(t, NewLimits(path), p, in, limitsNow); d.Verdict != Allow || u.Used != 2 {
		t.Fatalf("after rewrite: %s %+v", d.Verdict, u)
	}

	for _, bad := range []string{"", "counters", `{"counters":{}}`} {
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := NewLimits(path).Apply(p.Evaluate(in), in, limitsNow)
		if exitcode.Of(err) != exitcode.InvalidInput {
			t.Fatalf("state %q: err %v, want exit 6", bad, err)
		}
	}
}

// TestLimitStateProcesses counts from several processes at once, each
// taking calls from one shared state file; no count may be lost, and no
// call beyond the limit may be allowed.
func TestLimitStateProcesses(t *testing.T) {
	if os.Getenv("GATE_LIMITS_CHILD") != "" {
		t.Skip("child")
	}
	path := filepath.Join(t.TempDir(), "state.json")
	const procs, calls = 4, 30 // 120 calls against a limit of 100
	var wg sync.WaitGroup
	allowed := make([]int, procs)
	for i := range procs {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestLimitStateChild$")
			cmd.Env = append(os.Environ(), "GATE_LIMITS_CHILD="+path, "GATE_LIMITS_CALLS="+strconv.Itoa(calls))
			out, err := cmd.Output()
			if err != nil {
				t.Errorf("child: %v\n%s", err, out)
				return
			}
			_, n, _ := strings.Cut(string(out), "allowed=")
			if allowed[i], err = strconv.Atoi(strings.Fields(n + " x")[0]); err != nil {
				t.Errorf("child output %q: %v", out, err)
			}
		})
	}
	wg.Wait()
	total := 0
	for _, n := range allowed {
		total += n
	}
	counters, err := readLimitState(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := counters["hour|tool_identity|2026-02-06T10:00:00Z|tool.read|alice"]; got != 100 || total != 100 {
		t.Fatalf("counted %d, allowed %d; want 100 and 100 (%v)", got, total, counters)
	}
}

// TestLimitStateChild is the body of TestLimitStateProcesses' children.
func TestLimitStateChild(t *testing.T) {
	path := os.Getenv("GATE_LIMITS_CHILD")
	if path == "" {
		t.Skip("run by TestLimitStateProcesses")
	}
	calls, _ := strconv.Atoi(os.Getenv("GATE_LIMITS_CALLS"))
	p := mustPolicy(t, "rules: [{name: r, effect: allow, match: {tool_names: [tool.read]}, rate_limit: {requests: 100, window: hour}}]")
	in := limitIntent(t, "tool.read", "alice")
	allowed := 0
	for range calls {
		d, _, err := NewLimits(path).Apply(p.Evaluate(in), in, limitsNow)
		if err != nil {
			t.Fatal(err)
		}
		if d.Verdict == Allow {
			allowed++
		}
	}
	fmt.Printf("\nallowed=%d\n", allowed)
}

func TestBrokerCredentialMissingBlocks(t *testing.T) {
	p := mustPolicy(t, `
default_verdict: block
rules:
  - name: brokered
    effect: allow
    require_broker_credential: true
    broker_scopes: [write]
    match: {tool_names: [tool.write]}
  - name: brokered-approval
    effect: require_approval
    require_broker_credential: true
    match: {tool_names: [tool.read]}
  - name: plain
    effect: allow
    match: {tool_names: [tool.list]}
`)
	in := limitIntent(t, "tool.write", "alice")
	out := p.Enforce(in, EnforceOptions{Now: func() time.Time { return limitsNow }})
	if out.Verdict != Block || !slices.Equal(out.ReasonCodes, []string{"broker_credential_required", "matched_rule_brokered"}) ||
		!slices.Equal(out.Violations, []string{"broker_credential_missing"}) {
		t.Fatalf("enforce: %s %v %v", out.Verdict, out.ReasonCodes, out.Violations)
	}
	sim := p.Enforce(in, EnforceOptions{Now: func() time.Time { return limitsNow }, Simulate: true})
	if sim.Verdict != Allow || sim.SimulatedVerdict != Block {
		t.Fatalf("simulate: %s %s", sim.Verdict, sim.SimulatedVerdict)
	}
	// Without approvals a require_approval rule stays require_approval.
	if out := p.Enforce(limitIntent(t, "tool.read", "alice"), EnforceOptions{}); out.Verdict != RequireApproval {
		t.Fatalf("approval rule: %s", out.Verdict)
	}
	d, _, err := p.EvaluateToolCall("tool.write", map[string]any{"path": "/tmp/x"}, ToolCallContext{RiskClass: "low"})
	if err != nil || d.Verdict != Block || !slices.Contains(d.ReasonCodes, "broker_credential_required") {
		t.Fatalf("tool call: %s %v %v", d.Verdict, d.ReasonCodes, err)
	}
	if d, _, _ := p.EvaluateToolCall("tool.list", nil, ToolCallContext{RiskClass: "low"}); d.Verdict != Allow {
		t.Fatalf("plain tool call: %s", d.Verdict)
	}
}

// BenchmarkApplyWithoutLimits is the cost the limit step adds to a
// decision whose rule has no limits: none.
func BenchmarkApplyWithoutLimits(b *testing.B) {
	p := benchPolicy(b, 50)
	in := mustIntent(b, baseIntent())
	l := NewLimits(filepath.Join(b.TempDir(), "state.json"))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := l.Apply(p.Evaluate(in), in, limitsNow); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyStateFile is one counted call against the state file:
// lock, read, count, atomic write.
func BenchmarkApplyStateFile(b *testing.B) {
	p := mustPolicy(b, "rules: [{name: r, effect: allow, match: {tool_names: [tool.read]}, rate_limit: {requests: 1000000000, window: hour}}]")
	in := limitIntent(b, "tool.read", "alice")
	l := NewLimits(filepath.Join(b.TempDir(), "state.json"))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := l.Apply(p.Evaluate(in), in, limitsNow); err != nil {
			b.Fatal(err)
		}
	}
}
