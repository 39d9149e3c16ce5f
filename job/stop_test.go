package job

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
)

// stopFrom brings a new job to status and returns its id.
func stopFrom(t *testing.T, s *Store, status string) string {
	t.Helper()
	id := "job_" + status
	if _, err := s.Submit(SubmitOptions{ID: id}); err != nil {
		t.Fatal(err)
	}
	var err error
	switch status {
	case StatusPaused:
		_, err = s.Pause(id, "")
	case StatusDecisionNeeded:
		_, _, err = s.AddCheckpoint(id, CheckpointOptions{Type: CheckpointDecisionNeeded, Summary: "s", RequiredAction: "a"})
	case StatusBlocked:
		_, _, err = s.AddCheckpoint(id, CheckpointOptions{Type: CheckpointBlocked, Summary: "s"})
	case StatusCompleted:
		_, _, err = s.AddCheckpoint(id, CheckpointOptions{Type: CheckpointCompleted, Summary: "s"})
	case StatusCancelled:
		_, err = s.Cancel(id, "")
	case StatusEmergencyStopped:
		_, err = s.Stop(id, "")
	}
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestStopFromEachStatus(t *testing.T) {
	s := fixedStore(t)
	for _, status := range []string{StatusRunning, StatusPaused, StatusDecisionNeeded, StatusBlocked, StatusCompleted, StatusCancelled, StatusEmergencyStopped} {
		id := stopFrom(t, s, status)
		before, _ := s.Status(id)
		st, err := s.Stop(id, "alice")
		switch status {
		case StatusCompleted, StatusCancelled, StatusEmergencyStopped:
			if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "job is "+status) {
				t.Errorf("stop from %s: %v", status, err)
			}
			if after, _ := s.Status(id); after.Revision != before.Revision {
				t.Errorf("stop from %s changed the job", status)
			}
			continue
		}
		if err != nil {
			t.Fatalf("stop from %s: %v", status, err)
		}
		if st.Status != StatusEmergencyStopped || st.StatusReasonCode != ReasonEmergencyStop || st.StopReason != "emergency_stopped" || st.Revision != before.Revision+1 {
			t.Errorf("stop from %s: %+v", status, st)
		}
		evs, err := s.Events(id)
		if err != nil {
			t.Fatal(err)
		}
		last := evs[len(evs)-1]
		if last.Type != "emergency_stop_acknowledged" || last.ReasonCode != ReasonEmergencyStop || last.Actor != "alice" || last.Payload != nil {
			t.Errorf("stop from %s: event %+v", status, last)
		}
	}
}

func TestStoppedJobRefusesToRun(t *testing.T) {
	s := fixedStore(t)
	id := stopFrom(t, s, StatusEmergencyStopped)
	refused := map[string]error{
		"resume": func() error { _, err := s.Resume(id, ResumeOptions{AllowEnvMismatch: true}); return err }(),
		"pause":  func() error { _, err := s.Pause(id, ""); return err }(),
		"checkpoint add": func() error {
			_, _, err := s.AddCheckpoint(id, CheckpointOptions{Type: CheckpointDecisionNeeded, Summary: "s", RequiredAction: "a"})
			return err
		}(),
	}
	for op, err := range refused {
		if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "emergency-stopped") {
			t.Errorf("%s on a stopped job: %v", op, err)
		}
	}
	if st, err := s.Approve(id, "bob", ""); err != nil || st.Status != StatusEmergencyStopped || st.StatusReasonCode != "approval_recorded" {
		t.Fatalf("approve: %+v %v", st, err)
	}
	if st, err := s.Cancel(id, ""); err != nil || st.Status != StatusCancelled {
		t.Fatalf("cancel: %+v %v", st, err)
	}
}

func TestCheckEmergencyStop(t *testing.T) {
	s := fixedStore(t)
	running := stopFrom(t, s, StatusRunning)
	paused := stopFrom(t, s, StatusPaused)
	stopped := stopFrom(t, s, StatusEmergencyStopped)
	for id, want := range map[string]string{running: "", paused: "", stopped: ReasonEmergencyStop, "job_missing": ReasonEmergencyStopUnavailable, "../x": ReasonEmergencyStopUnavailable} {
		c := CheckEmergencyStop(s.Root, id)
		if c.ReasonCode != want || c.Blocked != (want != "") || (want == ReasonEmergencyStopUnavailable) != strings.HasPrefix(c.Warning, "job_status_unavailable=") {
			t.Errorf("%s: %+v, want %q", id, c, want)
		}
	}
	// a damaged state fails closed too
	if err := os.WriteFile(filepath.Join(s.Dir(running), FileState), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c := CheckEmergencyStop(s.Root, running); c.ReasonCode != ReasonEmergencyStopUnavailable {
		t.Errorf("damaged state: %+v", c)
	}
	if c := CheckEmergencyStop(filepath.Join(s.Root, "nowhere"), stopped); c.ReasonCode != ReasonEmergencyStopUnavailable {
		t.Errorf("missing root: %+v", c)
	}
}
