package main

import (
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		root.AddCommand(newDemoCmd(a))
	})
}

func newDemoCmd(a *app) *cobra.Command {
	var durable, policy bool
	cmd := &cobra.Command{
		Use:   "demo [--durable|--policy]",
		Short: "Write and verify the built-in demo runpack",
		Long: `demo writes gait-out/runpack_run_demo.zip from built-in data (an agent that
searches, fetches and summarizes), verifies it, and prints its ticket footer
and what to run next. It needs no network and no keys.

--durable runs a durable job that stops at a decision until it is approved.
--policy writes a demo policy and an intent to delete a directory, and shows
the gate blocking it.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			switch {
			case durable && policy:
				return exitcode.Invalidf("--durable and --policy are separate demos; pass one of them")
			case durable:
				return runDurableDemo(a)
			case policy:
				return runPolicyDemo(a)
			}
			res, err := writeDemo(defaultOutDir)
			if err != nil {
				return err
			}
			a.emit(res, kv("run_id", res.RunID, "bundle", res.Bundle, "ticket_footer", res.TicketFooter,
				"verify", res.Verify, "next", "gait verify run_demo", "next", "gait regress bootstrap --from run_demo --junit gait-out/junit.xml",
				"metrics_opt_in", metricsOptIn))
			return nil
		},
	}
	cmd.Flags().BoolVar(&durable, "durable", false, "run the durable job demo: a job blocked at a decision until approved")
	cmd.Flags().BoolVar(&policy, "policy", false, "run the policy demo: the gate blocks a destructive call")
	return cmd
}

type demoResult struct {
	OK           bool     `json:"ok"`
	RunID        string   `json:"run_id"`
	Bundle       string   `json:"bundle"`
	TicketFooter string   `json:"ticket_footer"`
	Verify       string   `json:"verify"`
	NextCommands []string `json:"next_commands"`
	MetricsOptIn string   `json:"metrics_opt_in"`
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
		MetricsOptIn: metricsOptIn,
	}, nil
}

// runPolicyDemo writes the demo policy and intent and evaluates them.
func runPolicyDemo(a *app) error {
	policyPath := filepath.Join(defaultOutDir, "policy_demo.yaml")
	intentPath := filepath.Join(defaultOutDir, "intent_demo_delete.json")
	if err := atomicfile.WriteFile(policyPath, []byte(gate.DemoPolicy), 0o644); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(intentPath, []byte(gate.DemoIntent), 0o644); err != nil {
		return err
	}
	policy, err := gate.LoadPolicy(policyPath)
	if err != nil {
		return err
	}
	req, err := gate.LoadIntent(intentPath, gate.ProfileStandard)
	if err != nil {
		return err
	}
	in, err := gate.Normalize(req)
	if err != nil {
		return err
	}
	d := policy.Evaluate(in)
	next := []string{
		"gait gate eval --policy " + policyPath + " --intent " + intentPath + " --simulate",
		"gait policy validate " + policyPath,
	}
	a.emit(struct {
		OK           bool         `json:"ok"`
		Mode         string       `json:"mode"`
		Policy       string       `json:"policy"`
		Intent       string       `json:"intent"`
		Verdict      gate.Verdict `json:"verdict"`
		MatchedRule  string       `json:"matched_rule"`
		ReasonCodes  []string     `json:"reason_codes"`
		NextCommands []string     `json:"next_commands"`
	}{true, "policy", policyPath, intentPath, d.Verdict, d.MatchedRule, d.ReasonCodes, next},
		kv("mode", "policy", "policy", policyPath, "intent", intentPath, "verdict", string(d.Verdict),
			"matched_rule", d.MatchedRule, "reason_codes", strings.Join(d.ReasonCodes, ","),
			"next", next[0], "next", next[1]))
	return nil
}
