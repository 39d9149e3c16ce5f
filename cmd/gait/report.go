package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/regress"
	"github.com/gait-dev/gait/report"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		cmd := &cobra.Command{
			Use:   "report",
			Short: "Reports across runs and gate traces",
			Long: `report summarizes many runpacks and gate traces; "report top" ranks their
riskiest tool calls, "report html" writes a regress result as one HTML page.`,
		}
		cmd.AddCommand(newReportTopCmd(a), newReportHTMLCmd(a))
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

type reportHTMLOptions struct {
	from, out string
}

// reportHTMLResult is what `report html --json` prints.
type reportHTMLResult struct {
	OK         bool   `json:"ok"`
	OutputPath string `json:"output_path"`
	From       string `json:"from"`
	Status     string `json:"status"`
	Fixtures   int    `json:"fixtures"`
	Failed     int    `json:"failed"`
}

func newReportHTMLCmd(a *app) *cobra.Command {
	var o reportHTMLOptions
	cmd := &cobra.Command{
		Use:   "html [--from regress_result.json|dir] [--out gait-out/report.html]",
		Short: "Write a regress result as one self-contained HTML page",
		Long: `report html reads a regress result (--from: the file, or a folder holding
regress_result.json; default regress_result.json) and writes one
self-contained HTML page (--out, default gait-out/report.html): the failures
the pull request comment lists, failing fixtures first, each grader
with its message and diff, the ticket footers with a copy button, and the
timeline of each failing fixture's run (runpack paths resolve from the
result's folder and must stay inside it). Style and script are inline and the
page makes no request, so CI can upload it as an artifact and it opens offline.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return a.runReportHTML(o) },
	}
	cmd.Flags().StringVar(&o.from, "from", "regress_result.json", "regress result document to read")
	cmd.Flags().StringVar(&o.out, "out", filepath.Join(defaultOutDir, "report.html"), "HTML file to write")
	return cmd
}

func (a *app) runReportHTML(o reportHTMLOptions) error {
	if st, err := os.Stat(o.from); err == nil && st.IsDir() {
		o.from = filepath.Join(o.from, "regress_result.json")
	}
	rep, err := regress.ReadResultFile(o.from)
	if err != nil {
		return err
	}
	opts := report.HTMLOptions{BaseDir: filepath.Dir(o.from)}
	if err := atomicfile.Write(o.out, 0o644, func(w io.Writer) error { return report.HTML(w, rep, opts) }); err != nil {
		return fmt.Errorf("writing %s: %w", o.out, err)
	}
	a.emit(reportHTMLResult{OK: true, OutputPath: o.out, From: o.from, Status: rep.Status, Fixtures: rep.Total, Failed: rep.Failed},
		kv("status", rep.Status, "fixtures", fmt.Sprint(rep.Total), "failed", fmt.Sprint(rep.Failed), "output", o.out))
	return nil
}
