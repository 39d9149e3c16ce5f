package job

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/filelock"
	"github.com/gait-dev/gait/pack"
)

// DemoJobID is the id of the durable demo job.
const DemoJobID = "job_demo_durable"

// DemoResult is what the durable demo did.
type DemoResult struct {
	JobID            string `json:"job_id"`
	JobStatus        string `json:"job_status"`
	StatePath        string `json:"bundle"`
	PackPath         string `json:"pack_path"`
	PackID           string `json:"pack_id"`
	SimulatedFailure string `json:"simulated_failure"`
}

// RunDurableDemo replays a durable job from fixed data under outDir: it is
// submitted, stops at a decision-needed checkpoint, is refused a resume
// until approved, resumes and completes. Its clock and environment are
// fixed, so the job pack written to outDir has the same bytes everywhere.
func RunDurableDemo(outDir string) (*DemoResult, error) {
	t := time.Date(2026, 2, 14, 0, 0, 0, 0, time.UTC)
	s := NewStore(filepath.Join(outDir, "jobs"))
	s.Now = func() time.Time { at := t; t = t.Add(time.Minute); return at }
	s.Fingerprint = func() string { return "envfp:demo-durable" }
	if err := os.RemoveAll(s.Dir(DemoJobID)); err != nil {
		return nil, err
	}
	const user = "demo.user"
	if _, err := s.Submit(SubmitOptions{ID: DemoJobID, Actor: user, Identity: user}); err != nil {
		return nil, err
	}
	if _, _, err := s.AddCheckpoint(DemoJobID, CheckpointOptions{Type: CheckpointDecisionNeeded, Summary: "approval required to continue", RequiredAction: "security_review", Actor: user}); err != nil {
		return nil, err
	}
	res := &DemoResult{JobID: DemoJobID}
	_, err := s.Resume(DemoJobID, ResumeOptions{Actor: user, Identity: user, Reason: "resume_without_approval"})
	if exitcode.Of(err) != exitcode.ApprovalRequired {
		return nil, exitcode.Wrap(exitcode.Internal, fmt.Errorf("demo: resume before approval was not refused: %w", err))
	}
	res.SimulatedFailure = "resume blocked until approval"
	if _, err := s.Approve(DemoJobID, "demo.approver", "approved_for_resume"); err != nil {
		return nil, err
	}
	if _, err := s.Resume(DemoJobID, ResumeOptions{Actor: user, Identity: user, Reason: "approved_resume"}); err != nil {
		return nil, err
	}
	st, _, err := s.AddCheckpoint(DemoJobID, CheckpointOptions{Type: CheckpointCompleted, Summary: "durable demo complete", Actor: user})
	if err != nil {
		return nil, err
	}
	p, err := s.BuildPack(DemoJobID, pack.PackOptions{})
	if err != nil {
		return nil, err
	}
	res.PackPath = pack.DefaultPackPath(outDir, pack.PackTypeJob, "demo_durable")
	if err := p.WriteFile(res.PackPath); err != nil {
		return nil, err
	}
	if _, err := pack.VerifyPack(res.PackPath, pack.VerifyOptions{}); err != nil {
		return nil, err
	}
	res.JobStatus, res.PackID = st.Status, p.Manifest.PackID
	res.StatePath = filepath.Join(s.Dir(DemoJobID), FileState)
	return res, nil
}

// BuildPack packs a job's committed state and events into a job pack.
func (s *Store) BuildPack(id string, opts pack.PackOptions) (*pack.Pack, error) {
	if _, err := s.Status(id); err != nil {
		return nil, err
	}
	lock, err := filelock.Acquire(filepath.Join(s.Dir(id), fileLock))
	if err != nil {
		return nil, err
	}
	defer func() { _ = lock.Release() }()
	state, err := os.ReadFile(filepath.Join(s.Dir(id), FileState))
	if err != nil {
		return nil, err
	}
	st, err := ParseState(state)
	if err != nil {
		return nil, exitcode.Invalidf("job %s: %v", id, err)
	}
	_, size, err := s.readEvents(id, st.Revision)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(s.Dir(id), FileEvents))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	return pack.BuildJobPack(state, raw[:size], opts)
}
