package main

import (
	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/pack"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		root.AddCommand(newDemoCmd(a))
	})
}

func newDemoCmd(a *app) *cobra.Command {
	var durable bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Write and verify the built-in demo runpack",
		Long: `demo writes gait-out/runpack_run_demo.zip from built-in data (an agent that
searches, fetches and summarizes), verifies it, and prints its ticket footer
and what to run next. It needs no network and no keys.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if durable {
				return runDurableDemo(a)
			}
			res, err := writeDemo(defaultOutDir)
			if err != nil {
				return err
			}
			a.emit(res, kv("run_id", res.RunID, "bundle", res.Bundle, "ticket_footer", res.TicketFooter,
				"verify", res.Verify, "next", "gait verify run_demo", "next", "gait regress bootstrap --from run_demo --junit gait-out/junit.xml"))
			return nil
		},
	}
	cmd.Flags().BoolVar(&durable, "durable", false, "run the durable job demo: a job blocked at a decision until approved")
	return cmd
}

type demoResult struct {
	OK           bool     `json:"ok"`
	RunID        string   `json:"run_id"`
	Bundle       string   `json:"bundle"`
	TicketFooter string   `json:"ticket_footer"`
	Verify       string   `json:"verify"`
	NextCommands []string `json:"next_commands"`
}

// writeDemo writes and verifies the demo runpack under outDir.
func writeDemo(outDir string) (demoResult, error) {
	rp, err := pack.Build(pack.DemoRecord(), pack.RecordOptions{})
	if err != nil {
		return demoResult{}, err
	}
	path := pack.DefaultPath(outDir, rp.Manifest.RunID)
	if err := rp.WriteFile(path); err != nil {
		return demoResult{}, err
	}
	v, err := pack.Verify(path, pack.VerifyOptions{})
	if err != nil {
		return demoResult{}, err
	}
	return demoResult{
		OK: true, RunID: rp.Manifest.RunID, Bundle: path, TicketFooter: v.TicketFooter, Verify: "ok",
		NextCommands: []string{"gait verify run_demo", "gait regress bootstrap --from run_demo --junit gait-out/junit.xml"},
	}, nil
}
