package conformance_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRecordContextEnvelope: run record --context-envelope writes v1's
// bytes (the envelope's records become the refs, with their context set
// digest and count) and refuses raw records without --unsafe-context-raw
// as v1 does.
func TestRunRecordContextEnvelope(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	record := `{"run":{"run_id":"run_env","created_at":"2026-01-01T00:00:00Z","producer_version":"x","env":{"arch":"amd64","os":"linux","runtime":"go"},"timeline":[]},
 "intents":[{"intent_id":"i1","tool_name":"tool.read","args":{"path":"/a"}}],"results":[{"intent_id":"i1","status":"ok","result":{"n":1}}],
 "refs":{"receipts":[{"ref_id":"x1","source_type":"doc","source_locator":"s3://q","query_digest":"` + strings.Repeat("a", 64) + `","content_digest":"` + strings.Repeat("c", 64) + `","retrieved_at":"2026-01-01T00:00:00Z","redaction_mode":"reference","retrieval_params":{}}]}}`
	rec := func(id, mode string, sla int) string {
		return `{"ref_id":"` + id + `","source_type":"doc","source_locator":"s3://b/` + id + `","redaction_mode":"` + mode + `",
  "query_digest":"` + strings.Repeat("a", 64) + `","content_digest":"` + strings.Repeat("b", 64) + `","retrieved_at":"2026-01-0` + string(rune('1'+sla%3)) + `T00:00:00Z"` +
			map[bool]string{true: `,"freshness_sla_seconds":` + string(rune('0'+sla)), false: ""}[sla > 0] + `}`
	}
	envelopes := map[string]string{
		"one":      `{"schema_id":"gait.context.envelope","schema_version":"1.0.0","context_set_id":"cs1","records":[` + rec("r1", "reference", 0) + `]}`,
		"two":      `{"context_set_id":"cs2","evidence_mode":"required","records":[` + rec("r2", "reference", 5) + `,` + rec("r1", "hashed", 2) + `]}`,
		"empty":    `{"context_set_id":"cs3","records":[]}`,
		"raw":      `{"context_set_id":"cs4","records":[` + rec("r1", "raw", 0) + `]}`,
		"bad_id":   `{"records":[]}`,
		"bad_json": `{"context_set_id":`,
	}
	files := map[string]string{"run.json": record}
	for name, body := range envelopes {
		files[name+".json"] = body
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(bin string, args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		var m struct {
			ManifestDigest string `json:"manifest_digest"`
		}
		_ = json.Unmarshal(out, &m)
		return exitCodeOf(t, err), m.ManifestDigest
	}
	for name := range envelopes {
		for _, unsafe := range []bool{false, true} {
			args := []string{"run", "record", "--input", "run.json", "--context-envelope", name + ".json", "--json"}
			if unsafe {
				args = append(args, "--unsafe-context-raw")
			}
			wc, wd := run(ref, append(args, "--out-dir", "v1")...)
			gc, gd := run(gaitBin, append(args, "--out-dir", "gait")...)
			if strings.HasPrefix(name, "bad_") {
				// v1 records the run as if no envelope were given; Gait
				// refuses a malformed envelope (exit 6), as it refuses any
				// malformed input
				if gc != 6 {
					t.Errorf("%s: gait exit %d, want 6", strings.Join(args, " "), gc)
				}
				continue
			}
			if wc != gc || wd != gd {
				t.Errorf("%s: v1 exit %d manifest %s, gait exit %d manifest %s", strings.Join(args, " "), wc, wd, gc, gd)
			}
		}
	}
}
