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
repository root runs "gait action regress" in the Docker image.`,
		}
		cmd.AddCommand(newActionRegressCmd(a))
		root.AddCommand(cmd)
	})
}

func newActionRegressCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "regress",
		Short: "Run regress in a workflow and report to the pull request",
		Long: `action regress is the gait-regress GitHub Action. It reads the inputs
(INPUT_CONFIG, INPUT_WORKDIR, INPUT_JUNIT, INPUT_COMMENT, INPUT_TOKEN,
INPUT_FAIL-ON-REGRESSION, INPUT_ARGS) and the event the runner provides, runs
regress as "gait regress run" does (agent: block included), writes JUnit and
the result document, sets the step outputs, writes the job summary, annotates
each failing fixture's fixture.json, and on pull requests creates or updates
one comment. Values from the pull request's files are rendered inert. Exit 0
when all fixtures pass, 5 when any fails (0 with fail-on-regression: false), 6
on bad input, including an agent: command that cannot run here (in the Docker
image only gait exists: run agents on the runner with the setup action).`,
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
}
