package conformance_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/internal/safezip"
	"github.com/gait-dev/gait/schemas"
)

// TestKeysCorpusPublicKey: v1's public key loads with v1's key id.
func TestKeysCorpusPublicKey(t *testing.T) {
	pub, err := keys.LoadPublic(need(t, "conformance/gait-v1/artifacts/signed/gait_public.key"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keys.ID(pub), "55e9b2194605036ad1c7ed28abe7052c1acbf4dd14d1100cdf8444104b165ad6"; got != want {
		t.Fatalf("key id %s, want %s", got, want)
	}
}

// corpusZips lists every zip of the v1 artifacts.
func corpusZips(t testing.TB) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(need(t, "conformance/gait-v1/artifacts"), func(p string, _ os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".zip") {
			out = append(out, p)
		}
		return err
	})
	if err != nil || len(out) < 8 {
		t.Fatalf("conformance input missing: v1 artifact zips (found %d): %v", len(out), err)
	}
	return out
}

// TestSafezipCorpusRoundTrip: every v1 zip reads through the strict reader
// and rewriting its entries gives the same bytes.
func TestSafezipCorpusRoundTrip(t *testing.T) {
	for _, p := range corpusZips(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			a, err := safezip.NewReader(bytes.NewReader(data), int64(len(data)), safezip.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			var list []safezip.File
			for _, n := range a.Names() {
				b, err := a.ReadFile(n)
				if err != nil {
					t.Fatal(err)
				}
				list = append(list, safezip.File{Name: n, Data: b})
			}
			again, err := safezip.Bytes(list)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, data) {
				t.Fatal("rewritten archive differs from the original bytes")
			}
		})
	}
}

// TestSchemasAcceptCorpus: the project's schemas accept every v1 artifact
// of their kind.
func TestSchemasAcceptCorpus(t *testing.T) {
	type doc struct {
		schema, file, entry string // entry: a zip entry of file, or "" for the file
	}
	var docs []doc
	runpackEntries := map[string]string{
		"manifest.json": "runpack/manifest", "run.json": "runpack/run", "intents.jsonl": "runpack/intent",
		"results.jsonl": "runpack/result", "refs.json": "runpack/refs",
	}
	packEntries := map[string]string{
		"pack_manifest.json": "pack/manifest", "run_payload.json": "pack/run_payload", "job_payload.json": "pack/job_payload",
		"job_state.json": "job/state", "job_events.jsonl": "job/event",
	}
	for _, z := range corpusZips(t) {
		zr, err := zip.OpenReader(z)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if s, ok := runpackEntries[f.Name]; ok {
				docs = append(docs, doc{s, z, f.Name})
			}
			if s, ok := packEntries[f.Name]; ok {
				docs = append(docs, doc{s, z, f.Name})
			}
		}
		zr.Close()
	}
	a := "conformance/gait-v1/artifacts/"
	for _, d := range []doc{
		{"regress/config", a + "regress/gait.yaml", ""},
		{"regress/fixture", a + "regress/fixtures/run_demo/fixture.json", ""},
		{"regress/result", a + "regress/regress_result.json", ""},
		{"report/top_actions", a + "report_top_actions.json", ""},
		{"runpack/session_journal", a + "sessions/demo.journal.jsonl", ""},
		{"runpack/session_state", a + "sessions/demo.journal.jsonl.state.json", ""},
		{"runpack/session_chain", a + "sessions/demo.journal_chain.json", ""},
	} {
		docs = append(docs, doc{d.schema, need(t, d.file), ""})
	}
	for _, n := range []string{"delete", "read", "write"} {
		docs = append(docs, doc{"gate/eval", need(t, a+"gate/gate_"+n+".json"), ""}, doc{"gate/trace", need(t, a+"gate/trace_"+n+".json"), ""})
	}
	inputs := need(t, "conformance/gait-v1/inputs/policy")
	_ = filepath.WalkDir(inputs, func(p string, d os.DirEntry, err error) error {
		switch {
		case err != nil || d.IsDir():
		case strings.HasSuffix(p, ".yaml"):
			docs = append(docs, doc{"gate/policy", p, ""})
		case strings.HasPrefix(d.Name(), "intent_"):
			docs = append(docs, doc{"gate/intent_request", p, ""})
		}
		return err
	})
	seen := map[string]bool{}
	for _, d := range docs {
		seen[d.schema] = true
		name := strings.TrimPrefix(d.file, sharedDir+string(filepath.Separator))
		if d.entry != "" {
			name += ":" + d.entry
		}
		t.Run(d.schema+"/"+name, func(t *testing.T) {
			data := readDoc(t, d.file, d.entry)
			var err error
			if strings.HasSuffix(d.file+d.entry, ".jsonl") {
				err = schemas.ValidateLines(d.schema, data)
			} else {
				err = schemas.Validate(d.schema, data)
			}
			if err != nil {
				t.Errorf("schemas/%s rejects v1's %s: %v", d.schema, name, err)
			}
		})
	}
	// Every schema with a v1 counterpart was exercised.
	for _, s := range schemas.Names() {
		switch s {
		case "pack/diff", "gate/approval_token", "gate/delegation_token", "gate/rate_limit_state", "doctor/result":
			continue // the corpus holds none of these
		case "registry/pack", "registry/verification_report", "export/otel_record", "export/otlp":
			continue // checked on the reference's own output in registry_test.go and export_test.go (otlp has no v1 form)
		case "scout/inventory_snapshot", "scout/inventory_coverage", "scout/inventory_diff", "scout/signal_report",
			"scout/adoption_event", "doctor/adoption_report":
			continue // checked on the reference's own output in scout_test.go (TestScoutSchemasAcceptReference)
		case "gate/approved_script_registry", "gate/broker_credential_record":
			continue // checked on what v1 writes in gate_broker_test.go
		case "mcp/decision_log", "mcp/decision_otel", "gate/context_envelope":
			continue // checked on what v1 writes and accepts in mcp_service_controls_test.go
		case "gate/approval_audit_record":
			continue // checked on what v1 writes in gate_approval_chain_test.go
		}
		if !seen[s] {
			t.Errorf("no v1 artifact checked against schemas/%s", s)
		}
	}
}

// readDoc returns the JSON of file (or of its zip entry); YAML is converted.
func readDoc(t *testing.T, file, entry string) []byte {
	t.Helper()
	var data []byte
	if entry == "" {
		var err error
		if data, err = os.ReadFile(file); err != nil {
			t.Fatal(err)
		}
	} else {
		zr, err := zip.OpenReader(file)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		f, err := zr.Open(entry)
		if err != nil {
			t.Fatal(err)
		}
		if data, err = io.ReadAll(f); err != nil {
			t.Fatal(err)
		}
	}
	if strings.HasSuffix(file, ".yaml") {
		var v any
		if err := yaml.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return data
}
