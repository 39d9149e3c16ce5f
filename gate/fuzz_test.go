package gate

import (
	"path/filepath"
	"testing"
)

// FuzzParsePolicy: parsing never panics, and a policy that parses formats
// to YAML that parses again to the same digest. Seeds: testdata/fuzz.
func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte("rules:\n  - {name: r, effect: allow, match: {max_delegation_depth: 1}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy(data)
		if err != nil {
			return
		}
		out, err := p.Format()
		if err != nil {
			t.Fatalf("Format: %v", err)
		}
		q, err := ParsePolicy(out)
		if err != nil {
			t.Fatalf("formatted policy does not parse: %v\n%s", err, out)
		}
		if q.Digest() != p.Digest() {
			t.Fatalf("digest changed after fmt\n%s", out)
		}
	})
}

// FuzzParseIntent: decoding and evaluating never panic; an intent that
// fails to normalize never gets an allow from the fail-closed decision;
// and normalizing is stable (same digest twice). Seeds: testdata/fuzz.
func FuzzParseIntent(f *testing.F) {
	policy, err := LoadPolicy(filepath.Join("..", "testdata", "gate", "policy", "strict.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeIntent(data, ProfileStandard)
		if err != nil {
			return
		}
		in, err := Normalize(req)
		if err != nil {
			if d, ok := policy.InvalidIntentDecision(req.Context.RiskClass); ok && d.Verdict == Allow {
				t.Fatal("malformed intent allowed")
			}
			return
		}
		again, err := Normalize(req)
		if err != nil || again.IntentDigest != in.IntentDigest {
			t.Fatalf("normalize is not stable: %v", err)
		}
		out := policy.Enforce(in, EnforceOptions{})
		if !out.Verdict.Valid() {
			t.Fatalf("invalid verdict %q", out.Verdict)
		}
	})
}
