package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/pack"
)

func newRunReduceCmd(a *app) *cobra.Command {
	var from, predicate, out, reportOut string
	cmd := &cobra.Command{
		Use:   "reduce --from <run_id|path> --predicate missing_result|non_ok_status",
		Short: "Shrink a failing runpack to the smallest run that still fails",
		Long: `run reduce shrinks a failing runpack to a smallest run that still fails the
predicate (missing_result: an intent has no result; non_ok_status: a result's
status is not ok). It minimises with delta debugging over the intents, keeping
each kept intent's result, the intents and reference receipts its args name,
and the timeline events that name only kept intents.

It writes runpack_<run_id>_reduced_<predicate>.zip next to the input (--out)
and a gait.runpack.reduce_report next to it (--report-out) counting intents,
results, refs and timeline events before and after. It refuses (exit 6) a
predicate the run does not fail, and a reduced run that no longer fails.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			rp, path, err := openRunpackArg(from, args)
			if err != nil {
				return err
			}
			reduced, rep, err := pack.Reduce(rp, predicate, pack.RecordOptions{ProducerVersion: producerVersion()})
			if err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join(filepath.Dir(path), fmt.Sprintf("runpack_%s_reduced_%s.zip", rp.Manifest.RunID, predicate))
			}
			if reportOut == "" {
				reportOut = out + ".reduce_report.json"
			}
			if err := reduced.WriteFile(out); err != nil {
				return err
			}
			if err := atomicfile.WriteJSON(reportOut, rep, 0o644); err != nil {
				return err
			}
			a.emit(struct {
				OK           bool              `json:"ok"`
				RunID        string            `json:"run_id"`
				Input        string            `json:"input"`
				Output       string            `json:"output"`
				ReportPath   string            `json:"report_path"`
				Predicate    string            `json:"predicate"`
				ReducedRunID string            `json:"reduced_run_id"`
				Report       pack.ReduceReport `json:"report"`
			}{true, rp.Manifest.RunID, path, out, reportOut, predicate, rep.ReducedRunID, rep},
				kv("run_id", rp.Manifest.RunID, "reduced_run_id", rep.ReducedRunID, "output", out, "report", reportOut,
					"intents", fmt.Sprintf("%d -> %d", rep.OriginalIntentCount, rep.ReducedIntentCount),
					"steps_removed", fmt.Sprint(rep.StepsRemoved),
					"refs", fmt.Sprintf("%d -> %d", rep.OriginalRefCount, rep.ReducedRefCount),
					"timeline_events", fmt.Sprintf("%d -> %d", rep.OriginalTimelineCount, rep.ReducedTimelineCount),
					"selected_intent_id", rep.SelectedIntentID, "still_failing", fmt.Sprint(rep.StillFailing),
					"next", "gait verify "+out, "next", "gait regress add --from "+out))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "run id or runpack path")
	f.StringVar(&predicate, "predicate", pack.PredicateMissingResult, "missing_result or non_ok_status")
	f.StringVar(&out, "out", "", "reduced runpack path (default: next to the input)")
	f.StringVar(&reportOut, "report-out", "", "reduce report path (default: <out>.reduce_report.json)")
	return cmd
}
