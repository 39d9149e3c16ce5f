package conformance_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSessionCompactDifferential: a journal v1 wrote, with checkpoints,
// compacts in Gait to what v1 reports (checkpoints, last checkpoint
// sequence, events before and after, bytes before), and Gait reads, extends
// and checkpoints a journal v1 compacted.
func TestSessionCompactDifferential(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	run := func(bin string, args ...string) (int, map[string]any) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		var m map[string]any
		_ = json.Unmarshal(out, &m)
		return exitCodeOf(t, err), m
	}
	must := func(bin string, args ...string) map[string]any {
		code, m := run(bin, args...)
		if code != 0 {
			t.Fatalf("%s %s: exit %d", filepath.Base(bin), strings.Join(args, " "), code)
		}
		return m
	}
	for _, shape := range []struct {
		name         string
		checkpointAt []int // checkpoint after this many events
		events       int
	}{{"none", nil, 2}, {"one", []int{3}, 4}, {"two", []int{2, 5}, 6}, {"at_end", []int{3}, 3}} {
		j := shape.name + ".jsonl"
		must(ref, "run", "session", "start", "--journal", j, "--session-id", "s_"+shape.name, "--run-id", "run_"+shape.name, "--json")
		next := 0
		for i := 1; i <= shape.events; i++ {
			must(ref, "run", "session", "append", "--journal", j, "--tool", "tool.read", "--verdict", "allow", "--json")
			if next < len(shape.checkpointAt) && shape.checkpointAt[next] == i {
				next++
				must(ref, "run", "session", "checkpoint", "--journal", j, "--out", shape.name+"_cp"+string(rune('0'+next))+".zip", "--json")
			}
		}
		data, err := os.ReadFile(filepath.Join(dir, j))
		if err != nil {
			t.Fatal(err)
		}
		copyTo := func(name string) {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		copyTo("v1_" + j)
		copyTo("gait_" + j)
		want := must(ref, "run", "session", "compact", "--journal", "v1_"+j, "--json")["compaction"].(map[string]any)
		got := must(gaitBin, "run", "session", "compact", "--journal", "gait_"+j, "--json")["compaction"].(map[string]any)
		for _, k := range []string{"compacted", "checkpoints", "last_checkpoint_sequence", "events_before", "events_after", "bytes_before", "dry_run"} {
			if want[k] != got[k] {
				t.Errorf("%s: compaction %s: v1 %v, gait %v", shape.name, k, want[k], got[k])
			}
		}
		// Gait goes on from the journal v1 compacted
		wantStatus := must(ref, "run", "session", "status", "--journal", "v1_"+j, "--json")["status"].(map[string]any)
		gotStatus := must(gaitBin, "run", "session", "status", "--journal", "v1_"+j, "--json")["status"].(map[string]any)
		for _, k := range []string{"event_count", "last_sequence", "checkpoint_count"} {
			if k == "last_sequence" && wantStatus["event_count"].(float64) == 0 {
				// v1 says 0 when compaction left no event (and then
				// appends sequence 1 again); Gait goes on from the last
				// checkpoint's sequence
				continue
			}
			if wantStatus[k] != gotStatus[k] {
				t.Errorf("%s: status of the compacted journal %s: v1 %v, gait %v", shape.name, k, wantStatus[k], gotStatus[k])
			}
		}
		ev := must(gaitBin, "run", "session", "append", "--journal", "v1_"+j, "--tool", "tool.write", "--verdict", "block", "--json")["event"].(map[string]any)
		if ev["sequence"].(float64) != gotStatus["last_sequence"].(float64)+1 {
			t.Errorf("%s: appended sequence %v after %v", shape.name, ev["sequence"], gotStatus["last_sequence"])
		}
		must(gaitBin, "run", "session", "checkpoint", "--journal", "v1_"+j, "--out", shape.name+"_gait_cp.zip", "--json")
	}
}

// TestSessionJournalSharedWithV1: v1 and Gait take turns on one journal;
// every command succeeds (a lock file Gait leaves never stalls v1) and the
// sequence goes on across them.
func TestSessionJournalSharedWithV1(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	run := func(bin string, args ...string) map[string]any {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if code := exitCodeOf(t, err); code != 0 {
			t.Fatalf("%s %s: exit %d\n%s", filepath.Base(bin), strings.Join(args, " "), code, out)
		}
		var m map[string]any
		_ = json.Unmarshal(out, &m)
		return m
	}
	j := "shared.jsonl"
	run(gaitBin, "run", "session", "start", "--journal", j, "--session-id", "s_shared", "--run-id", "run_shared", "--json")
	bins := []string{ref, gaitBin, ref, gaitBin, gaitBin, ref}
	for i, bin := range bins {
		ev := run(bin, "run", "session", "append", "--journal", j, "--tool", "tool.read", "--verdict", "allow", "--json")["event"].(map[string]any)
		if ev["sequence"].(float64) != float64(i+1) {
			t.Fatalf("append %d by %s: sequence %v", i+1, filepath.Base(bin), ev["sequence"])
		}
		if i == 2 {
			run(gaitBin, "run", "session", "checkpoint", "--journal", j, "--out", "cp1.zip", "--json")
		}
		if _, err := os.Stat(filepath.Join(dir, j+".lock")); err == nil {
			t.Fatalf("a lock file is left after %s's append", filepath.Base(bin))
		}
	}
	for _, bin := range []string{ref, gaitBin} {
		st := run(bin, "run", "session", "status", "--journal", j, "--json")["status"].(map[string]any)
		if st["last_sequence"].(float64) != float64(len(bins)) || st["checkpoint_count"].(float64) != 1 {
			t.Errorf("%s status: %v", filepath.Base(bin), st)
		}
	}
}
