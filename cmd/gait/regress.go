package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/regress"
	"github.com/gait-dev/gait/report"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		cmd := &cobra.Command{
			Use:   "regress",
			Short: "Turn runs into CI regression fixtures and grade them",
			Long: `regress is the CI harness: bootstrap/init/add turn a runpack into a fixture
under fixtures/<name>/ listed in gait.yaml; run replays every fixture with
stubbed tools, grades it, and exits 5 when any fixture regressed; run --shard
grades one shard of them and merge puts the shards back together.`,
		}
		cmd.AddCommand(newRegressInitCmd(a, "init"), newRegressInitCmd(a, "add"), newRegressBootstrapCmd(a), newRegressRunCmd(a), newRegressMergeCmd(a))
		root.AddCommand(cmd)
	})
}

type regressRunFlags struct {
	config, output, junit string
	fixtures              []string
	parallel              int
	agent                 *regress.AgentConfig // from --agent -- <cmd…>
	shard                 shardFlags
	// v1's grading flags.
	allowNondeterministic, contextConformance, allowContextRuntimeDrift bool
}

// agentFlags are the candidate-agent flags of regress run.
type agentFlags struct {
	enabled                               bool
	transport, timeout, match, trajectory string
}

func (f *agentFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.enabled, "agent", false, "run the agent command given after -- against each fixture's recorded tools")
	cmd.Flags().StringVar(&f.transport, "agent-transport", "", "how the agent reaches the tools: http (GAIT_MCP_URL) or stdio")
	cmd.Flags().StringVar(&f.timeout, "agent-timeout", "", "kill the agent after this long (default 60s)")
	cmd.Flags().StringVar(&f.match, "match", "", "replay matching: exact, tool-name or ignore-args:<paths>")
	cmd.Flags().StringVar(&f.trajectory, "trajectory", "", "tool sequence grading: exact, subset (in order) or unordered")
}

// config builds the agent block from --agent and the command after --, or
// nil when --agent is not given.
func (f *agentFlags) config(cmd *cobra.Command, args []string) (*regress.AgentConfig, error) {
	dash := cmd.ArgsLenAtDash()
	if !f.enabled {
		if len(args) > 0 {
			return nil, exitcode.Invalidf("unexpected arguments %q; to run a candidate agent pass --agent -- <command…>", args)
		}
		return nil, nil
	}
	if dash < 0 || dash >= len(args) {
		return nil, exitcode.Invalidf("--agent needs the agent command after --, as in `gait regress run --agent -- ./my-agent --flag`")
	}
	if dash > 0 {
		return nil, exitcode.Invalidf("unexpected arguments %q before --", args[:dash])
	}
	return &regress.AgentConfig{Command: args[dash], Args: args[dash+1:], Transport: f.transport, Timeout: f.timeout,
		Match: f.match, Trajectory: f.trajectory}, nil
}

func (f *regressRunFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.config, "config", regress.DefaultConfig, "regress config")
	f.addOutputs(cmd)
	cmd.Flags().IntVar(&f.parallel, "parallel", 0, "fixtures graded at once (default: number of CPUs)")
}

// addOutputs adds the flags run and bootstrap share: outputs and v1's
// grading flags.
func (f *regressRunFlags) addOutputs(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.output, "output", "regress_result.json", "result document to write")
	cmd.Flags().StringVar(&f.junit, "junit", "", "also write a JUnit XML report here")
	cmd.Flags().BoolVar(&f.contextConformance, "context-conformance", false, "require context evidence (refs.json context_set_digest) of every fixture")
	cmd.Flags().BoolVar(&f.allowContextRuntimeDrift, "allow-context-runtime-drift", false, "let a context change in retrieval details only (same content) pass")
	cmd.Flags().BoolVar(&f.allowNondeterministic, "allow-nondeterministic", false, "accepted for Gait v1 workflows; Gait grades only deterministic fields")
}

type initFlags struct {
	from, name, policy, config, checkpoint string
}

func (f *initFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.from, "from", "", "run id, runpack, run or job pack, or session chain (.json) to turn into a fixture")
	cmd.Flags().StringVar(&f.checkpoint, "checkpoint", "latest", "session chain checkpoint: latest or a 1-based index")
	cmd.Flags().StringVar(&f.name, "name", "", "fixture name (default: the run id)")
	cmd.Flags().StringVar(&f.policy, "policy", "", "policy file whose verdicts the fixture pins")
	cmd.Flags().StringVar(&f.config, "config", regress.DefaultConfig, "regress config to create or extend")
}

func (f *initFlags) options(a *app) (regress.InitOptions, error) {
	if f.from == "" {
		return regress.InitOptions{}, exitcode.Invalidf("no source run given; pass --from <run_id|runpack.zip>")
	}
	return regress.InitOptions{
		From: f.from, Name: f.name, Policy: f.policy, ConfigPath: f.config, OutDir: defaultOutDir,
		Evaluator: a.policyEvaluator(), Checkpoint: f.checkpoint,
	}, nil
}

// initText renders an init result; with next, it ends with the run command.
// initFixture creates or extends the fixture the flags describe.
func (f *initFlags) initFixture(a *app) (regress.InitResult, error) {
	opts, err := f.options(a)
	if err != nil {
		return regress.InitResult{}, err
	}
	return regress.Init(opts)
}

func initText(res regress.InitResult, next bool) []field {
	text := kv("fixture", res.FixtureName, "fixture_dir", res.FixtureDir, "run_id", res.RunID,
		"runpack", res.RunpackPath, "config", res.ConfigPath, "changed", fmt.Sprint(res.Changed))
	if res.Replaced {
		text = append(text, field{"replaced", "true (fixture " + res.FixtureName + " now holds the new run; the old runpack and fixture.json were overwritten)"})
	}
	if next {
		text = append(text, field{"next", "gait regress run --config " + res.ConfigPath + " --junit gait-out/junit.xml"})
	}
	return text
}

func newRegressInitCmd(a *app, verb string) *cobra.Command {
	var f initFlags
	short := "Create a fixture from a run and start gait.yaml"
	if verb == "add" {
		short = "Add a fixture from a run to gait.yaml"
	}
	cmd := &cobra.Command{
		Use:   verb + " --from <run_id|runpack.zip>",
		Short: short,
		Long: `regress ` + verb + ` verifies the source runpack, copies it to
fixtures/<name>/runpack.zip (name: the run id in lower case, or --name),
writes fixtures/<name>/fixture.json with the tool sequence, the verdicts the
run's results record, the result digests and, under --policy, the gate's
verdicts, and lists the fixture in gait.yaml, creating it when needed.
A fixture of the same name is replaced by the new run (the output says
replaced=true); adding the same runpack again changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			res, err := f.initFixture(a)
			if err != nil {
				return err
			}
			a.emit(res, initText(res, true))
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

func newRegressBootstrapCmd(a *app) *cobra.Command {
	var f initFlags
	var rf regressRunFlags
	cmd := &cobra.Command{
		Use:   "bootstrap --from <run_id|runpack.zip>",
		Short: "Create a fixture from a run and grade it (init + run)",
		Long: `regress bootstrap turns an incident's run into a CI regression in one step:
it does what "regress init" does, then "regress run" on the config. Exit 0 when
every fixture passes, 5 when any fails.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			res, err := f.initFixture(a)
			if err != nil {
				return err
			}
			rf.config = f.config
			if !a.json {
				a.emit(nil, initText(res, false))
			}
			return a.runRegress(rf)
		},
	}
	f.add(cmd)
	rf.addOutputs(cmd)
	return cmd
}

func newRegressRunCmd(a *app) *cobra.Command {
	var rf regressRunFlags
	var af agentFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Replay and grade every fixture",
		Long: `regress run replays every fixture in the config with stubbed tools (no real
tool runs) and grades it with Gait v1's graders (context_conformance when
asked, diff, expected_exit_code, schema_validation, trajectory) and then
Gait's (integrity, results, policy: gate verdicts under the fixture's
policy). It writes the result document (--output) and, with --junit, a JUnit
report. Output is byte-identical for identical inputs.

With --agent -- <command…> (or an agent: block in gait.yaml) it also runs a
candidate agent per fixture against an MCP replay of the fixture's recorded
tool answers (GAIT_MCP_URL for http, the agent's stdin/stdout for stdio),
kills it at the timeout, and grades what it did: agent_run, agent_trajectory,
agent_args, agent_unexpected, agent_unused and agent_verdicts (gate verdicts
under the fixture's policy). No call the agent makes reaches a real tool.
Exit 0 when all pass, 5 when any fixture regressed, 6 when the config or a
fixture cannot be read (no fixtures, unknown keys, a missing or broken
fixture.json or runpack, invalid expectations).`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			agent, err := af.config(cmd, args)
			if err != nil {
				return err
			}
			rf.agent = agent
			return a.runRegress(rf)
		},
	}
	rf.add(cmd)
	af.add(cmd)
	cmd.Flags().StringSliceVar(&rf.fixtures, "fixture", nil, "grade only these fixtures (repeatable)")
	rf.shard.add(cmd)
	return cmd
}

// regressSummary is what `regress run --json` prints: Gait v1's fields with
// v1's meaning (graders counts v1's graders, failed the failed graders),
// then Gait's own.
type regressSummary struct {
	OK               bool     `json:"ok"`
	Status           string   `json:"status"`
	FixtureSet       string   `json:"fixture_set"`
	Graders          int      `json:"graders"`
	Failed           int      `json:"failed,omitempty"`
	TopFailureReason string   `json:"top_failure_reason,omitempty"`
	NextCommand      string   `json:"next_command,omitempty"`
	ArtifactPaths    []string `json:"artifact_paths"`
	Output           string   `json:"output"`
	JUnit            string   `json:"junit,omitempty"`

	GaitGraders    int                     `json:"gait_graders"`
	FixturesTotal  int                     `json:"fixtures_total"`
	FixturesPassed int                     `json:"fixtures_passed"`
	FixturesFailed int                     `json:"fixtures_failed"`
	Fixtures       []regress.FixtureResult `json:"fixtures"`
}

func (a *app) runRegress(rf regressRunFlags) error {
	shard, err := rf.shard.options(a)
	if err != nil {
		return err
	}
	prog := a.newProgress("regress: graded")
	opts := regress.RunOptions{
		Fixtures: rf.fixtures, Parallel: rf.parallel, Evaluator: a.policyEvaluator(), ProducerVersion: producerVersion(),
		ContextConformance: rf.contextConformance, AllowContextRuntimeDrift: rf.allowContextRuntimeDrift,
		AllowNondeterministic: rf.allowNondeterministic, Progress: prog.update, Shard: shard,
	}
	var out *regressStream
	if !a.json {
		// The outputs are written as fixtures are graded; --json lists
		// every fixture, so it keeps the whole report instead.
		if out, err = newRegressStream(rf.output, rf.junit); err != nil {
			return err
		}
		defer out.close()
		opts.Each = out.add
	}
	rep, err := regress.RunWithAgent(rf.config, opts, rf.agent)
	prog.done()
	if err != nil {
		return err
	}
	for _, n := range rep.Notices {
		fmt.Fprintf(a.errOut, "gait: notice: %s\n", n)
	}
	if out != nil {
		if err := out.finish(rep); err != nil {
			return err
		}
	} else if err := writeRegressOutputs(rep, rf.output, rf.junit); err != nil {
		return err
	}
	return a.summarizeRegress(rep, rf)
}

// emitRegress writes a report's outputs and prints its summary; exit 5
// when a fixture failed.
func (a *app) emitRegress(rep *regress.Report, rf regressRunFlags) error {
	if err := writeRegressOutputs(rep, rf.output, rf.junit); err != nil {
		return err
	}
	return a.summarizeRegress(rep, rf)
}

// summarizeRegress prints a report's summary; exit 5 when a fixture
// failed.
func (a *app) summarizeRegress(rep *regress.Report, rf regressRunFlags) error {
	if a.json {
		v1, gait, failed := rep.GraderCounts()
		sum := regressSummary{OK: rep.Failed == 0, Status: rep.Status, FixtureSet: rep.FixtureSet, Graders: v1, Failed: failed,
			TopFailureReason: rep.TopFailureReason(), ArtifactPaths: []string{}, Output: rf.output, JUnit: rf.junit,
			GaitGraders: gait, FixturesTotal: rep.Total, FixturesPassed: rep.Passed, FixturesFailed: rep.Failed, Fixtures: rep.Fixtures}
		for _, p := range []string{rf.output, rf.junit} {
			if p != "" {
				sum.ArtifactPaths = append(sum.ArtifactPaths, p)
			}
		}
		if rep.Failed > 0 {
			sum.NextCommand = "gait regress run --json"
			if rf.config != regress.DefaultConfig {
				sum.NextCommand = "gait regress run --config " + rf.config + " --json"
			}
		}
		a.writeJSON(sum)
	} else {
		var buf bytes.Buffer
		_ = report.Text(&buf, rep)
		fmt.Fprint(a.out, buf.String())
		fmt.Fprintf(a.out, "output=%s\n", rf.output)
		if rf.junit != "" {
			fmt.Fprintf(a.out, "junit=%s\n", rf.junit)
		}
	}
	if rep.Failed > 0 {
		return silent(exitcode.RegressFailed)
	}
	return nil
}

// writeRegressOutputs writes the result document and, when asked, JUnit,
// side by side.
func writeRegressOutputs(rep *regress.Report, output, junitPath string) error {
	var docErr error
	var wg sync.WaitGroup
	if output != "" {
		wg.Go(func() {
			docErr = atomicfile.Write(output, 0o644, func(w io.Writer) error { return regress.WriteDocument(w, rep) })
		})
	}
	var junitErr error
	if junitPath != "" {
		junitErr = atomicfile.Write(junitPath, 0o644, func(w io.Writer) error { return report.JUnit(w, rep) })
	}
	wg.Wait()
	return errors.Join(docErr, junitErr)
}

// regressStream writes a run's outputs fixture by fixture, so a run's
// memory does not grow with its fixtures; finish puts them in place.
type regressStream struct {
	output, junitPath string
	doc               *regress.DocumentStream
	junit             *report.JUnitStream
}

func newRegressStream(output, junitPath string) (*regressStream, error) {
	s := &regressStream{output: output, junitPath: junitPath}
	var err error
	if output != "" {
		if s.doc, err = regress.NewDocumentStream(spoolDir(output)); err != nil {
			return nil, err
		}
	}
	if junitPath != "" {
		if s.junit, err = report.NewJUnitStream(spoolDir(junitPath)); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

// spoolDir is the folder of an output, when it exists, or the system's
// temporary folder.
func spoolDir(output string) string {
	dir := filepath.Dir(output)
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return dir
	}
	return ""
}

func (s *regressStream) add(rep *regress.Report, f *regress.FixtureResult) error {
	if s.doc != nil {
		if err := s.doc.Add(f); err != nil {
			return err
		}
	}
	if s.junit != nil {
		return s.junit.Add(rep, f)
	}
	return nil
}

func (s *regressStream) finish(rep *regress.Report) error {
	if s.doc != nil {
		if err := atomicfile.Write(s.output, 0o644, func(w io.Writer) error { return s.doc.Finish(w, rep) }); err != nil {
			return err
		}
	}
	if s.junit != nil {
		return atomicfile.Write(s.junitPath, 0o644, func(w io.Writer) error { return s.junit.Finish(w, rep) })
	}
	return nil
}

func (s *regressStream) close() {
	if s.doc != nil {
		_ = s.doc.Close()
	}
	if s.junit != nil {
		_ = s.junit.Close()
	}
}

// policyEvaluator is how regress re-evaluates intents under a policy.
func (a *app) policyEvaluator() regress.PolicyEvaluator { return regress.NewGateEvaluator() }
