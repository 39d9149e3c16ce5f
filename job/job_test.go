package job

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
)

// TestMain doubles as a helper process: with GAIT_JOB_HELPER set, the test
// binary performs one job operation (optionally dying at a crash point)
// instead of running tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("GAIT_JOB_HELPER"); mode != "" {
		os.Exit(helper(mode))
	}
	os.Exit(m.Run())
}

func helper(mode string) int {
	s := NewStore(os.Getenv("GAIT_JOB_ROOT"))
	id := os.Getenv("GAIT_JOB_ID")
	switch mode {
	case "append":
		n, _ := strconv.Atoi(os.Getenv("GAIT_JOB_N"))
		for i := range n {
			if _, _, err := s.AddCheckpoint(id, CheckpointOptions{Type: CheckpointProgress, Summary: fmt.Sprintf("%s step %d", os.Getenv("GAIT_JOB_WORKER"), i)}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
	case "crash":
		point := os.Getenv("GAIT_JOB_CRASH_AT")
		crashHook = func(p string) {
			if p == point {
				os.Exit(3)
			}
		}
		if _, _, err := s.AddCheckpoint(id, CheckpointOptions{Type: CheckpointProgress, Summary: "about to crash"}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

func fixedStore(t *testing.T) *Store {
	t.Helper()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewStore(filepath.Join(t.TempDir(), "jobs"))
	s.Now = func() time.Time { at = at.Add(time.Second); return at }
	s.Fingerprint = func() string { return "envfp:test" }
	return s
}

func snapshot(t *testing.T, s *Store, id string) string {
	t.Helper()
	st, _ := os.ReadFile(filepath.Join(s.Dir(id), FileState))
	ev, _ := os.ReadFile(filepath.Join(s.Dir(id), FileEvents))
	return string(st) + "\x00" + string(ev)
}

func TestLifecycle(t *testing.T) {
	s := fixedStore(t)
	st, err := s.Submit(SubmitOptions{ID: "job_a", Identity: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != StatusRunning || st.Revision != 1 || st.StopReason != "none" {
		t.Fatalf("submitted: %+v", st)
	}
	if _, err := s.Submit(SubmitOptions{ID: "job_a"}); exitcode.Of(err) != exitcode.InvalidInput {
		t.Fatalf("second submit: %v", err)
	}
	if _, _, err := s.AddCheckpoint("job_a", CheckpointOptions{Type: CheckpointPlan, Summary: "plan"}); err != nil {
		t.Fatal(err)
	}
	st, cp, err := s.AddCheckpoint("job_a", CheckpointOptions{Type: CheckpointDecisionNeeded, Summary: "deploy?", RequiredAction: "approve deploy"})
	if err != nil {
		t.Fatal(err)
	}
	if cp.CheckpointID != "cp_0002" || st.Status != StatusDecisionNeeded {
		t.Fatalf("decision: %+v %+v", cp, st)
	}
	before := snapshot(t, s, "job_a")
	_, err = s.Resume("job_a", ResumeOptions{})
	if exitcode.Of(err) != exitcode.ApprovalRequired || !strings.Contains(err.Error(), "cp_0002") {
		t.Fatalf("resume before approval: %v", err)
	}
	if _, _, err := s.AddCheckpoint("job_a", CheckpointOptions{Type: CheckpointProgress, Summary: "x"}); exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "decision_needed") {
		t.Fatalf("checkpoint while stopped: %v", err)
	}
	if snapshot(t, s, "job_a") != before {
		t.Fatal("a refused operation changed the job")
	}
	if _, err := s.Approve("job_a", "bob", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resume("job_a", ResumeOptions{EnvFingerprint: "envfp:other"}); exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "--allow-env-mismatch") {
		t.Fatalf("resume on another environment: %v", err)
	}
	st, err = s.Resume("job_a", ResumeOptions{EnvFingerprint: "envfp:other", AllowEnvMismatch: true})
	if err != nil || st.Status != StatusRunning {
		t.Fatalf("resume allowed: %v %+v", err, st)
	}
	if _, err := s.Pause("job_a", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pause("job_a", ""); exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "job is paused") {
		t.Fatalf("pause twice: %v", err)
	}
	if _, err := s.Resume("job_a", ResumeOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err = s.Cancel("job_a", "")
	if err != nil || st.Status != StatusCancelled || st.StopReason != "cancelled_by_user" {
		t.Fatalf("cancel: %v %+v", err, st)
	}
	for name, op := range map[string]func() error{
		"resume": func() error { _, err := s.Resume("job_a", ResumeOptions{}); return err },
		"cancel": func() error { _, err := s.Cancel("job_a", ""); return err },
		"add": func() error {
			_, _, err := s.AddCheckpoint("job_a", CheckpointOptions{Type: CheckpointPlan, Summary: "x"})
			return err
		},
	} {
		if err := op(); exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "job is cancelled") {
			t.Errorf("%s after cancel: %v", name, err)
		}
	}
	evs, err := s.Events("job_a")
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range evs {
		if ev.Revision != int64(i+1) {
			t.Fatalf("event %d has revision %d", i, ev.Revision)
		}
	}
	if st.Revision != int64(len(evs)) {
		t.Fatalf("revision %d, %d events", st.Revision, len(evs))
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	s := fixedStore(t)
	if _, err := s.Submit(SubmitOptions{ID: "job_b"}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s, "job_b")
	errs := []error{
		func() error { _, err := s.Status("nope"); return err }(),
		func() error { _, err := s.Pause("nope", ""); return err }(),
		func() error { _, err := s.Status("../etc"); return err }(),
		func() error {
			_, _, err := s.AddCheckpoint("job_b", CheckpointOptions{Type: "sideways", Summary: "x"})
			return err
		}(),
		func() error {
			_, _, err := s.AddCheckpoint("job_b", CheckpointOptions{Type: CheckpointPlan})
			return err
		}(),
		func() error { _, err := s.Approve("job_b", "", ""); return err }(),
		func() error { _, err := s.Submit(SubmitOptions{ID: "job_c", PolicyPath: "missing.yaml"}); return err }(),
	}
	for i, err := range errs {
		if exitcode.Of(err) != exitcode.InvalidInput {
			t.Errorf("case %d: %v, want exit 6", i, err)
		}
	}
	if snapshot(t, s, "job_b") != before {
		t.Fatal("bad input changed the job")
	}
	if _, err := os.Stat(s.Dir("job_c")); !os.IsNotExist(err) {
		t.Fatal("a refused submit left a directory")
	}
}

func helperCmd(_ *testing.T, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// TestConcurrentWriters runs several processes adding checkpoints to one
// job at once: every checkpoint lands exactly once and revisions are 1..N.
func TestConcurrentWriters(t *testing.T) {
	s := fixedStore(t)
	if _, err := s.Submit(SubmitOptions{ID: "job_c"}); err != nil {
		t.Fatal(err)
	}
	const workers, each = 4, 15
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			out, err := helperCmd(t, "GAIT_JOB_HELPER=append", "GAIT_JOB_ROOT="+s.Root, "GAIT_JOB_ID=job_c",
				"GAIT_JOB_N="+strconv.Itoa(each), "GAIT_JOB_WORKER=w"+strconv.Itoa(w)).CombinedOutput()
			if err != nil {
				t.Errorf("worker %d: %v\n%s", w, err, out)
			}
		})
	}
	wg.Wait()
	st, err := s.Status("job_c")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Checkpoints) != workers*each || st.Revision != workers*each+1 {
		t.Fatalf("%d checkpoints at revision %d, want %d at %d", len(st.Checkpoints), st.Revision, workers*each, workers*each+1)
	}
	seen := map[string]bool{}
	for i, cp := range st.Checkpoints {
		if cp.CheckpointID != fmt.Sprintf("cp_%04d", i+1) || seen[cp.Summary] {
			t.Fatalf("checkpoint %d: %+v (duplicate or out of order)", i, cp)
		}
		seen[cp.Summary] = true
	}
	evs, err := s.Events("job_c")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != workers*each+1 {
		t.Fatalf("%d events", len(evs))
	}
	for i, ev := range evs {
		if ev.Revision != int64(i+1) {
			t.Fatalf("event %d revision %d", i, ev.Revision)
		}
	}
}

// TestCrashMidWrite kills a writer at each point of a write, many times at
// random: the job stays readable, and the next write continues cleanly.
func TestCrashMidWrite(t *testing.T) {
	s := fixedStore(t)
	if _, err := s.Submit(SubmitOptions{ID: "job_d"}); err != nil {
		t.Fatal(err)
	}
	points := []string{"before-event", "mid-event", "after-event", "mid-state", "after-state"}
	rng := rand.New(rand.NewPCG(1, 2))
	committed := int64(1)
	for range 12 {
		point := points[rng.IntN(len(points))]
		err := helperCmd(t, "GAIT_JOB_HELPER=crash", "GAIT_JOB_ROOT="+s.Root, "GAIT_JOB_ID=job_d", "GAIT_JOB_CRASH_AT="+point).Run()
		if ee, ok := errors.AsType[*exec.ExitError](err); !ok || ee.ExitCode() != 3 {
			t.Fatalf("helper at %s: %v", point, err)
		}
		st, err := s.Status("job_d")
		if err != nil {
			t.Fatalf("after crash at %s: status unreadable: %v", point, err)
		}
		if point == "after-state" {
			committed++
		}
		if st.Revision != committed {
			t.Fatalf("after crash at %s: revision %d, want %d", point, st.Revision, committed)
		}
		if _, _, err := s.AddCheckpoint("job_d", CheckpointOptions{Type: CheckpointProgress, Summary: "after " + point}); err != nil {
			t.Fatalf("write after crash at %s: %v", point, err)
		}
		committed++
		evs, err := s.Events("job_d")
		if err != nil || int64(len(evs)) != committed {
			t.Fatalf("after crash at %s: %d events, err %v, want %d", point, len(evs), err, committed)
		}
	}
	if tmps, _ := filepath.Glob(filepath.Join(s.Dir("job_d"), ".*.tmp-*")); len(tmps) != 0 {
		t.Fatalf("temporary files left: %v", tmps)
	}
}

// TestDurableDemo: the demo job completes after its simulated failure and
// writes the same pack every time. (Byte identity with v1's durable demo is
// checked by the conformance suite.)
func TestDurableDemo(t *testing.T) {
	dir := t.TempDir()
	res, err := RunDurableDemo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.JobStatus != StatusCompleted || res.SimulatedFailure == "" {
		t.Fatalf("demo: %+v", res)
	}
	if _, err := pack.VerifyPack(res.PackPath, pack.VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
	// A second run gives the same pack.
	again, err := RunDurableDemo(dir)
	if err != nil || again.PackID != res.PackID {
		t.Fatalf("second demo run: %v, pack id %s vs %s", err, again.PackID, res.PackID)
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"job_1": true, "a": true, "A.b-c_d": true, strings.Repeat("x", 128): true,
		"": false, "_job": false, ".hidden": false, "a..b": false, "a/b": false, "a b": false, strings.Repeat("x", 129): false, "é": false,
	} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}
