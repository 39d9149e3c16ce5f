package job

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/filelock"
)

// SubmitOptions describe a new job.
type SubmitOptions struct {
	ID             string
	Actor          string
	Identity       string
	PolicyPath     string // hashed into policy_digest when set
	PolicyDigest   string
	PolicyRef      string
	EnvFingerprint string // overrides the machine's fingerprint when set
}

// Submit creates a running job. A job id can be submitted once.
func (s *Store) Submit(o SubmitOptions) (*State, error) {
	if err := checkID(o.ID); err != nil {
		return nil, err
	}
	policyDigest := o.PolicyDigest
	if o.PolicyPath != "" {
		b, err := os.ReadFile(o.PolicyPath)
		if err != nil {
			return nil, exitcode.Invalidf("%s: cannot read policy: %v; pass --policy with an existing file", o.PolicyPath, unwrapPath(err))
		}
		sum := sha256.Sum256(b)
		policyDigest = hex.EncodeToString(sum[:])
	}
	if policyDigest != "" && !digest.Valid(strings.TrimPrefix(policyDigest, "sha256:")) {
		return nil, exitcode.Invalidf("--policy-digest %q is not a hex sha256", policyDigest)
	}
	dir := s.Dir(o.ID)
	lock, err := filelock.Acquire(filepath.Join(dir, fileLock))
	if err != nil {
		return nil, err
	}
	defer func() { _ = lock.Release() }()
	if _, err := os.Stat(filepath.Join(dir, FileState)); err == nil {
		return nil, exitcode.Invalidf("job %s: already exists in %s; pick another --id or inspect it with `gait job status --id %s`", o.ID, s.Root, o.ID)
	}
	// A submit that died before writing the state may have left an event.
	if err := os.Remove(filepath.Join(dir, FileEvents)); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	now := s.now()
	fp := o.EnvFingerprint
	if fp == "" {
		fp = s.Fingerprint()
	}
	inv, invHash := safetyInvariants(o.Identity)
	st := &State{
		SchemaID: SchemaState, SchemaVersion: SchemaVersion, CreatedAt: now, ProducerVersion: s.ProducerVersion,
		JobID: o.ID, Status: StatusRunning, StopReason: stopReason(StatusRunning), StatusReasonCode: "submitted",
		EnvironmentFingerprint: fp, Identity: o.Identity, PolicyDigest: policyDigest, PolicyRef: o.PolicyRef,
		SafetyInvariantVersion: SafetyInvariantVersion, SafetyInvariantHash: invHash, SafetyInvariants: inv,
		Checkpoints: []Checkpoint{},
	}
	payload := map[string]any{"environment_fingerprint": fp}
	if o.Identity != "" {
		payload["identity"] = o.Identity
	}
	if policyDigest != "" {
		payload["policy_digest"] = policyDigest
	}
	ev := Event{Type: "submitted", Actor: o.Actor, ReasonCode: "submitted", Payload: payload}
	if err := s.commit(o.ID, st, &ev, now); err != nil {
		return nil, err
	}
	return st, nil
}

// CheckpointOptions describe a checkpoint to add.
type CheckpointOptions struct {
	Type           string
	Summary        string
	RequiredAction string
	Actor          string
}

// AddCheckpoint records a checkpoint on a running job. decision-needed,
// blocked and completed checkpoints stop the job with that status.
func (s *Store) AddCheckpoint(id string, o CheckpointOptions) (*State, *Checkpoint, error) {
	if !slices.Contains(CheckpointTypes, o.Type) {
		return nil, nil, exitcode.Invalidf("checkpoint type %q is unknown; use one of %s", o.Type, strings.Join(CheckpointTypes, ", "))
	}
	if strings.TrimSpace(o.Summary) == "" {
		return nil, nil, exitcode.Invalidf("checkpoint summary is empty; pass --summary \"what happened\"")
	}
	if o.Type == CheckpointDecisionNeeded && o.RequiredAction == "" {
		return nil, nil, exitcode.Invalidf("a decision-needed checkpoint needs --required-action naming the decision")
	}
	var added Checkpoint
	st, _, err := s.change(id, func(st *State, now string) (Event, error) {
		if err := checkTransition(st, "checkpoint add"); err != nil {
			return Event{}, err
		}
		reason := "checkpoint_" + strings.ReplaceAll(o.Type, "-", "_")
		added = Checkpoint{
			CheckpointID: fmt.Sprintf("cp_%04d", len(st.Checkpoints)+1), CreatedAt: now, Type: o.Type,
			Summary: o.Summary, RequiredAction: o.RequiredAction, ReasonCode: reason, Actor: o.Actor,
		}
		st.Checkpoints = append(st.Checkpoints, added)
		switch o.Type {
		case CheckpointDecisionNeeded:
			st.Status = StatusDecisionNeeded
		case CheckpointBlocked:
			st.Status = StatusBlocked
		case CheckpointCompleted:
			st.Status = StatusCompleted
		}
		st.StopReason = stopReason(st.Status)
		st.StatusReasonCode = reason
		if st.Status != StatusRunning {
			st.StatusReasonCode = st.Status
		}
		return Event{Type: "checkpoint_added", Actor: o.Actor, ReasonCode: reason, Payload: map[string]any{
			"checkpoint_id": added.CheckpointID, "checkpoint_type": o.Type, "required_action": o.RequiredAction,
		}}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return st, &added, nil
}

// Checkpoint returns one checkpoint of a job by id.
func (s *Store) Checkpoint(id, checkpointID string) (*Checkpoint, error) {
	st, err := s.Status(id)
	if err != nil {
		return nil, err
	}
	for i := range st.Checkpoints {
		if st.Checkpoints[i].CheckpointID == checkpointID {
			return &st.Checkpoints[i], nil
		}
	}
	return nil, exitcode.Invalidf("job %s: no checkpoint %q; list them with `gait job checkpoint list --id %s`", id, checkpointID, id)
}

// Pause stops a job until it is resumed.
func (s *Store) Pause(id, actor string) (*State, error) {
	st, _, err := s.change(id, func(st *State, _ string) (Event, error) {
		if err := checkTransition(st, "pause"); err != nil {
			return Event{}, err
		}
		st.Status, st.StopReason, st.StatusReasonCode = StatusPaused, stopReason(StatusPaused), "paused"
		return Event{Type: "paused", Actor: actor, ReasonCode: "paused"}, nil
	})
	return st, err
}

// Cancel ends a job for good.
func (s *Store) Cancel(id, actor string) (*State, error) {
	st, _, err := s.change(id, func(st *State, _ string) (Event, error) {
		if err := checkTransition(st, "cancel"); err != nil {
			return Event{}, err
		}
		st.Status, st.StopReason, st.StatusReasonCode = StatusCancelled, stopReason(StatusCancelled), "cancelled"
		return Event{Type: "cancelled", Actor: actor, ReasonCode: "cancelled"}, nil
	})
	return st, err
}

// Stop is the emergency stop: it halts a running, paused or waiting job
// at once (status emergency_stopped, reason emergency_stop_preempted).
// A stopped job is never resumed, paused or checkpointed again; it can
// only be cancelled (or approved, which changes nothing). While it is
// stopped, the gate blocks every call that names it (see CheckEmergencyStop).
func (s *Store) Stop(id, actor string) (*State, error) {
	st, _, err := s.change(id, func(st *State, _ string) (Event, error) {
		if err := checkTransition(st, "stop"); err != nil {
			return Event{}, err
		}
		st.Status, st.StopReason, st.StatusReasonCode = StatusEmergencyStopped, stopReason(StatusEmergencyStopped), ReasonEmergencyStop
		return Event{Type: "emergency_stop_acknowledged", Actor: actor, ReasonCode: ReasonEmergencyStop}, nil
	})
	return st, err
}

// Approve records an approval for the job's pending decision.
func (s *Store) Approve(id, actor, reason string) (*State, error) {
	if strings.TrimSpace(actor) == "" {
		return nil, exitcode.Invalidf("approve needs --actor naming who approves")
	}
	if reason == "" {
		reason = "approved"
	}
	st, _, err := s.change(id, func(st *State, now string) (Event, error) {
		if err := checkTransition(st, "approve"); err != nil {
			return Event{}, err
		}
		a := Approval{CreatedAt: now, Actor: actor, Reason: reason}
		payload := map[string]any{"reason": reason}
		st.Approvals = append(st.Approvals, a)
		st.StatusReasonCode = "approval_recorded"
		return Event{Type: "approved", Actor: actor, ReasonCode: "approval_recorded", Payload: payload}, nil
	})
	return st, err
}

// ResumeOptions control a resume.
type ResumeOptions struct {
	Actor            string
	Identity         string
	Reason           string
	EnvFingerprint   string // the fingerprint to compare; the machine's when empty
	AllowEnvMismatch bool
}

// Resume sets a stopped job running again. It is refused (exit 4) while the
// latest decision-needed checkpoint has no approval, and (exit 6) when the
// environment fingerprint differs from the job's unless AllowEnvMismatch.
func (s *Store) Resume(id string, o ResumeOptions) (*State, error) {
	if o.Reason == "" {
		o.Reason = "resume"
	}
	st, _, err := s.change(id, func(st *State, _ string) (Event, error) {
		if err := checkTransition(st, "resume"); err != nil {
			return Event{}, err
		}
		events, _, err := s.readEvents(id, st.Revision)
		if err != nil {
			return Event{}, err
		}
		if cp := st.pendingDecision(); cp != nil && !approvedSince(events, cp) {
			return Event{}, exitcode.Wrap(exitcode.ApprovalRequired, fmt.Errorf(
				"job %s: checkpoint %s (decision-needed: %s) has no approval; run `gait job approve --id %s --actor <who>` first",
				id, cp.CheckpointID, cp.RequiredAction, id))
		}
		actual := o.EnvFingerprint
		if actual == "" {
			actual = s.Fingerprint()
		}
		reason := "resumed"
		if actual != st.EnvironmentFingerprint {
			if !o.AllowEnvMismatch {
				return Event{}, exitcode.Invalidf("job %s: environment fingerprint changed (%s, job has %s); resume where the job started or pass --allow-env-mismatch",
					id, actual, st.EnvironmentFingerprint)
			}
			reason = "resumed_env_mismatch_allowed"
		}
		if o.Identity != "" && st.Identity != "" && o.Identity != st.Identity {
			return Event{}, exitcode.Invalidf("job %s: --identity %q is not the job's identity %q; resume as the submitting identity", id, o.Identity, st.Identity)
		}
		st.Status, st.StopReason, st.StatusReasonCode = StatusRunning, stopReason(StatusRunning), reason
		payload := map[string]any{"actual_fingerprint": actual, "expected_fingerprint": st.EnvironmentFingerprint, "reason": o.Reason}
		if o.Identity != "" {
			payload["identity"] = o.Identity
		}
		return Event{Type: "resumed", Actor: o.Actor, ReasonCode: reason, Payload: payload}, nil
	})
	return st, err
}

func unwrapPath(err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return pe.Err
	}
	return err
}
