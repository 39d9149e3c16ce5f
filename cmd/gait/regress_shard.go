package main

import (
	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/regress"
)

// shardFlags are regress run's sharding flags.
type shardFlags struct {
	shard, commit string
	timings       []string
}

func (f *shardFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.shard, "shard", "", "grade only shard i of n (as in 2/4); merge the shards with `gait regress merge`")
	cmd.Flags().StringSliceVar(&f.timings, "timings", nil, "balance shards by the grading times that earlier shard results (files or folders) recorded")
	cmd.Flags().StringVar(&f.commit, "commit", "", "commit the shard grades, so merge refuses shards of different commits (default $GITHUB_SHA)")
}

// options is the shard to run, or nil without --shard.
func (f *shardFlags) options(a *app) (*regress.Shard, error) {
	if f.shard == "" {
		if len(f.timings) > 0 || f.commit != "" {
			return nil, exitcode.Invalidf("--timings and --commit need --shard i/n")
		}
		return nil, nil
	}
	sh, err := regress.ParseShard(f.shard)
	if err != nil {
		return nil, exitcode.Invalidf("--%v", err)
	}
	if sh.Timings, err = regress.ReadTimings(f.timings); err != nil {
		return nil, err
	}
	sh.Commit = f.commit
	if sh.Commit == "" {
		sh.Commit = a.getenv("GITHUB_SHA")
	}
	return &sh, nil
}

func newRegressMergeCmd(a *app) *cobra.Command {
	rf := regressRunFlags{config: regress.DefaultConfig}
	cmd := &cobra.Command{
		Use:   "merge <result.json|folder>...",
		Short: "Merge the results of every shard into one result",
		Long: `regress merge reads the result documents that "gait regress run --shard i/n"
wrote for every shard of one run (files, or folders holding
regress_result*.json, as actions/download-artifact lays them out) and writes
the result document (--output) and JUnit (--junit) that one unsharded run
on the same fixtures writes, byte for byte. Exit 0 when every fixture
passed, 5 when any failed, 6 when a document is not a shard's, comes from
another config, commit or gait, or when shards overlap or one is missing.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			rep, err := regress.MergeFiles(args)
			if err != nil {
				return err
			}
			return a.emitRegress(rep, rf)
		},
	}
	cmd.Flags().StringVar(&rf.output, "output", "regress_result.json", "result document to write")
	cmd.Flags().StringVar(&rf.junit, "junit", "", "also write a JUnit XML report here")
	return cmd
}
