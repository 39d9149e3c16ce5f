package gate

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// policyKeys lists every YAML key the policy loader accepts, with its path.
func policyKeys(t reflect.Type, prefix string, out map[string]string) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[prefix+name] = name
		policyKeys(f.Type, prefix+name+".", out)
	}
}

// TestEveryPolicyFieldIsDocumented: a key the loader accepts is either
// enforced or refused, and docs/policy.md says which; a key added to the
// loader without a word there fails this test.
func TestEveryPolicyFieldIsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "policy.md"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	policyKeys(reflect.TypeFor[policyFile](), "", keys)
	if len(keys) < 60 {
		t.Fatalf("found only %d keys", len(keys))
	}
	for path, name := range keys {
		if !strings.Contains(string(doc), "`"+name+"`") && !strings.Contains(string(doc), "`"+name+":") &&
			!strings.Contains(string(doc), " "+name+",") && !strings.Contains(string(doc), "("+name+",") {
			t.Errorf("policy key %s is not described in docs/policy.md", path)
		}
	}
}

// TestMCPTrustBlockIsValidated: an enabled mcp_trust needs a snapshot
// and a known action (the check itself is in mcptrust_test.go).
func TestMCPTrustBlockIsValidated(t *testing.T) {
	if _, err := ParsePolicy([]byte("default_verdict: allow\nmcp_trust: {enabled: true, action: block}\n")); err == nil || !strings.Contains(err.Error(), "mcp_trust.snapshot") {
		t.Fatalf("enabled mcp_trust without a snapshot accepted: %v", err)
	}
	if _, err := ParsePolicy([]byte("default_verdict: allow\nmcp_trust: {enabled: true, snapshot: s.json, action: allow}\n")); err == nil {
		t.Fatal("mcp_trust.action allow accepted")
	}
	if _, err := ParsePolicy([]byte("default_verdict: allow\nmcp_trust: {enabled: true, snapshot: s.json, action: block}\n")); err != nil {
		t.Fatalf("enabled mcp_trust refused: %v", err)
	}
}
