package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gait-dev/gait/internal/scripttest"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"gait": func() {
			a := &app{in: os.Stdin, out: os.Stdout, errOut: os.Stderr, getenv: os.Getenv, now: scriptClock(os.Getenv("GAIT_TEST_NOW"))}
			os.Exit(runApp(a, os.Args[1:]))
		},
	})
}

// scriptClock is the clock of a script's gait: the fixed RFC 3339 time in
// the script's GAIT_TEST_NOW (set with env), or the wall clock. Only the
// test binary reads it, so window-based limits are deterministic there.
func scriptClock(fixed string) func() time.Time {
	t, err := time.Parse(time.RFC3339, fixed)
	if err != nil {
		return time.Now
	}
	return func() time.Time { return t }
}

// TestScripts runs the CLI end-to-end scripts in testdata/script on the
// repository's own inputs ($REPO is the module root, $TESTDATA its
// testdata/). `gait-exit N args` checks an exact exit code; `schema NAME
// FILE` validates an output against schemas/NAME. GAIT_UPDATE=1 rewrites the
// expected files in the scripts.
func TestScripts(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	agent := filepath.Join(t.TempDir(), "scripted-agent")
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("GAIT_UPDATE") == "1",
		Cmds:                scriptCmds(agent),
		Setup: func(env *testscript.Env) error {
			env.Setenv("REPO", repo)
			env.Setenv("TESTDATA", filepath.Join(repo, "testdata"))
			// $AGENT is examples/agents/scripted, for scripts that run a
			// candidate agent; it is built on first use.
			env.Setenv("AGENT", agent)
			return nil
		},
	})
}

// scriptCmds are the shared script commands plus build-agent.
func scriptCmds(agent string) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	cmds := scripttest.Cmds()
	cmds["build-agent"] = func(ts *testscript.TestScript, _ bool, _ []string) { buildAgent(ts, agent) }
	return cmds
}

var agentBuild struct {
	once sync.Once
	err  error
}

// buildAgent builds examples/agents/scripted to path once per test run.
func buildAgent(ts *testscript.TestScript, path string) {
	agentBuild.once.Do(func() {
		out, err := exec.Command("go", "build", "-o", path, "../../examples/agents/scripted").CombinedOutput()
		if err != nil {
			agentBuild.err = fmt.Errorf("go build examples/agents/scripted: %w\n%s", err, out)
		}
	})
	ts.Check(agentBuild.err)
}
