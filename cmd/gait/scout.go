package main

import (
	"cmp"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/report"
	"github.com/gait-dev/gait/scout"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		cmd := &cobra.Command{
			Use:   "scout",
			Short: "Inventory a repository's agent tools and MCP servers, and find run families",
			Long: `scout inventories the agent tools and MCP servers a repository defines and
how much of them the gate policies cover ("scout snapshot"), shows how an
inventory drifted ("scout diff"), and groups recorded runs into families of
identical behaviour with a severity ("scout signal"). See docs/scout.md for
exactly what is detected.`,
		}
		cmd.AddCommand(newScoutSnapshotCmd(a), newScoutDiffCmd(a), newScoutSignalCmd(a))
		root.AddCommand(cmd)
	})
}

type scoutSnapshotOptions struct {
	roots, include, exclude, policies string
	out, coverageOut                  string
}

// scoutSnapshotResult is what `scout snapshot --json` prints.
type scoutSnapshotResult struct {
	OK           bool            `json:"ok"`
	SnapshotID   string          `json:"snapshot_id"`
	SnapshotPath string          `json:"snapshot_path"`
	Items        int             `json:"items"`
	Coverage     *scout.Coverage `json:"coverage,omitempty"`
	CoveragePath string          `json:"coverage_path,omitempty"`
}

func newScoutSnapshotCmd(a *app) *cobra.Command {
	var o scoutSnapshotOptions
	cmd := &cobra.Command{
		Use:   "snapshot [--roots <csv>] [--include <csv>] [--exclude <csv>] [--policy <csv>]",
		Short: "Inventory the agent tools and MCP servers under the roots",
		Long: `scout snapshot walks the roots (--roots, default the working directory) and
lists the agent tools and MCP servers defined there, each with a risk level
(low, medium, high, critical): Python and TypeScript/JavaScript tool
definitions, read with a tokenizer so names in comments and strings do not
count, and MCP servers declared in JSON or YAML client configurations
(.mcp.json, .cursor/mcp.json, .vscode/mcp.json, claude_desktop_config.json,
...). --include and --exclude take shell globs matched against each file's
path under its root and its base name. It writes
gait-out/inventory_snapshot_<id>.json (--out); the id derives from the
inventory, so the same tree gives the same bytes.

With --policy (comma-separated gate policy files) it also writes
gait-out/inventory_coverage_<id>.json (--coverage-out): which tools the
policies name, the coverage percentage and the high-risk tools no rule
names.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return a.runScoutSnapshot(o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.roots, "roots", "", "directories to scan, comma-separated (default .)")
	f.StringVar(&o.include, "include", "", "only files matching these globs, comma-separated")
	f.StringVar(&o.exclude, "exclude", "", "skip files and directories matching these globs, comma-separated")
	f.StringVar(&o.policies, "policy", "", "gate policy files to measure coverage against, comma-separated")
	f.StringVar(&o.out, "out", "", "snapshot file to write (default gait-out/inventory_snapshot_<id>.json)")
	f.StringVar(&o.coverageOut, "coverage-out", "", "coverage file to write with --policy (default gait-out/inventory_coverage_<id>.json)")
	return cmd
}

func (a *app) runScoutSnapshot(o scoutSnapshotOptions) error {
	if o.coverageOut != "" && o.policies == "" {
		return exitcode.Invalidf("--coverage-out needs --policy; pass the gate policy files to measure coverage against")
	}
	var policies []*gate.Policy
	for _, p := range splitCSV(o.policies) {
		pol, err := gate.LoadPolicy(p)
		if err != nil {
			return err
		}
		policies = append(policies, pol)
	}
	snap, err := scout.Take(scout.SnapshotOptions{Roots: splitCSV(o.roots), Include: splitCSV(o.include), Exclude: splitCSV(o.exclude), ProducerVersion: producerVersion()})
	if err != nil {
		return err
	}
	res := scoutSnapshotResult{OK: true, SnapshotID: snap.SnapshotID, Items: len(snap.Items),
		SnapshotPath: cmp.Or(o.out, filepath.Join(defaultOutDir, "inventory_snapshot_"+snap.SnapshotID+".json"))}
	if err := scout.WriteFile(res.SnapshotPath, snap); err != nil {
		return err
	}
	text := kv("snapshot", res.SnapshotPath, "snapshot_id", snap.SnapshotID, "items", fmt.Sprint(len(snap.Items)))
	if policies != nil {
		res.Coverage = scout.BuildCoverage(snap, policies)
		res.CoveragePath = cmp.Or(o.coverageOut, filepath.Join(defaultOutDir, "inventory_coverage_"+snap.SnapshotID+".json"))
		if err := scout.WriteFile(res.CoveragePath, res.Coverage); err != nil {
			return err
		}
		c := res.Coverage
		text = append(text, kv("coverage", res.CoveragePath, "discovered", fmt.Sprint(c.DiscoveredTools), "gated", fmt.Sprint(c.GatedTools),
			"high_risk_ungated", fmt.Sprint(c.HighRiskUngatedTools), "coverage_percent", fmt.Sprintf("%.2f", c.CoveragePercent))...)
		for _, id := range c.HighRiskUngatedToolIDs {
			text = append(text, field{"ungated", id})
		}
	}
	a.emit(res, text)
	return nil
}

// scoutDiffResult is what `scout diff --json` prints.
type scoutDiffResult struct {
	OK         bool        `json:"ok"`
	Left       string      `json:"left"`
	Right      string      `json:"right"`
	OutputPath string      `json:"output_path,omitempty"`
	Diff       *scout.Diff `json:"diff"`
}

func newScoutDiffCmd(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "diff <left_snapshot.json> <right_snapshot.json> [--out <diff.json>]",
		Short: "Show how two inventory snapshots differ; exit 2 on drift",
		Long: `scout diff compares two snapshots written by "scout snapshot", item by item
(by id): items added, removed, and changed (name, kind, file, risk level or
tags). It prints the difference, writes it to --out when given, and exits 2
when the inventories differ, 0 when they are the same.`,
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			left, err := scout.ReadSnapshot(args[0])
			if err != nil {
				return err
			}
			right, err := scout.ReadSnapshot(args[1])
			if err != nil {
				return err
			}
			d := scout.DiffSnapshots(left, right)
			if out != "" {
				if err := scout.WriteFile(out, d); err != nil {
					return err
				}
			}
			text := kv("diff", map[bool]string{true: "drift", false: "same"}[d.Drift()], "left", args[0], "right", args[1],
				"added", fmt.Sprint(d.AddedCount), "removed", fmt.Sprint(d.RemovedCount), "changed", fmt.Sprint(d.ChangedCount))
			for _, it := range d.Added {
				text = append(text, field{"added", it.ID + " " + it.RiskLevel + " " + it.Locator})
			}
			for _, it := range d.Removed {
				text = append(text, field{"removed", it.ID + " " + it.RiskLevel + " " + it.Locator})
			}
			for _, c := range d.Changed {
				text = append(text, field{"changed", fmt.Sprintf("%s %s->%s %s->%s", c.ID, c.BeforeRiskLevel, c.AfterRiskLevel, c.BeforeLocator, c.AfterLocator)})
			}
			if out != "" {
				text = append(text, field{"output", out})
			}
			a.emit(scoutDiffResult{OK: !d.Drift(), Left: args[0], Right: args[1], OutputPath: out, Diff: d}, text)
			if d.Drift() {
				return silent(exitcode.VerifyFailed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "diff file to write")
	return cmd
}

// scoutSignalResult is what `scout signal --json` prints.
type scoutSignalResult struct {
	OK          bool                `json:"ok"`
	OutputPath  string              `json:"output_path"`
	RunCount    int                 `json:"run_count"`
	FamilyCount int                 `json:"family_count"`
	TopIssues   int                 `json:"top_issues"`
	Report      *scout.SignalReport `json:"report"`
}

func newScoutSignalCmd(a *app) *cobra.Command {
	var runs, traces, results, out string
	cmd := &cobra.Command{
		Use:   "signal --runs <csv|run_id|dir> [--traces <csv>] [--regress <csv>] [--out <signal_report.json>]",
		Short: "Group runs into families of identical behaviour, ranked by severity",
		Long: `scout signal fingerprints each run (--runs, or arguments: run ids, runpack
zips or directories of runpack_*.zip, comma-separated): its tool sequence,
the classes of those tools, the systems its references came from, its
reason codes and its reference digests. A run's reason codes are its non-ok
result statuses, what the gate answered in the traces that belong to it
(--traces: gait.gate.trace files or directories of trace_*.json; a trace
belongs to the run named by its correlation_id or trace_id) and the reason
codes of its failing regress graders (--regress: regress_result.json
files). Runs with the same fingerprint form a family; each family gets a
severity (low, medium, high) from its riskiest tool class, its size and
its reason codes, the drivers behind it and a suggested next step. It
writes gait-out/scout_signal_report.json (--out) and prints the top issues.`,
		RunE: func(_ *cobra.Command, args []string) error {
			sources := strings.Join(append([]string{runs}, args...), ",")
			if strings.Trim(sources, ", \t") == "" {
				return exitcode.Invalidf("nothing to fingerprint; pass --runs <run_id|runpack.zip|dir>")
			}
			paths, tracePaths, err := report.TopSources(sources, traces, defaultOutDir)
			if err != nil {
				return err
			}
			rep, err := scout.BuildSignal(scout.SignalOptions{Runs: paths, Traces: tracePaths, Regress: splitCSV(results), ProducerVersion: producerVersion()})
			if err != nil {
				return err
			}
			if err := scout.WriteFile(out, rep); err != nil {
				return err
			}
			text := kv("runs", fmt.Sprint(rep.RunCount), "families", fmt.Sprint(rep.FamilyCount), "top_issues", fmt.Sprint(len(rep.TopIssues)), "output", out)
			for _, is := range rep.TopIssues {
				text = append(text, field{"issue", fmt.Sprintf("%d %s severity=%s score=%d runs=%d canonical=%s drivers=%s",
					is.Rank, is.FamilyID, is.SeverityLevel, is.SeverityScore, is.Count, is.CanonicalRunID, strings.Join(is.Drivers, ","))})
			}
			a.emit(scoutSignalResult{OK: true, OutputPath: out, RunCount: rep.RunCount, FamilyCount: rep.FamilyCount, TopIssues: len(rep.TopIssues), Report: rep}, text)
			return nil
		},
	}
	cmd.Flags().StringVar(&runs, "runs", "", "runpacks: run ids, zips or directories, comma-separated")
	cmd.Flags().StringVar(&traces, "traces", "", "gate traces: trace files or directories of trace_*.json, comma-separated")
	cmd.Flags().StringVar(&results, "regress", "", "regress result documents (regress_result.json), comma-separated")
	cmd.Flags().StringVar(&out, "out", filepath.Join(defaultOutDir, "scout_signal_report.json"), "report file to write")
	return cmd
}
