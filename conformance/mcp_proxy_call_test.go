package conformance_test

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestMCPProxyCallV1Flags: v1's one-shot mcp proxy --call takes --adapter,
// --trace-out, --runpack-out and --export-log-out; Gait's takes them with
// the same answer (exit code, verdict, reason codes, violations, intent
// digest) and writes the files asked for.
func TestMCPProxyCallV1Flags(t *testing.T) {
	ref := referenceBin(t)
	r := rand.New(rand.NewPCG(23, 5))
	for i := range 40 {
		adapter, call := genCall(r)
		var answers [2]serviceAnswer
		for j, bin := range []string{ref, gaitBin} {
			dir := t.TempDir()
			for name, data := range map[string]string{"policy.yaml": servicePolicyYAML, "snap.json": serviceSnapshot, "call.json": call} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(bin, "mcp", "proxy", "--policy", "policy.yaml", "--call", "call.json", "--adapter", adapter,
				"--trace-out", "out/trace.json", "--runpack-out", "out/call.zip", "--export-log-out", "out/events.jsonl", "--json")
			cmd.Dir = dir
			out, err := cmd.Output()
			code := exitCodeOf(t, err)
			if code == 6 {
				t.Fatalf("call %d (%s, %s): %s exits 6: %s", i, adapter, call, bin, out)
			}
			if err := json.Unmarshal(out, &answers[j]); err != nil {
				t.Fatalf("call %d: %s printed no JSON: %v\n%s", i, bin, err, out)
			}
			answers[j].Status, answers[j].ExitCode = code, 0
			for _, f := range []string{"out/trace.json", "out/call.zip", "out/events.jsonl"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil && bin == gaitBin {
					t.Errorf("call %d: gait wrote no %s: %v", i, f, err)
				}
			}
		}
		if !sameAnswer(answers[0], answers[1]) {
			t.Errorf("call %d (%s) %s:\nv1   %+v\ngait %+v", i, adapter, call, answers[0], answers[1])
		}
	}
}
