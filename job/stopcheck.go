package job

import "fmt"

// Reason codes and violation of the emergency stop, as v1 names them.
const (
	// ReasonEmergencyStop is the status reason of a stopped job and the
	// reason code of a call the gate blocks because its job was stopped.
	ReasonEmergencyStop = "emergency_stop_preempted"
	// ReasonEmergencyStopUnavailable blocks a call whose job state cannot
	// be read (no such job, a bad id, an unreadable root): the gate fails
	// closed rather than guess the job is still running.
	ReasonEmergencyStopUnavailable = "emergency_stop_state_unavailable"
	// ViolationEmergencyStop is the violation of both.
	ViolationEmergencyStop = "emergency_stop_active"
)

// StopCheck is what the gate learns about a call's job.
type StopCheck struct {
	// Blocked is true when the call must not run: the job was
	// emergency-stopped, or its state could not be read.
	Blocked bool
	// ReasonCode is ReasonEmergencyStop or ReasonEmergencyStopUnavailable
	// when Blocked.
	ReasonCode string
	// Warning says why the state was unavailable
	// ("job_status_unavailable=<problem>").
	Warning string
}

// CheckEmergencyStop reads the state of job id in the jobs directory root
// (DefaultRoot when empty) without taking its lock, and says whether a
// gated call that names the job must be blocked. Any job that exists and
// is not emergency_stopped lets the call through to the policy.
func CheckEmergencyStop(root, id string) StopCheck {
	st, err := NewStore(root).Status(id)
	if err != nil {
		return StopCheck{Blocked: true, ReasonCode: ReasonEmergencyStopUnavailable, Warning: fmt.Sprintf("job_status_unavailable=%v", err)}
	}
	if st.Status == StatusEmergencyStopped {
		return StopCheck{Blocked: true, ReasonCode: ReasonEmergencyStop}
	}
	return StopCheck{}
}
