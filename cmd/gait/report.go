package main

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/report"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		cmd := &cobra.Command{
			Use:   "report",
			Short: "Reports across runs and gate traces",
			Long:  `report summarizes many runpacks and gate traces; "report top" ranks their riskiest tool calls.`,
		}
		cmd.AddCommand(newReportTopCmd(a))
		root.AddCommand(cmd)
	})
}

type reportTopOptions struct {
	runs, traces, out string
	limit             int
}

// reportTopResult is what `report top --json` prints.
type reportTopResult struct {
	OK         bool              `json:"ok"`
	OutputPath string            `json:"output_path"`
	RunCount   int               `json:"run_count"`
	TraceCount int               `json:"trace_count"`
	Actions    int               `json:"action_count"`
	TopActions int               `json:"top_actions"`
	Report     *report.TopReport `json:"report"`
}

func newReportTopCmd(a *app) *cobra.Command {
	var o reportTopOptions
	cmd := &cobra.Command{
		Use:   "top --runs <csv|run_id|dir> [--traces <csv|dir>] [--limit N]",
		Short: "Rank the highest-risk tool calls across runs and traces",
		Long: `report top reads runpacks (--runs: run ids, runpack zips or directories of
runpack_*.zip, comma-separated) and gate traces (--traces: trace files or
directories of trace_*.json) and ranks every tool call by risk: its class
(destructive > write/egress > execute > read), its blast radius (targets it
touches, wider for recursive or wildcard calls), the gate's verdict (block and
require_approval raise it) and its violations. Ties break on stable keys, so
the same inputs give the same bytes. It writes gait-out/report_top_actions.json
(--out) and prints the table. A run id may also be given as the argument.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 1 {
				if o.runs != "" {
					return exitcode.Invalidf("runs given twice; pass either --runs or one argument")
				}
				o.runs = args[0]
			}
			return a.runReportTop(o)
		},
	}
	cmd.Flags().StringVar(&o.runs, "runs", "", "runpacks: run ids, zips or directories, comma-separated")
	cmd.Flags().StringVar(&o.traces, "traces", "", "gate traces: files or directories, comma-separated")
	cmd.Flags().IntVar(&o.limit, "limit", report.TopDefaultLimit, "how many actions to keep")
	cmd.Flags().StringVar(&o.out, "out", filepath.Join(defaultOutDir, report.TopFile), "report file to write")
	return cmd
}

func (a *app) runReportTop(o reportTopOptions) error {
	if o.limit <= 0 {
		return exitcode.Invalidf("--limit %d: pass a positive number of actions", o.limit)
	}
	if o.runs == "" && o.traces == "" {
		return exitcode.Invalidf("nothing to rank; pass --runs <run_id|runpack.zip|dir> and/or --traces <trace.json|dir>")
	}
	runs, traces, err := report.TopSources(o.runs, o.traces, defaultOutDir)
	if err != nil {
		return err
	}
	rep, err := report.Top(report.TopOptions{Runs: runs, Traces: traces, Limit: o.limit, ProducerVersion: producerVersion()})
	if err != nil {
		return err
	}
	if err := report.WriteTop(o.out, rep); err != nil {
		return fmt.Errorf("writing %s: %w", o.out, err)
	}
	if a.json {
		a.writeJSON(reportTopResult{OK: true, OutputPath: o.out, RunCount: rep.RunCount, TraceCount: rep.TraceCount,
			Actions: rep.ActionCount, TopActions: len(rep.TopActions), Report: rep})
		return nil
	}
	a.emit(nil, kv("runs", fmt.Sprint(rep.RunCount), "traces", fmt.Sprint(rep.TraceCount),
		"actions", fmt.Sprint(rep.ActionCount), "output", o.out))
	var buf bytes.Buffer
	_ = report.TopText(&buf, rep)
	fmt.Fprint(a.out, buf.String())
	if next := topNext(rep); next != "" {
		fmt.Fprintf(a.out, "next=%s\n", next)
	}
	return nil
}

// topNext suggests looking closer at the riskiest recorded run.
func topNext(rep *report.TopReport) string {
	for _, act := range rep.TopActions {
		if act.SourceType == "runpack" {
			return "gait run inspect " + act.SourceArtifact
		}
	}
	return ""
}
