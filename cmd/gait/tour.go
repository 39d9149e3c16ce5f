package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/regress"
	"github.com/gait-dev/gait/report"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		root.AddCommand(newTourCmd(a))
	})
}

// tourStep is one stage of the tour as --json reports it.
type tourStep struct {
	Step     string `json:"step"`
	Command  string `json:"command"`
	ExitCode int    `json:"exit_code"`
	Summary  string `json:"summary"`
}

func newTourCmd(a *app) *cobra.Command {
	var keep bool
	cmd := &cobra.Command{
		Use:   "tour",
		Short: "A guided first run: demo, verify, regress bootstrap, regress run",
		Long: `tour walks through Gait offline in a scratch directory: it writes the demo
runpack, verifies it, turns it into a regress fixture, runs the fixture (pass),
then plants a drifted copy of the run (the agent calls a different tool) and
shows regress failing with exit 5 and a diff. It removes the scratch directory
at the end unless --keep is given, and prints what to run next.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			dir, err := os.MkdirTemp("", "gait-tour-")
			if err != nil {
				return err
			}
			if !keep {
				defer os.RemoveAll(dir)
			}
			steps, err := runTour(dir, func(format string, args ...any) {
				if !a.json {
					fmt.Fprintf(a.out, format, args...)
				}
			})
			if err != nil {
				return err
			}
			next := []string{"gait demo", "gait regress bootstrap --from run_demo --junit gait-out/junit.xml", "gait regress run --junit gait-out/junit.xml"}
			if a.json {
				a.writeJSON(struct {
					OK           bool       `json:"ok"`
					Steps        []tourStep `json:"steps"`
					Kept         string     `json:"kept_dir,omitempty"`
					NextCommands []string   `json:"next_commands"`
					MetricsOptIn string     `json:"metrics_opt_in"`
				}{true, steps, keptDir(keep, dir), next, metricsOptIn})
				return nil
			}
			if keep {
				fmt.Fprintf(a.out, "\nThe tour ran in a scratch directory, kept for you to look around.\nIn your repository, point regress at a real run:\n")
				fmt.Fprintf(a.out, "kept_dir=%s\n", dir)
			} else {
				fmt.Fprintf(a.out, "\nThe tour ran in a scratch directory and cleaned up after itself.\nIn your repository, point regress at a real run:\n")
			}
			if runByGoRun() {
				// `go run ./cmd/gait` runs from a clone and leaves no gait on
				// PATH for the next= commands: install the one in the clone.
				fmt.Fprintf(a.out, "install=go install ./cmd/gait\n")
			}
			for _, n := range next {
				fmt.Fprintf(a.out, "next=%s\n", n)
			}
			fmt.Fprintf(a.out, "metrics_opt_in=%s\n", metricsOptIn)
			return nil
		},
	}
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the scratch directory to look around")
	return cmd
}

func keptDir(keep bool, dir string) string {
	if keep {
		return dir
	}
	return ""
}

// runTour performs the tour in dir, narrating through say.
func runTour(dir string, say func(string, ...any)) ([]tourStep, error) {
	var steps []tourStep
	record := func(step, command string, code int, summary string) {
		steps = append(steps, tourStep{step, command, code, summary})
		say("\n[%d] %s\n$ %s\n%s\nexit=%d\n", len(steps), step, command, summary, code)
	}
	outDir := filepath.Join(dir, defaultOutDir)
	demo, err := writeDemo(outDir)
	if err != nil {
		return nil, err
	}
	record("Capture: the demo agent run becomes a runpack", "gait demo", 0,
		"bundle="+filepath.Join(defaultOutDir, "runpack_run_demo.zip")+"\nticket_footer="+demo.TicketFooter)

	v, err := pack.Verify(demo.Bundle, pack.VerifyOptions{})
	if err != nil {
		return nil, err
	}
	record("Verify: digests and manifest hold", "gait verify run_demo", 0,
		fmt.Sprintf("verify=ok files_checked=%d manifest_digest=%s", v.FilesChecked, v.ManifestDigest))

	config := filepath.Join(dir, regress.DefaultConfig)
	if _, err := regress.Init(regress.InitOptions{From: demo.Bundle, ConfigPath: config, OutDir: outDir}); err != nil {
		return nil, err
	}
	if _, err := regress.Init(regress.InitOptions{From: demo.Bundle, Name: "run_demo_drift", ConfigPath: config, OutDir: outDir}); err != nil {
		return nil, err
	}
	rep, err := regress.Run(config, regress.RunOptions{Fixtures: []string{"run_demo"}})
	if err != nil {
		return nil, err
	}
	junit := filepath.Join(outDir, "junit.xml")
	if err := writeRegressOutputs(rep, filepath.Join(dir, "regress_result.json"), junit); err != nil {
		return nil, err
	}
	record("Regress: the run is now a fixture that passes", "gait regress bootstrap --from run_demo --junit gait-out/junit.xml", rep.ExitCode(),
		fmt.Sprintf("fixtures/run_demo/{runpack.zip,fixture.json} + gait.yaml\nstatus=%s passed=%d failed=%d junit=gait-out/junit.xml", rep.Status, rep.Passed, rep.Failed))

	// Plant a drifted run: the agent now deletes where it used to fetch.
	drifted := pack.DemoRecord()
	drifted.Intents[1].ToolName = "tool.delete"
	rp, err := pack.Build(drifted, pack.RecordOptions{})
	if err != nil {
		return nil, err
	}
	if err := rp.WriteFile(filepath.Join(dir, "fixtures", "run_demo_drift", "runpack.zip")); err != nil {
		return nil, err
	}
	rep, err = regress.Run(config, regress.RunOptions{})
	if err != nil {
		return nil, err
	}
	if err := writeRegressOutputs(rep, filepath.Join(dir, "regress_result.json"), junit); err != nil {
		return nil, err
	}
	var text bytes.Buffer
	_ = report.Text(&text, rep)
	record("Drift: a changed agent calls tool.delete instead of tool.fetch, and CI fails", "gait regress run --junit gait-out/junit.xml", rep.ExitCode(), text.String())
	if rep.ExitCode() != 5 {
		return nil, fmt.Errorf("tour: the drifted fixture passed; expected exit 5")
	}
	return steps, nil
}

// runByGoRun reports whether this process is a binary `go run` built in its
// temporary build directory.
func runByGoRun() bool {
	exe, err := os.Executable()
	return err == nil && strings.Contains(filepath.ToSlash(exe), "/go-build")
}
