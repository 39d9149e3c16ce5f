package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/guard"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		cmd := &cobra.Command{
			Use:   "incident",
			Short: "Bundle an incident's evidence",
			Long:  "incident packs a run and the evidence around it in time into one verifiable evidence pack.",
		}
		cmd.AddCommand(newIncidentPackCmd(a))
		root.AddCommand(cmd)
	})
}

func newIncidentPackCmd(a *app) *cobra.Command {
	var from string
	var window time.Duration
	var ev evidenceFlags
	cmd := &cobra.Command{
		Use:   "pack --from <run_id|path>",
		Short: "Build an evidence pack of a run and the evidence in its time window",
		Long: `incident pack builds an evidence pack (as guard pack does) of a run and of
the gate traces, regress results, approval audit and credential records in the
runpack's folder whose created_at lies within --window (default 24h) either
side of the run's created_at, bounds included. The manifest records the window
(incident_window) and policy_digests.json lists the policies of the selected
traces. The default template is incident_response; an unknown template or a
window that is not a positive duration is exit 6.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			runPath, err := runpackArg(from, nil)
			if err != nil {
				return err
			}
			opts, err := ev.options(a)
			if err != nil {
				return err
			}
			if opts, err = guard.Incident(runPath, window, opts); err != nil {
				return err
			}
			p, err := guard.Build(runPath, opts)
			if err != nil {
				return err
			}
			w := p.Manifest.IncidentWindow
			return a.writePack(p, ev.out, runPath, "window_from", w.From, "window_to", w.To,
				"traces", fmt.Sprint(len(opts.Traces)), "regress_results", fmt.Sprint(len(opts.Regress)),
				"approval_audits", fmt.Sprint(len(opts.ApprovalAudits)), "credential_records", fmt.Sprint(len(opts.CredentialRecords)))
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "run id or runpack path")
	cmd.Flags().DurationVar(&window, "window", 24*time.Hour, "how far either side of the run's start to collect evidence")
	ev.add(cmd, "incident_response")
	return cmd
}
