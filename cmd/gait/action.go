package main

import (
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/actions"
	"github.com/gait-dev/gait/internal/exitcode"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		cmd := &cobra.Command{
			Use:   "action",
			Short: "Run gait as a GitHub Action",
			Long: `action holds the entry points of gait's GitHub Actions; action.yml at the
repository root runs "gait action regress" in the Docker image, and a
workflow_run workflow runs "gait action comment" to comment on pull requests
from forks.`,
		}
		cmd.AddCommand(newActionRegressCmd(a), newActionCommentCmd(a))
		root.AddCommand(cmd)
	})
}

func newActionRegressCmd(a *app) *cobra.Command {
	var merge string
	cmd := &cobra.Command{
		Use:   "regress",
		Short: "Run regress in a workflow and report to the pull request",
		Long: `action regress is the gait-regress GitHub Action. It reads the inputs
(INPUT_CONFIG, INPUT_WORKDIR, INPUT_JUNIT, INPUT_COMMENT, INPUT_TOKEN,
INPUT_FAIL-ON-REGRESSION, INPUT_ARGS, INPUT_HTML) and the event the runner
provides, runs regress as "gait regress run" does (agent: block included),
writes JUnit, the result document and the HTML report (report.html next to
the JUnit report; INPUT_HTML names another path, or false for none), sets
the step outputs, writes the job summary, annotates
each failing fixture's fixture.json, and on pull requests creates or updates
one comment. Values from the pull request's files are rendered inert. Exit 0
when all fixtures pass, 5 when any fails (0 with fail-on-regression: false), 6
on bad input, including an agent: command that cannot run here (in the Docker
image only gait exists: run agents on the runner with the setup action).

In a matrix, INPUT_SHARD (i/n) grades one shard and writes only the JUnit
report and result document (no summary, annotations or comment); a final job
with INPUT_MERGE or --merge <dir> (the downloaded shard results) merges them
and reports once, as one unsharded run would.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rt := &actions.Runtime{
				Getenv:          a.getenv,
				Stdout:          a.out,
				HTTPClient:      &http.Client{Timeout: 30 * time.Second},
				Sleep:           time.Sleep,
				Evaluator:       a.policyEvaluator(),
				ProducerVersion: producerVersion(),
				WriteResults:    writeRegressOutputs,
				Merge:           merge,
			}
			res, err := rt.Run(cmd.Context())
			if err != nil {
				return err
			}
			if res.ExitCode != 0 {
				return silent(exitcode.Code(res.ExitCode))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&merge, "merge", "", "merge the shard results in this folder and report them, instead of running regress (as the merge input)")
	return cmd
}

func newActionCommentCmd(a *app) *cobra.Command {
	var opts actions.CommentOptions
	cmd := &cobra.Command{
		Use:   "comment --from <dir|regress_result.json>",
		Short: "Post a regress result from another workflow run to its pull request",
		Long: `action comment posts the pull request comment for results that a
pull_request workflow uploaded, from a workflow triggered by workflow_run: that
workflow has a write token even for pull requests from forks, and never checks
out or runs their code. It reads the result document (--from: the downloaded
artifact's directory, or regress_result.json itself; at most 8 MiB), finds the
pull request in the event's workflow_run.pull_requests, or, for a fork, in the
artifact's pull_request.json once the API confirms that the pull request's head
is the commit the run tested, and creates or updates the same one comment
"gait action regress" keeps for --config. The token is INPUT_TOKEN or
GITHUB_TOKEN, masked and never printed. A run not triggered by a pull request is
skipped with a notice (exit 0). Exit 6 on bad input: not a workflow_run event,
a missing, oversized or invalid result document or pull_request.json, a head
commit that does not match; exit 1 when the GitHub API fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.From == "" {
				return exitcode.Invalidf("--from is required: the directory of the downloaded artifact, or its regress_result.json")
			}
			rt := &actions.Runtime{
				Getenv:     a.getenv,
				Stdout:     a.out,
				HTTPClient: &http.Client{Timeout: 30 * time.Second},
				Sleep:      time.Sleep,
			}
			_, err := rt.Comment(cmd.Context(), opts)
			return err
		},
	}
	cmd.Flags().StringVar(&opts.From, "from", "", "the downloaded artifact: a directory with regress_result.json (and pull_request.json), or the result document")
	cmd.Flags().StringVar(&opts.Config, "config", actions.DefaultConfig, "the config the regress job ran, relative to the repository root (workdir/config); it names the comment")
	return cmd
}
