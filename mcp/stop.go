package mcp

import (
	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/job"
)

// EmergencyStop applies v1's emergency-stop check to a decision: when the
// intent's context names a job_id and that job, read from jobRoot
// (job.DefaultRoot when empty), was emergency-stopped or cannot be read,
// the decision becomes a block with the stop's reason code and the
// violation emergency_stop_active. warning says why a job could not be
// read ("" otherwise).
func EmergencyStop(d gate.Decision, in *gate.Intent, jobRoot string) (_ gate.Decision, warning string) {
	if in == nil || in.Context.JobID == "" {
		return d, ""
	}
	c := job.CheckEmergencyStop(jobRoot, in.Context.JobID)
	if !c.Blocked {
		return d, ""
	}
	d.Verdict = gate.Block
	d.ReasonCodes = sortedUnion(d.ReasonCodes, c.ReasonCode)
	d.Violations = sortedUnion(d.Violations, job.ViolationEmergencyStop)
	return d, c.Warning
}
