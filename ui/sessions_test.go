package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/job"
)

// TestSessionsShowEachCheckpoint: the sessions page gives every checkpoint
// its own verify status, so a tampered checkpoint runpack shows where the
// chain breaks.
func TestSessionsShowEachCheckpoint(t *testing.T) {
	s, ws := testServer(t, Options{})
	t.Chdir(ws)
	journal := filepath.Join("gait-out", "sessions", "s.journal.jsonl")
	ss := job.NewSessions()
	if _, err := ss.Start(journal, "sess_1", "run_sess"); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"tool.read", "tool.write"} {
		if _, err := ss.Append(journal, job.AppendOptions{Tool: tool, Verdict: "allow"}); err != nil {
			t.Fatal(err)
		}
		if _, err := ss.Checkpoint(journal, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	body := do(t, s, "GET", "/sessions", "", nil).Body.String()
	if strings.Count(body, `<span class="badge ok">ok</span>`) != 2 || !strings.Contains(body, "chain verifies") {
		t.Fatalf("sessions page before tampering:\n%s", body)
	}
	// Replace the second checkpoint's runpack with the first's.
	b, err := os.ReadFile(filepath.Join("gait-out", "runpack_sess_cp_0001.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("gait-out", "runpack_sess_cp_0002.zip"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	body = do(t, s, "GET", "/sessions", "", nil).Body.String()
	if strings.Count(body, `<span class="badge ok">ok</span>`) != 1 || strings.Count(body, `<span class="badge fail">fail</span>`) != 1 || !strings.Contains(body, "chain broken") {
		t.Errorf("sessions page after tampering with checkpoint 2:\n%s", body)
	}
}
