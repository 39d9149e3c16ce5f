package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/scout"
)

// Environment variables of the adoption log.
const (
	adoptionLogEnv      = "GAIT_ADOPTION_LOG"
	adoptionWorkflowEnv = "GAIT_ADOPTION_WORKFLOW"
)

// metricsOptIn is how the first-run output says the local adoption log is
// turned on; nothing is sent anywhere.
const metricsOptIn = "export " + adoptionLogEnv + "=./gait-out/adoption.jsonl"

// logAdoption appends the finished command to the adoption log. It never
// changes the exit code: a failure to write is one line on stderr.
func (a *app) logAdoption(path string, root *cobra.Command, args []string, code int, start time.Time) {
	ev := scout.NewAdoptionEvent(adoptionCommand(root, args), strings.TrimSpace(a.getenv(adoptionWorkflowEnv)),
		code, start, a.now().Sub(start), producerVersion())
	if err := scout.AppendAdoptionEvent(path, ev); err != nil {
		fmt.Fprintf(a.errOut, "gait: %s: adoption log not written: %v; check %s names a writable file\n", path, err, adoptionLogEnv)
	}
}

// adoptionCommand names the command args ran, as "regress run": "help"
// for gait itself, "unknown" for a command gait does not have (the
// argument is not logged).
func adoptionCommand(root *cobra.Command, args []string) string {
	own := args
	if i := slices.Index(args, "--"); i >= 0 {
		own = args[:i]
	}
	cmd, _, err := root.Find(own)
	switch {
	case err != nil && cmd == root:
		return "unknown"
	case cmd == nil || cmd == root:
		if slices.ContainsFunc(own, func(s string) bool { return !strings.HasPrefix(s, "-") }) {
			return "unknown"
		}
		return "help"
	}
	return strings.TrimPrefix(cmd.CommandPath(), root.Name()+" ")
}

func newDoctorAdoptionCmd(a *app) *cobra.Command {
	var from, out string
	cmd := &cobra.Command{
		Use:   "adoption --from <events.jsonl> [--out <report.json>]",
		Short: "Summarise the local adoption log",
		Long: `doctor adoption reads the log GAIT_ADOPTION_LOG collects (one
gait.scout.adoption_event line per gait command; nothing is sent anywhere)
and summarises it: events per command, the first-run milestones (A1 demo,
A2 verify, A3 regress init, A4 regress run) with the time from the first
event to each and what is still missing, and success rates of the
capture, incident-to-regression and policy-test workflows. --out also writes
the report to a file.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if strings.TrimSpace(from) == "" {
				return exitcode.Invalidf("nothing to summarise; pass --from <events.jsonl> (the file GAIT_ADOPTION_LOG names)")
			}
			events, err := scout.ReadAdoptionEvents(from)
			if err != nil {
				return err
			}
			rep := scout.BuildAdoptionReport(from, events, producerVersion())
			if out != "" {
				if err := scout.WriteFile(out, rep); err != nil {
					return err
				}
			}
			text := kv("doctor_adoption", from, "total_events", fmt.Sprint(rep.TotalEvents), "success_events", fmt.Sprint(rep.SuccessEvents),
				"failed_events", fmt.Sprint(rep.FailedEvents), "activation_complete", fmt.Sprint(rep.ActivationComplete))
			for _, m := range rep.Milestones {
				text = append(text, field{"milestone", fmt.Sprintf("%s achieved=%t", m.Name, m.Achieved)})
			}
			for _, w := range rep.SkillWorkflows {
				text = append(text, field{"workflow", fmt.Sprintf("%s total=%d success_rate=%.2f median_runtime_ms=%d", w.Workflow, w.Total, w.SuccessRate, w.MedianRuntimeMS)})
			}
			for _, b := range rep.Blockers {
				text = append(text, field{"blocker", b})
			}
			if out != "" {
				text = append(text, field{"output", out})
			}
			a.emit(struct {
				OK     bool                  `json:"ok"`
				Report *scout.AdoptionReport `json:"report"`
			}{true, rep}, text)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "adoption log to read (JSON lines)")
	cmd.Flags().StringVar(&out, "out", "", "also write the report to this file")
	return cmd
}
