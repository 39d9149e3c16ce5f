package conformance_test

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/pack/packtest"
)

// Every file of a runpack written here validates against the Gait v1
// schemas, including a signed one.
func TestPackRunpackValidatesAgainstV1Schemas(t *testing.T) {
	c := jsonschema.NewCompiler()
	schema := func(name string) *jsonschema.Schema {
		s, err := c.Compile(need(t, "conformance/gait-v1/schemas/runpack/"+name+".schema.json"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	schemas := map[string]*jsonschema.Schema{
		pack.FileManifest: schema("manifest"), pack.FileRun: schema("run"), pack.FileRefs: schema("refs"),
		pack.FileIntents: schema("intent"), pack.FileResults: schema("result"),
	}
	validate := func(name string, doc []byte) {
		t.Helper()
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if err := schemas[name].Validate(v); err != nil {
			t.Errorf("%s does not validate: %v\n%s", name, err, doc)
		}
	}
	for _, rp := range packtest.Variants(t) {
		for _, name := range []string{pack.FileManifest, pack.FileRun, pack.FileRefs} {
			validate(name, rp.File(name))
		}
		for _, name := range []string{pack.FileIntents, pack.FileResults} {
			sc := bufio.NewScanner(bytes.NewReader(rp.File(name)))
			for sc.Scan() {
				validate(name, sc.Bytes())
			}
		}
	}
}

// TestGateOutputsValidateAgainstV1Schemas: signed and unsigned traces, the
// result document and approval and delegation tokens written here validate
// against Gait v1's gate schemas.
func TestGateOutputsValidateAgainstV1Schemas(t *testing.T) {
	c := jsonschema.NewCompiler()
	validate := func(name string, v any) {
		t.Helper()
		s, err := c.Compile(need(t, "conformance/gait-v1/schemas/gate/"+name+".schema.json"))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(doc); err != nil {
			t.Errorf("%s: %v\n%s", name, err, raw)
		}
	}
	root := repoRoot(t)
	p, err := gate.LoadPolicy(filepath.Join(root, "testdata", "gate", "policy", "strict.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pair := packtest.Keys(t)
	for _, name := range []string{"read", "write", "delete", "send_delegated"} {
		data, err := os.ReadFile(filepath.Join(root, "testdata", "gate", "intents", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		in, err := gate.ParseIntent(data, gate.ProfileStandard)
		if err != nil {
			t.Fatal(err)
		}
		out := p.Enforce(in, gate.EnforceOptions{})
		for _, key := range []ed25519.PrivateKey{nil, pair.Private} {
			tr, err := gate.BuildTrace(in, out, key, "test")
			if err != nil {
				t.Fatal(err)
			}
			validate("trace_record", tr)
		}
		validate("gate_result", gate.NewResult(in, out, "test"))
	}
	at, err := gate.MintApproval(gate.ApprovalRequest{IntentDigest: strings.Repeat("a", 64), PolicyDigest: p.Digest(), Approver: "a", ReasonCode: "r", Scope: []string{"*"}, TTL: time.Hour}, pair.Private, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	validate("approval_token", at)
	dt, err := gate.MintDelegation(gate.DelegationRequest{Delegator: "a", Delegate: "b", Scope: []string{"write"}, TTL: time.Hour}, pair.Private, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	validate("delegation_token", dt)
}

// TestCLIOutputsValidateAgainstV1Schemas: packs, the regress result and a
// session chain written by the CLI validate against Gait v1's schemas.
func TestCLIOutputsValidateAgainstV1Schemas(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"demo"}, {"demo", "--durable"},
		{"pack", "build", "--type", "run", "--from", "run_demo"},
		{"regress", "bootstrap", "--from", "run_demo"},
		{"run", "session", "start", "--journal", "s.journal.jsonl", "--session-id", "s1", "--run-id", "run_s1"},
		{"run", "session", "append", "--journal", "s.journal.jsonl", "--tool", "tool.read", "--verdict", "allow"},
		{"run", "session", "checkpoint", "--journal", "s.journal.jsonl"},
	} {
		cmd := exec.Command(gaitBin, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gait %v: %v\n%s", args, err, out)
		}
	}
	c := jsonschema.NewCompiler()
	check := func(schema, file, entry string) {
		t.Helper()
		s, err := c.Compile(need(t, "conformance/gait-v1/schemas/"+schema+".schema.json"))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(schema, func(t *testing.T) {
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(readDoc(t, filepath.Join(dir, file), entry)))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(doc); err != nil {
				t.Errorf("%s %s: %v", file, entry, err)
			}
		})
	}
	check("pack/manifest", "gait-out/pack_run_run_demo.zip", "pack_manifest.json")
	check("pack/run", "gait-out/pack_run_run_demo.zip", "run_payload.json")
	check("pack/manifest", "gait-out/pack_job_demo_durable.zip", "pack_manifest.json")
	check("pack/job", "gait-out/pack_job_demo_durable.zip", "job_payload.json")
	check("regress/regress_result", "regress_result.json", "")
	check("runpack/session_chain", "s.journal_chain.json", "")
}
