package scout

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/filelock"
)

// Adoption schema ids.
const (
	AdoptionEventSchemaID  = "gait.scout.adoption_event"
	AdoptionReportSchemaID = "gait.doctor.adoption_report"
)

// maxAdoptionLine bounds one line of an adoption log.
const maxAdoptionLine = 1 << 20

// AdoptionEvent is one line of the adoption log: a gait command that ran.
type AdoptionEvent struct {
	SchemaID        string      `json:"schema_id"`
	SchemaVersion   string      `json:"schema_version"`
	CreatedAt       string      `json:"created_at"`
	ProducerVersion string      `json:"producer_version"`
	Command         string      `json:"command"`
	WorkflowID      string      `json:"workflow_id,omitempty"`
	Success         bool        `json:"success"`
	ExitCode        int         `json:"exit_code"`
	ElapsedMS       int64       `json:"elapsed_ms"`
	Milestones      []string    `json:"milestones,omitempty"`
	Environment     Environment `json:"environment"`
}

// Environment is where the command ran: operating system and architecture
// only, nothing that identifies a person or a machine.
type Environment struct {
	OS   string `json:"os"`
	Arch string `json:"arch"`
}

// activation milestones: the first-run path, in order, with the command
// that reaches each and the hint printed while it is missing.
var activation = []struct{ name, command, hint string }{
	{"A1", "demo", "run `gait demo`"},
	{"A2", "verify", "run `gait verify <run_id>`"},
	{"A3", "regress init", "run `gait regress init --from <run_id>`"},
	{"A4", "regress run", "run `gait regress run`"},
}

// expansionMilestones are reported for v1 compatibility; no command
// records them.
var expansionMilestones = []string{"E1", "E2", "E3"}

// skillWorkflows maps commands to the workflow they belong to, when the
// event names no known workflow itself (GAIT_ADOPTION_WORKFLOW).
var skillWorkflows = map[string]string{
	"run record": "gait-capture-runpack", "verify": "gait-capture-runpack",
	"regress init": "gait-incident-to-regression", "regress bootstrap": "gait-incident-to-regression", "regress run": "gait-incident-to-regression",
	"gate eval": "gait-policy-test-rollout", "policy test": "gait-policy-test-rollout",
}

// NewAdoptionEvent builds the event for a finished command. Milestones are
// recorded only for successful commands.
func NewAdoptionEvent(command, workflow string, exitCode int, start time.Time, elapsed time.Duration, producer string) AdoptionEvent {
	ev := AdoptionEvent{
		SchemaID: AdoptionEventSchemaID, SchemaVersion: SchemaVersion,
		CreatedAt: start.UTC().Format(time.RFC3339Nano), ProducerVersion: producer,
		Command: command, WorkflowID: workflow, Success: exitCode == 0, ExitCode: exitCode,
		ElapsedMS: max(elapsed.Milliseconds(), 0), Environment: Environment{OS: runtime.GOOS, Arch: runtime.GOARCH},
	}
	if ev.Success {
		for _, m := range activation {
			// regress bootstrap is regress init and regress run in one.
			if m.command == command || command == "regress bootstrap" && strings.HasPrefix(m.command, "regress ") {
				ev.Milestones = append(ev.Milestones, m.name)
			}
		}
	}
	return ev
}

// AppendAdoptionEvent appends ev as one JSON line to path, holding the
// file lock path+".lock" so concurrent gait processes never interleave
// lines. The directory is created when missing.
func AppendAdoptionEvent(path string, ev AdoptionEvent) error {
	line, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	lock, err := filelock.Acquire(path + ".lock")
	if err != nil {
		return err
	}
	defer func() { _ = lock.Release() }()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadAdoptionEvents reads an adoption log. Blank lines are skipped; a
// line that is not an adoption event is a user error (exit 6) naming the
// file and line.
func ReadAdoptionEvents(path string) ([]AdoptionEvent, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, exitcode.Invalidf("%s: cannot read adoption log: %v; pass the file GAIT_ADOPTION_LOG names", path, errors.Unwrap(err))
	}
	defer f.Close()
	events, err := ParseAdoptionEvents(f)
	if err != nil {
		return nil, exitcode.Invalidf("%s: %v; pass the file GAIT_ADOPTION_LOG names", path, err)
	}
	return events, nil
}

// ParseAdoptionEvents decodes adoption-log lines from r.
func ParseAdoptionEvents(r io.Reader) ([]AdoptionEvent, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxAdoptionLine)
	var events []AdoptionEvent
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var ev AdoptionEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return nil, fmt.Errorf("line %d: not JSON: %w", n, err)
		}
		if ev.SchemaID != AdoptionEventSchemaID {
			return nil, fmt.Errorf("line %d: schema_id is %q, not %s", n, ev.SchemaID, AdoptionEventSchemaID)
		}
		if _, err := time.Parse(time.RFC3339Nano, ev.CreatedAt); err != nil {
			return nil, fmt.Errorf("line %d: created_at %q is not an RFC 3339 time", n, ev.CreatedAt)
		}
		events = append(events, ev)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading lines: %w", err)
	}
	return events, nil
}

// AdoptionReport is a gait.doctor.adoption_report: what the log says
// about a team's first runs and recurring workflows.
type AdoptionReport struct {
	SchemaID           string           `json:"schema_id"`
	SchemaVersion      string           `json:"schema_version"`
	CreatedAt          string           `json:"created_at"`
	ProducerVersion    string           `json:"producer_version"`
	Source             string           `json:"source"`
	TotalEvents        int              `json:"total_events"`
	SuccessEvents      int              `json:"success_events"`
	FailedEvents       int              `json:"failed_events"`
	FirstEventAt       string           `json:"first_event_at"`
	LastEventAt        string           `json:"last_event_at"`
	Commands           []CommandStats   `json:"commands"`
	Milestones         []MilestoneState `json:"milestones"`
	ActivationComplete bool             `json:"activation_complete"`
	ActivationTiming   map[string]int64 `json:"activation_timing_ms,omitempty"`
	ActivationMedians  map[string]int64 `json:"activation_medians_ms,omitempty"`
	Blockers           []string         `json:"blockers,omitempty"`
	SkillWorkflows     []WorkflowStats  `json:"skill_workflows,omitempty"`
}

// CommandStats counts one command's events.
type CommandStats struct {
	Command string `json:"command"`
	Total   int    `json:"total"`
	Success int    `json:"success"`
	Failure int    `json:"failure"`
}

// MilestoneState says whether a milestone was reached.
type MilestoneState struct {
	Name     string `json:"name"`
	Achieved bool   `json:"achieved"`
}

// WorkflowStats summarises the events of one skill workflow.
type WorkflowStats struct {
	Workflow              string  `json:"workflow"`
	Total                 int     `json:"total"`
	Success               int     `json:"success"`
	Failure               int     `json:"failure"`
	SuccessRate           float64 `json:"success_rate"`
	MedianRuntimeMS       int64   `json:"median_runtime_ms"`
	MostCommonFailureCode int     `json:"most_common_failure_code,omitempty"`
}

// BuildAdoptionReport summarises events (in log order). Times come from
// the events only: created_at is the last event's time (1980-01-01 for an
// empty log), activation timings are milliseconds from the first event to
// the first event reaching each milestone.
func BuildAdoptionReport(source string, events []AdoptionEvent, producer string) *AdoptionReport {
	rep := &AdoptionReport{SchemaID: AdoptionReportSchemaID, SchemaVersion: SchemaVersion, CreatedAt: CreatedAt,
		ProducerVersion: producer, Source: source, Commands: []CommandStats{},
		FirstEventAt: time.Time{}.Format(time.RFC3339), LastEventAt: time.Time{}.Format(time.RFC3339)}
	stats := map[string]*CommandStats{}
	reached := map[string]time.Time{}
	var first time.Time
	var demoMS, regressMS []int64
	workflows := map[string][]AdoptionEvent{}
	for i, ev := range events {
		at, _ := time.Parse(time.RFC3339Nano, ev.CreatedAt)
		if i == 0 {
			first = at
			rep.FirstEventAt = ev.CreatedAt
		}
		rep.LastEventAt, rep.CreatedAt = ev.CreatedAt, ev.CreatedAt
		rep.TotalEvents++
		s := stats[ev.Command]
		if s == nil {
			s = &CommandStats{Command: ev.Command}
			stats[ev.Command] = s
		}
		s.Total++
		if ev.Success {
			rep.SuccessEvents++
			s.Success++
			for _, m := range ev.Milestones {
				if _, ok := reached[m]; !ok {
					reached[m] = at
				}
			}
			switch ev.Command {
			case "demo":
				demoMS = append(demoMS, ev.ElapsedMS)
			case "regress run":
				regressMS = append(regressMS, ev.ElapsedMS)
			}
		} else {
			rep.FailedEvents++
			s.Failure++
		}
		name := ev.WorkflowID
		if name == "" {
			name = skillWorkflows[ev.Command]
		}
		if isSkillWorkflow(name) {
			workflows[name] = append(workflows[name], ev)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(stats)) {
		rep.Commands = append(rep.Commands, *stats[k])
	}
	rep.ActivationComplete = true
	for _, m := range activation {
		at, ok := reached[m.name]
		rep.Milestones = append(rep.Milestones, MilestoneState{Name: m.name, Achieved: ok})
		if !ok {
			rep.ActivationComplete = false
			rep.Blockers = append(rep.Blockers, "missing "+m.name+": "+m.hint)
			continue
		}
		if rep.ActivationTiming == nil {
			rep.ActivationTiming = map[string]int64{}
		}
		rep.ActivationTiming[m.name] = at.Sub(first).Milliseconds()
	}
	for _, m := range expansionMilestones {
		_, ok := reached[m]
		rep.Milestones = append(rep.Milestones, MilestoneState{Name: m, Achieved: ok})
	}
	if len(demoMS) > 0 || len(regressMS) > 0 {
		rep.ActivationMedians = map[string]int64{}
		if len(demoMS) > 0 {
			rep.ActivationMedians["m1_demo_elapsed_ms"] = median(demoMS)
		}
		if len(regressMS) > 0 {
			rep.ActivationMedians["m2_regress_run_elapsed_ms"] = median(regressMS)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(workflows)) {
		rep.SkillWorkflows = append(rep.SkillWorkflows, workflowStats(name, workflows[name]))
	}
	return rep
}

func isSkillWorkflow(name string) bool {
	switch name {
	case "gait-capture-runpack", "gait-incident-to-regression", "gait-policy-test-rollout":
		return true
	}
	return false
}

func workflowStats(name string, events []AdoptionEvent) WorkflowStats {
	ws := WorkflowStats{Workflow: name, Total: len(events)}
	var ms []int64
	failures := map[int]int{}
	for _, ev := range events {
		ms = append(ms, ev.ElapsedMS)
		if ev.Success {
			ws.Success++
		} else {
			ws.Failure++
			failures[ev.ExitCode]++
		}
	}
	ws.SuccessRate = float64(ws.Success) / float64(ws.Total)
	ws.MedianRuntimeMS = median(ms)
	best := 0
	for _, code := range slices.Sorted(maps.Keys(failures)) {
		if failures[code] > best {
			best, ws.MostCommonFailureCode = failures[code], code
		}
	}
	return ws
}

// median is the middle value (the mean of the two middle ones, rounded
// down, for an even count).
func median(v []int64) int64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
