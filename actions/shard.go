package actions

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/sethvargo/go-githubactions"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/regress"
	"github.com/gait-dev/gait/report"
)

// readShardInputs reads the shard and merge inputs.
func (in *inputs) readShardInputs(ga *githubactions.Action) error {
	if s := ga.GetInput(InputShard); s != "" {
		sh, err := regress.ParseShard(s)
		if err != nil {
			return exitcode.Invalidf("input %v", err)
		}
		in.shard = &sh
	}
	if m := ga.GetInput(InputMerge); m != "" {
		in.merge = under(in.workdir, m)
	}
	return nil
}

// grade runs regress (one shard of it under the shard input), or merges
// the shards' results under merge, and logs the outcome.
func (r *Runtime) grade(ga *githubactions.Action, in *inputs) (*regress.Report, error) {
	var rep *regress.Report
	var err error
	if in.merge != "" {
		ga.Group("gait regress merge " + in.merge)
		rep, err = regress.MergeFiles([]string{in.merge})
	} else {
		title := "gait regress run " + in.config
		if in.shard != nil {
			in.shard.Commit = r.Getenv("GITHUB_SHA")
			title += fmt.Sprintf(" --shard %d/%d", in.shard.Index, in.shard.Count)
		}
		ga.Group(title)
		rep, err = regress.RunWithAgent(in.config, regress.RunOptions{
			Fixtures: in.fixtures, Parallel: in.parallel, Evaluator: r.Evaluator, ProducerVersion: r.ProducerVersion,
			Shard: in.shard,
		}, nil)
	}
	if err == nil {
		var buf bytes.Buffer
		_ = report.Text(&buf, rep)
		r.printInert(ga, buf.String())
	}
	ga.EndGroup()
	return rep, err
}

// shardDone ends a shard's run: outputs and a log line, no summary,
// annotations or comment (the merge job makes those once).
func (r *Runtime) shardDone(ga *githubactions.Action, rep *regress.Report, res *Result, in *inputs) (*Result, error) {
	if err := r.setOutputs(ga, map[string]string{
		OutputStatus:      res.Status,
		OutputExitCode:    strconv.Itoa(res.RegressCode),
		OutputJUnitPath:   res.JUnitPath,
		OutputResultPath:  res.ResultPath,
		OutputFailedCount: strconv.Itoa(res.Failed),
		OutputSummary: fmt.Sprintf("gait regress shard %d/%d %s: %d fixtures, %d passed, %d failed",
			in.shard.Index, in.shard.Count, rep.Status, rep.Total, rep.Passed, rep.Failed),
	}); err != nil {
		return nil, err
	}
	ga.Infof("gait regress: shard %d/%d status=%s failed=%d junit=%s result=%s; upload the result and merge the shards in a final job",
		in.shard.Index, in.shard.Count, res.Status, res.Failed, res.JUnitPath, res.ResultPath)
	return res, nil
}
