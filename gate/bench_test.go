package gate

import (
	"fmt"
	"strings"
	"testing"
)

// benchPolicy builds a policy of n rules in the style of the corpus
// policies; the rule that matches the benchmark intent comes last.
func benchPolicy(tb testing.TB, n int) *Policy {
	var b strings.Builder
	b.WriteString("default_verdict: block\nfail_closed: {enabled: true, risk_classes: [critical], required_fields: [targets, arg_provenance]}\nrules:\n")
	for i := 0; i < n-1; i++ {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "  - {name: r%03d, priority: %d, effect: block, match: {tool_names: [tool.t%d, tool.u%d]}, reason_codes: [c%d]}\n", i, i, i, i, i)
		case 1:
			fmt.Fprintf(&b, "  - {name: r%03d, priority: %d, effect: require_approval, match: {tool_names: [tool.write], risk_classes: [critical]}}\n", i, i)
		case 2:
			fmt.Fprintf(&b, "  - {name: r%03d, priority: %d, effect: block, match: {tool_names: [tool.write], target_kinds: [host, url, bucket], provenance_sources: [external]}}\n", i, i)
		case 3:
			fmt.Fprintf(&b, "  - {name: r%03d, priority: %d, effect: allow, match: {identities: [someone-%d], workspace_prefixes: [/srv/]}}\n", i, i, i)
		}
	}
	fmt.Fprintf(&b, "  - {name: zz-allow-write, priority: %d, effect: allow, match: {tool_names: [tool.write], risk_classes: [low, medium]}, reason_codes: [write_ok]}\n", n)
	p, err := ParsePolicy([]byte(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	if p.RuleCount() != n {
		tb.Fatalf("rules %d", p.RuleCount())
	}
	return p
}

func BenchmarkEvaluate(b *testing.B) {
	for _, n := range []int{8, 50} {
		p := benchPolicy(b, n)
		in := mustIntent(b, baseIntent())
		if d := p.Evaluate(in); d.MatchedRule != "zz-allow-write" {
			b.Fatalf("matched %q", d.MatchedRule)
		}
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = p.Evaluate(in)
			}
		})
	}
}

// BenchmarkEnforce includes token handling (none presented) and the
// reason/violation copies of the final outcome.
func BenchmarkEnforce(b *testing.B) {
	p := benchPolicy(b, 50)
	in := mustIntent(b, baseIntent())
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Enforce(in, EnforceOptions{})
	}
}

// BenchmarkParseAndEvaluate is the whole in-process path from intent JSON
// to a decision: decode, normalize (with both digests) and evaluate.
func BenchmarkParseAndEvaluate(b *testing.B) {
	p := benchPolicy(b, 50)
	data := []byte(`{"schema_id":"gait.gate.intent_request","schema_version":"1.0.0","created_at":"2026-02-06T00:00:00Z","producer_version":"x","tool_name":"tool.write","args":{"path":"/tmp/out.txt","content":"hello"},"targets":[{"kind":"path","value":"/tmp/out.txt"}],"arg_provenance":[{"arg_path":"$.path","source":"user"}],"context":{"identity":"example-user","workspace":"/tmp/workspace","risk_class":"low"}}`)
	b.ReportAllocs()
	for b.Loop() {
		in, err := ParseIntent(data, ProfileStandard)
		if err != nil {
			b.Fatal(err)
		}
		_ = p.Evaluate(in)
	}
}

func BenchmarkCompile50(b *testing.B) {
	p := benchPolicy(b, 50)
	src, _ := p.Format()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePolicy(src); err != nil {
			b.Fatal(err)
		}
	}
}
