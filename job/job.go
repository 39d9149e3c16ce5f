// Package job keeps durable agent jobs and session journals.
//
// A job lives in <root>/<id>/ as state.json (the current state, replaced
// atomically) and events.jsonl (one line per change, append-only). Every
// change holds a per-job file lock, bumps the revision, appends its event
// and then replaces the state, so a writer that dies part-way leaves the
// previous state readable and the next writer drops the orphaned event.
package job

import (
	"crypto/sha256"
	"encoding/hex"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/jcs"
)

// Schema ids of the job documents.
const (
	SchemaState   = "gait.job.runtime"
	SchemaEvent   = "gait.job.event"
	SchemaVersion = "1.0.0"
)

// Job statuses.
const (
	StatusRunning          = "running"
	StatusPaused           = "paused"
	StatusDecisionNeeded   = "decision_needed"
	StatusBlocked          = "blocked"
	StatusCompleted        = "completed"
	StatusCancelled        = "cancelled"
	StatusEmergencyStopped = "emergency_stopped"
)

// Checkpoint types.
const (
	CheckpointPlan           = "plan"
	CheckpointProgress       = "progress"
	CheckpointDecisionNeeded = "decision-needed"
	CheckpointBlocked        = "blocked"
	CheckpointCompleted      = "completed"
)

// CheckpointTypes lists the valid checkpoint types.
var CheckpointTypes = []string{CheckpointPlan, CheckpointProgress, CheckpointDecisionNeeded, CheckpointBlocked, CheckpointCompleted}

// SafetyInvariantVersion versions the invariant list stamped on each job.
const SafetyInvariantVersion = "1"

// State is state.json: everything known about a job at one revision.
type State struct {
	SchemaID               string       `json:"schema_id"`
	SchemaVersion          string       `json:"schema_version"`
	CreatedAt              string       `json:"created_at"`
	UpdatedAt              string       `json:"updated_at"`
	ProducerVersion        string       `json:"producer_version"`
	JobID                  string       `json:"job_id"`
	Status                 string       `json:"status"`
	StopReason             string       `json:"stop_reason"`
	StatusReasonCode       string       `json:"status_reason_code"`
	EnvironmentFingerprint string       `json:"environment_fingerprint"`
	Identity               string       `json:"identity,omitempty"`
	PolicyDigest           string       `json:"policy_digest,omitempty"`
	PolicyRef              string       `json:"policy_ref,omitempty"`
	SafetyInvariantVersion string       `json:"safety_invariant_version"`
	SafetyInvariantHash    string       `json:"safety_invariant_hash"`
	SafetyInvariants       []string     `json:"safety_invariants"`
	Revision               int64        `json:"revision"`
	Checkpoints            []Checkpoint `json:"checkpoints"`
	Approvals              []Approval   `json:"approvals,omitempty"`
}

// Checkpoint is a point the job reported: a plan, progress, a decision it
// needs, a blocker, or completion.
type Checkpoint struct {
	CheckpointID   string `json:"checkpoint_id"`
	CreatedAt      string `json:"created_at"`
	Type           string `json:"type"`
	Summary        string `json:"summary"`
	RequiredAction string `json:"required_action,omitempty"`
	ReasonCode     string `json:"reason_code"`
	Actor          string `json:"actor,omitempty"`
}

// Approval records who approved the job to continue. An approval answers
// the decision-needed checkpoints added before it (by revision).
type Approval struct {
	CreatedAt string `json:"created_at"`
	Actor     string `json:"actor"`
	Reason    string `json:"reason"`
}

// Event is one line of events.jsonl.
type Event struct {
	SchemaID      string         `json:"schema_id"`
	SchemaVersion string         `json:"schema_version"`
	CreatedAt     string         `json:"created_at"`
	JobID         string         `json:"job_id"`
	Revision      int64          `json:"revision"`
	Type          string         `json:"type"`
	Actor         string         `json:"actor,omitempty"`
	ReasonCode    string         `json:"reason_code"`
	Payload       map[string]any `json:"payload,omitempty"`
}

// ValidID reports whether id can name a job (and its directory): 1 to 128
// letters, digits, '_', '-' or '.', starting with a letter or digit, and no "..".
func ValidID(id string) bool {
	if id == "" || len(id) > 128 || strings.Contains(id, "..") {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '-' && c != '.') {
			return false
		}
	}
	return true
}

func checkID(id string) error {
	if !ValidID(id) {
		return exitcode.Invalidf("job id %q is invalid; use letters, digits, '_', '-' or '.' (for example --id job_nightly)", id)
	}
	return nil
}

// EnvironmentFingerprint identifies the machine kind a job runs on:
// "envfp:" and the SHA-256 of the canonical {arch, os, runtime}.
func EnvironmentFingerprint() string {
	b, _ := jcs.Marshal(map[string]string{"arch": runtime.GOARCH, "os": runtime.GOOS, "runtime": "go"})
	sum := sha256.Sum256(b)
	return "envfp:" + hex.EncodeToString(sum[:])
}

// safetyInvariants returns the invariant list of a job and its hash: the
// SHA-256 of the sorted list joined with '|'.
func safetyInvariants(identity string) ([]string, string) {
	inv := []string{"control_boundary=runtime_go", "default_privacy=reference_receipts", "fail_closed=true"}
	if identity != "" {
		inv = append(inv, "identity="+identity)
	}
	slices.Sort(inv)
	sum := sha256.Sum256([]byte(strings.Join(inv, "|")))
	return inv, hex.EncodeToString(sum[:])
}

// transitions names, for each operation, the statuses it may start from.
var transitions = map[string][]string{
	"checkpoint add": {StatusRunning},
	"pause":          {StatusRunning, StatusDecisionNeeded, StatusBlocked},
	"resume":         {StatusPaused, StatusDecisionNeeded, StatusBlocked},
	"cancel":         {StatusRunning, StatusPaused, StatusDecisionNeeded, StatusBlocked, StatusEmergencyStopped},
	"approve":        {StatusRunning, StatusPaused, StatusDecisionNeeded, StatusBlocked, StatusEmergencyStopped},
	"stop":           {StatusRunning, StatusPaused, StatusDecisionNeeded, StatusBlocked},
}

// checkTransition refuses an operation the job's current status does not
// allow, naming the status (exit 6).
func checkTransition(st *State, op string) error {
	allowed := transitions[op]
	if slices.Contains(allowed, st.Status) {
		return nil
	}
	hint := "it is finished; submit a new job"
	switch st.Status {
	case StatusRunning:
		hint = "it is already running"
	case StatusPaused, StatusDecisionNeeded, StatusBlocked:
		hint = "resume it first with `gait job resume --id " + st.JobID + "`"
	case StatusEmergencyStopped:
		hint = "it was emergency-stopped and never runs again; cancel it or submit a new job"
	}
	return exitcode.Invalidf("job %s: cannot %s: job is %s (%s needs %s); %s",
		st.JobID, op, st.Status, op, strings.Join(allowed, ", "), hint)
}

// pendingDecision returns the latest decision-needed checkpoint, if any.
func (st *State) pendingDecision() *Checkpoint {
	for i := len(st.Checkpoints) - 1; i >= 0; i-- {
		if st.Checkpoints[i].Type == CheckpointDecisionNeeded {
			return &st.Checkpoints[i]
		}
	}
	return nil
}

// approvedSince reports whether the event log has an approval after the
// event that added checkpoint cp.
func approvedSince(events []Event, cp *Checkpoint) bool {
	added := -1
	for i, ev := range events {
		if ev.Type == "checkpoint_added" && ev.Payload["checkpoint_id"] == cp.CheckpointID {
			added = i
		}
	}
	for _, ev := range events[added+1:] {
		if ev.Type == "approved" {
			return true
		}
	}
	return false
}

// stopReason is the deterministic stop reason of a status.
func stopReason(status string) string {
	switch status {
	case StatusRunning:
		return "none"
	case StatusPaused:
		return "paused_by_user"
	case StatusCancelled:
		return "cancelled_by_user"
	}
	return status
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
