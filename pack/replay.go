package pack

// ReplayStep is one intent answered from the recording.
type ReplayStep struct {
	Index        int    `json:"index"`
	IntentID     string `json:"intent_id"`
	ToolName     string `json:"tool_name"`
	Execution    string `json:"execution"` // recorded | missing
	Status       string `json:"status"`
	ResultDigest string `json:"result_digest,omitempty"`
}

// ReplayResult is the outcome of a stub replay.
type ReplayResult struct {
	OK             bool         `json:"ok"`
	Mode           string       `json:"mode"`
	RunID          string       `json:"run_id"`
	Steps          []ReplayStep `json:"steps"`
	MissingResults []string     `json:"missing_results"`
	ExitCode       int          `json:"exit_code"`
}

// Replay runs a runpack in stub mode: every intent is answered with its
// recorded result, in order, and no real tool is called. An intent without a
// recorded result cannot be answered; it is listed and the replay exit code
// is 2.
func Replay(rp *Runpack) ReplayResult {
	results := rp.resultIndex()
	res := ReplayResult{OK: true, Mode: "stub", RunID: rp.Manifest.RunID, Steps: make([]ReplayStep, 0, len(rp.Intents)), MissingResults: []string{}}
	for i, in := range rp.Intents {
		step := ReplayStep{Index: i + 1, IntentID: in.IntentID, ToolName: in.ToolName}
		if r, ok := results[in.IntentID]; ok {
			step.Execution, step.Status, step.ResultDigest = "recorded", r.Status, r.ResultDigest
		} else {
			step.Execution, step.Status = "missing", "missing"
			res.MissingResults = append(res.MissingResults, in.IntentID)
		}
		res.Steps = append(res.Steps, step)
	}
	if len(res.MissingResults) > 0 {
		res.OK = false
		res.ExitCode = 2
	}
	return res
}
