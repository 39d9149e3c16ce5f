package conformance_test

import (
	"encoding/json"
	"os/exec"
	"testing"
)

// jobOut is the part of a job command's answer compared with v1.
type jobOut struct {
	Code int
	Job  struct {
		Status           string `json:"status"`
		StatusReasonCode string `json:"status_reason_code"`
		StopReason       string `json:"stop_reason"`
		Revision         int    `json:"revision"`
	} `json:"job"`
	Events []struct {
		Type       string         `json:"type"`
		ReasonCode string         `json:"reason_code"`
		Actor      string         `json:"actor"`
		Payload    map[string]any `json:"payload"`
	} `json:"events"`
}

func jobCmd(t *testing.T, bin, dir string, args ...string) jobOut {
	t.Helper()
	cmd := exec.Command(bin, append(append([]string{"job"}, args...), "--json")...)
	cmd.Dir = dir
	out, err := cmd.Output()
	var o jobOut
	o.Code = exitCodeOf(t, err)
	_ = json.Unmarshal(out, &o)
	return o
}

// toStatus brings a new job id to status with the job commands.
var toStatus = map[string][][]string{
	"running":           nil,
	"paused":            {{"pause"}},
	"decision_needed":   {{"checkpoint", "add", "--type", "decision-needed", "--summary", "s", "--required-action", "a"}},
	"blocked":           {{"checkpoint", "add", "--type", "blocked", "--summary", "s"}},
	"completed":         {{"checkpoint", "add", "--type", "completed", "--summary", "s"}},
	"cancelled":         {{"cancel"}},
	"emergency_stopped": {{"stop"}},
}

func makeJob(t *testing.T, bin, dir, id, status string) {
	t.Helper()
	for _, args := range append([][]string{{"submit"}}, toStatus[status]...) {
		if o := jobCmd(t, bin, dir, append(args, "--id", id)...); o.Code != 0 {
			t.Fatalf("%s job %v --id %s: exit %d", bin, args, id, o.Code)
		}
	}
}

// TestJobStopDifferential: job stop from every status, and every command on
// a stopped job, give the same exit codes, statuses, reasons and events
// from Gait and from v1, except where Gait is stricter on purpose (see
// docs/jobs.md): an illegal resume exits 6 (v1: 1), and checkpoint add on
// a stopped job is refused (v1 accepts it and can leave the stop).
func TestJobStopDifferential(t *testing.T) {
	ref := referenceBin(t)
	refDir, gaitDir := t.TempDir(), t.TempDir()
	for status := range toStatus {
		id := "job_" + status
		makeJob(t, ref, refDir, id, status)
		makeJob(t, gaitBin, gaitDir, id, status)
		want, got := jobCmd(t, ref, refDir, "stop", "--id", id, "--actor", "bob"), jobCmd(t, gaitBin, gaitDir, "stop", "--id", id, "--actor", "bob")
		if want.Code != got.Code || want.Job != got.Job {
			t.Errorf("stop from %s: v1 %+v, gait %+v", status, want, got)
		}
		wantEv, gotEv := jobCmd(t, ref, refDir, "inspect", "--id", id), jobCmd(t, gaitBin, gaitDir, "inspect", "--id", id)
		if len(wantEv.Events) != len(gotEv.Events) || len(gotEv.Events) == 0 {
			t.Fatalf("events after stop from %s: v1 %+v, gait %+v", status, wantEv.Events, gotEv.Events)
		}
		w, g := wantEv.Events[len(wantEv.Events)-1], gotEv.Events[len(gotEv.Events)-1]
		if w.Type != g.Type || w.ReasonCode != g.ReasonCode || w.Actor != g.Actor || (w.Payload == nil) != (g.Payload == nil) {
			t.Errorf("last event after stop from %s: v1 %+v, gait %+v", status, w, g)
		}
	}
	for i, op := range [][]string{{"pause"}, {"cancel"}, {"approve", "--actor", "al"}, {"stop"}, {"resume"}, {"resume", "--allow-env-mismatch"}, {"checkpoint", "add", "--type", "progress", "--summary", "x"}} {
		id := "job_stopped_" + string(rune('a'+i))
		makeJob(t, ref, refDir, id, "emergency_stopped")
		makeJob(t, gaitBin, gaitDir, id, "emergency_stopped")
		want, got := jobCmd(t, ref, refDir, append(op, "--id", id)...), jobCmd(t, gaitBin, gaitDir, append(op, "--id", id)...)
		switch op[0] {
		case "resume":
			if want.Code == 0 || got.Code != 6 {
				t.Errorf("%v on a stopped job: v1 exit %d, gait exit %d", op, want.Code, got.Code)
			}
		case "checkpoint":
			if got.Code != 6 {
				t.Errorf("%v on a stopped job: gait exit %d, want 6", op, got.Code)
			}
		default:
			if want.Code != got.Code || want.Job != got.Job {
				t.Errorf("%v on a stopped job: v1 %+v, gait %+v", op, want, got)
			}
		}
		// whatever happened, both still read the other's state the same way
		if a, b := jobCmd(t, gaitBin, refDir, "status", "--id", id), jobCmd(t, ref, refDir, "status", "--id", id); a.Code != 0 || a.Job != b.Job {
			t.Errorf("%v: gait reads v1's job as %+v, v1 as %+v", op, a, b)
		}
	}
}
