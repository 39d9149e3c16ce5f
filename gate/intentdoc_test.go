package gate

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/gait-dev/gait/internal/jcs"
)

// checkIntentDoc fails when the direct writer and the general encoder
// disagree on the intent document of in.
func checkIntentDoc(t *testing.T, doc normalizedDoc, canonArgs []byte) {
	t.Helper()
	if doc.Delegation != nil || doc.SkillProvenance != nil || len(doc.Context.AuthContext) > 0 {
		return // always the general encoder
	}
	got := appendIntentDoc(nil, doc, canonArgs)
	doc.Args = json.RawMessage(canonArgs)
	want, err := jcs.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("intent document differs:\ndirect  %s\nencoder %s", got, want)
	}
}

// checkIntent checks the document of a normalized intent.
func checkIntent(t *testing.T, in *Intent) {
	t.Helper()
	args, err := jcs.Marshal(in.Args)
	if err != nil {
		t.Fatal(err)
	}
	checkIntentDoc(t, normalizedDoc{ToolName: in.ToolName, Targets: in.Targets, ArgProvenance: in.ArgProvenance,
		SkillProvenance: in.SkillProvenance, Delegation: in.Delegation, Context: in.Context}, args)
}

func TestIntentDocMatchesEncoder(t *testing.T) {
	full := Target{Kind: "url", Value: "https://x.test/\u2028<&>", Operation: "write", Sensitivity: "high", EndpointClass: "net.http",
		EndpointDomain: "x.test", Destructive: true, DiscoveryMethod: "mcp", ReadOnlyHint: true, DestructiveHint: true, IdempotentHint: true, OpenWorldHint: true}
	docs := []normalizedDoc{
		{ToolName: "t", Context: IntentContext{Identity: "a", Workspace: "/w", RiskClass: "low"}},
		{ToolName: "t\x01\"\\", Targets: []Target{}, Context: IntentContext{Identity: "bad\xff", Workspace: "é", RiskClass: "low"}},
		{ToolName: "t", Targets: []Target{full, {Kind: "path", Value: ""}},
			ArgProvenance: []ArgProvenance{{ArgPath: "$.a", Source: "user"}, {ArgPath: "$.b", Source: "external", SourceRef: "r", IntegrityDigest: "ab"}},
			Context: IntentContext{Identity: "a", Workspace: "/w", RiskClass: "high", Phase: "plan", JobID: "j", SessionID: "s", RequestID: "r",
				CredentialScopes: []string{"x", "y"}, EnvironmentFingerprint: "e", ContextSetDigest: "d", ContextEvidenceMode: "required", ContextRefs: []string{"c"}}},
	}
	for _, d := range docs {
		checkIntentDoc(t, d, []byte(`{"a":1}`))
	}
	files, _ := filepath.Glob("../testdata/gate/intents/*.json")
	scripts, _ := filepath.Glob("../testdata/gate/scripts/*.json")
	for _, f := range append(files, scripts...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in, err := ParseIntent(data, ProfileStandard)
		if err != nil {
			continue
		}
		checkIntent(t, in)
		if in.Script != nil {
			for _, st := range in.Script.Steps {
				checkIntent(t, st)
			}
		}
	}
}

// FuzzIntentDoc: for any intent that normalizes, the direct writer gives
// the general encoder's bytes, so the intent digest does not depend on
// which of the two wrote it.
func FuzzIntentDoc(f *testing.F) {
	files, _ := filepath.Glob("../testdata/gate/intents/*.json")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"tool_name":"T\u0001","args":{},"targets":[{"kind":"url","value":"https://a.test/\u2028","read_only_hint":true,"open_world_hint":true,"sensitivity":"x"}],"arg_provenance":[{"arg_path":"$.x","source":"user","source_ref":"\u00e9","integrity_digest":"<"}],"context":{"identity":"i","workspace":"w","risk_class":"low","context_refs":["b","a"],"credential_scopes":["s"],"job_id":"j"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ParseIntent(data, ProfileStandard)
		if err != nil {
			return
		}
		checkIntent(t, in)
	})
}
