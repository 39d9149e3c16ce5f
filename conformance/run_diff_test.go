package conformance_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestRunDiffDifferential: run diff gives v1's exit code, ok, privacy and
// summary (which parts changed, one-sided intents and results, context
// drift) for runs that differ in one way each, recorded by v1, with both
// privacy levels, and writes --output.
func TestRunDiffDifferential(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	base := func() map[string]any {
		var m map[string]any
		_ = json.Unmarshal([]byte(`{"run":{"run_id":"run_a","created_at":"2026-01-01T00:00:00Z","producer_version":"x"},
 "intents":[{"intent_id":"i1","tool_name":"tool.read","args":{"path":"/a"}},{"intent_id":"i2","tool_name":"tool.write","args":{"path":"/b","content":"x"}}],
 "results":[{"intent_id":"i1","status":"ok","result":{"n":1}},{"intent_id":"i2","status":"ok","result":{"ok":true}}],
 "refs":{"receipts":[]}}`), &m)
		return m
	}
	receipt := map[string]any{"ref_id": "r1", "source_type": "doc", "source_locator": "s3://x", "query_digest": strings.Repeat("a", 64),
		"content_digest": strings.Repeat("b", 64), "retrieved_at": "2026-01-01T00:00:00Z", "redaction_mode": "reference", "retrieval_params": map[string]any{}}
	intents := func(m map[string]any) []any { return m["intents"].([]any) }
	results := func(m map[string]any) []any { return m["results"].([]any) }
	variants := map[string]func(m map[string]any){
		"same":     func(m map[string]any) {},
		"arg":      func(m map[string]any) { intents(m)[1].(map[string]any)["args"].(map[string]any)["content"] = "y" },
		"result":   func(m map[string]any) { results(m)[0].(map[string]any)["result"].(map[string]any)["n"] = 2 },
		"status":   func(m map[string]any) { results(m)[1].(map[string]any)["status"] = "error" },
		"tool":     func(m map[string]any) { intents(m)[1].(map[string]any)["tool_name"] = "tool.delete" },
		"time":     func(m map[string]any) { m["run"].(map[string]any)["created_at"] = "2026-02-01T00:00:00Z" },
		"producer": func(m map[string]any) { m["run"].(map[string]any)["producer_version"] = "y" },
		"order": func(m map[string]any) {
			in, rs := intents(m), results(m)
			in[0], in[1] = in[1], in[0]
			rs[0], rs[1] = rs[1], rs[0]
		},
		"extra": func(m map[string]any) {
			m["intents"] = append(intents(m), map[string]any{"intent_id": "i3", "tool_name": "tool.x", "args": map[string]any{}})
			m["results"] = append(results(m), map[string]any{"intent_id": "i3", "status": "ok", "result": map[string]any{}})
		},
		"renamed": func(m map[string]any) {
			intents(m)[1].(map[string]any)["intent_id"] = "i9"
			results(m)[1].(map[string]any)["intent_id"] = "i9"
		},
		"no_result": func(m map[string]any) { m["results"] = results(m)[:1] },
		"ref":       func(m map[string]any) { m["refs"] = map[string]any{"receipts": []any{receipt}} },
	}
	run := func(bin string, args ...string) (int, map[string]any) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		var m map[string]any
		_ = json.Unmarshal(out, &m)
		return exitCodeOf(t, err), m
	}
	write := func(name string, m map[string]any) {
		data, _ := json.Marshal(m)
		if err := os.WriteFile(filepath.Join(dir, name+".json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		if code, _ := run(ref, "run", "record", "--input", name+".json", "--json"); code != 0 {
			t.Fatalf("v1 run record %s: exit %d", name, code)
		}
	}
	write("a", base())
	if code, _ := run(ref, "run", "record", "--input", "a.json", "--run-id", "run_raw", "--capture-mode", "raw", "--json"); code != 0 {
		t.Fatal("v1 run record raw failed")
	}
	names := []string{"run_raw"}
	for name, change := range variants {
		m := base()
		m["run"].(map[string]any)["run_id"] = "run_" + name
		change(m)
		write(name, m)
		names = append(names, "run_"+name)
	}
	for _, name := range names {
		for _, privacy := range []string{"", "full", "metadata"} {
			args := []string{"run", "diff", "run_a", name, "--json"}
			if privacy != "" {
				args = append(args, "--privacy="+privacy)
			}
			wc, want := run(ref, args...)
			gc, got := run(gaitBin, args...)
			if wc != gc || want["ok"] != got["ok"] || want["privacy"] != got["privacy"] || !reflect.DeepEqual(want["summary"], got["summary"]) {
				t.Errorf("%s:\nv1   exit %d ok %v privacy %v %v\ngait exit %d ok %v privacy %v %v", strings.Join(args, " "), wc, want["ok"], want["privacy"], want["summary"],
					gc, got["ok"], got["privacy"], got["summary"])
			}
		}
	}
	// --output writes the privacy and summary v1 writes
	for j, bin := range []string{ref, gaitBin} {
		out := []string{"v1.json", "gait.json"}[j]
		if code, _ := run(bin, "run", "diff", "run_a", "run_extra", "--privacy=metadata", "--output", out, "--json"); code != 2 {
			t.Fatalf("%s run diff --output: exit %d", bin, code)
		}
	}
	var docs [2]map[string]any
	for j, f := range []string{"v1.json", "gait.json"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &docs[j]); err != nil {
			t.Fatal(err)
		}
	}
	if docs[0]["privacy"] != docs[1]["privacy"] || !reflect.DeepEqual(docs[0]["summary"], docs[1]["summary"]) {
		t.Errorf("--output:\nv1   %v\ngait %v", docs[0], docs[1])
	}
}
