package regress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/mcp"
	"github.com/gait-dev/gait/pack"
)

// Transports a candidate agent can reach the replayed tools over.
const (
	TransportHTTP  = "http"
	TransportStdio = "stdio"
)

// Trajectory modes: how the candidate's tool sequence is compared with the
// recording.
const (
	TrajectoryExact     = "exact"     // same calls, same order
	TrajectorySubset    = "subset"    // an in-order subset: calls may be left out, not added or reordered
	TrajectoryUnordered = "unordered" // same calls, any order
)

// DefaultAgentTimeout bounds one candidate run when the config sets none.
const DefaultAgentTimeout = 60 * time.Second

// Candidate grader names.
const (
	GraderAgentRun        = "agent_run"
	GraderAgentTrajectory = "agent_trajectory"
	GraderAgentArgs       = "agent_args"
	GraderAgentUnexpected = "agent_unexpected"
	GraderAgentUnused     = "agent_unused"
	GraderAgentVerdicts   = "agent_verdicts"
)

// AgentConfig is gait.yaml's optional agent block: the candidate agent run
// against each fixture's recorded tool answers.
//
//	agent:
//	  command: ./bin/agent
//	  args: [--task, refund]
//	  env: {MODE: ci}
//	  transport: http          # or stdio
//	  timeout: 60s
//	  match: exact             # or tool-name, or ignore-args:$.request_id
//	  trajectory: exact        # or subset, unordered
type AgentConfig struct {
	Command    string            `json:"command" yaml:"command"`
	Args       []string          `json:"args,omitempty" yaml:"args,omitempty"`
	Env        map[string]string `json:"env,omitempty" yaml:"env,omitempty"`
	Transport  string            `json:"transport,omitempty" yaml:"transport,omitempty"`
	Timeout    string            `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	Match      string            `json:"match,omitempty" yaml:"match,omitempty"`
	Trajectory string            `json:"trajectory,omitempty" yaml:"trajectory,omitempty"`
}

// Check reports the first problem with the block.
func (a *AgentConfig) Check() error {
	if strings.TrimSpace(a.Command) == "" {
		return errors.New("command is empty; name the agent to run")
	}
	switch a.Transport {
	case "", TransportHTTP, TransportStdio:
	default:
		return fmt.Errorf("transport %q is not http or stdio", a.Transport)
	}
	if _, err := a.timeout(); err != nil {
		return err
	}
	if _, err := mcp.ParseMatch(a.Match); err != nil {
		return err
	}
	if _, err := a.trajectory(); err != nil {
		return err
	}
	return nil
}

func (a *AgentConfig) timeout() (time.Duration, error) {
	if a.Timeout == "" {
		return DefaultAgentTimeout, nil
	}
	d, err := time.ParseDuration(a.Timeout)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("timeout %q is not a positive duration like 60s", a.Timeout)
	}
	return d, nil
}

func (a *AgentConfig) trajectory() (string, error) {
	switch a.Trajectory {
	case "", TrajectoryExact:
		return TrajectoryExact, nil
	case TrajectorySubset, "in-order-subset", "in_order_subset":
		return TrajectorySubset, nil
	case TrajectoryUnordered:
		return TrajectoryUnordered, nil
	}
	return "", fmt.Errorf("trajectory %q is not exact, subset or unordered", a.Trajectory)
}

// RunWithAgent is Run, plus, when an agent is configured (agent, or else
// the config's agent block), a candidate run per fixture: the agent is
// started against a replay of the fixture's recorded tools and graded with
// the agent_* graders. Without an agent it is Run.
func RunWithAgent(configPath string, opts RunOptions, agent *AgentConfig) (*Report, error) {
	cfg, err := LoadConfig(configPath)
	if err != nil {
		return nil, err
	}
	if agent == nil {
		agent = cfg.Agent
	} else if err := agent.Check(); err != nil {
		return nil, exitcode.Invalidf("agent: %v", err)
	}
	if agent == nil {
		return Run(configPath, opts)
	}
	// The agent's graders join each fixture's after the run: results are
	// handed to Each once they are complete.
	each := opts.Each
	opts.Each = nil
	rep, err := Run(configPath, opts)
	if err != nil {
		return nil, err
	}
	configDir := filepath.Dir(configPath)
	workers := max(opts.Parallel, 1)
	if opts.Parallel <= 0 {
		workers = 2
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for i := range rep.Fixtures {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f := &rep.Fixtures[i]
			start := time.Now()
			f.Graders = append(f.Graders, gradeCandidate(configDir, f, agent, opts.Evaluator)...)
			f.Elapsed += time.Since(start)
		}()
	}
	wg.Wait()
	rep.Passed, rep.Failed, rep.Status = 0, 0, StatusPass
	for i := range rep.Fixtures {
		f := &rep.Fixtures[i]
		f.Status = StatusPass
		if len(f.Failed()) > 0 {
			f.Status = StatusFail
		}
		if f.Status == StatusPass {
			rep.Passed++
		} else {
			rep.Failed++
			rep.Status = StatusFail
		}
	}
	rep.recordShard()
	rep.Shard.addAgent(agent)
	if each != nil {
		failed := []FixtureResult{}
		for i := range rep.Fixtures {
			if err := each(rep, &rep.Fixtures[i]); err != nil {
				return nil, err
			}
			if rep.Fixtures[i].Status != StatusPass {
				failed = append(failed, rep.Fixtures[i])
			}
		}
		rep.Fixtures = failed
	}
	return rep, nil
}

// candidate is one run of the agent against a replay.
type candidate struct {
	replay   *mcp.Replay
	runErr   string // why the run failed; "" when the agent exited 0 in time
	runCode  string
	exitCode int
}

// gradeCandidate runs the agent for one fixture and grades what it did.
func gradeCandidate(configDir string, f *FixtureResult, agent *AgentConfig, ev PolicyEvaluator) []GraderResult {
	names := []string{GraderAgentRun, GraderAgentTrajectory, GraderAgentArgs, GraderAgentUnexpected, GraderAgentUnused, GraderAgentVerdicts}
	all := func(code, msg string) []GraderResult {
		out := make([]GraderResult, len(names))
		for i, n := range names {
			out[i] = fail(n, code, msg)
			out[i].Set = SetGait
		}
		return out
	}
	ref := FixtureRef{Name: f.Name, RunID: f.RunID, Runpack: f.Runpack}
	g, err := loadGrading(filepath.Join(configDir, DefaultConfig), ref, &RunOptions{Evaluator: ev, payloads: true})
	if err != nil {
		return all("fixture_unusable", err.Error())
	}
	match, _ := mcp.ParseMatch(agent.Match)
	traj, _ := agent.trajectory()
	c := runCandidate(configDir, f.Name, g.rp, agent, match)
	cg := candidateGrading{g: g, c: c, match: match, traj: traj, ev: ev}
	cg.pair()
	out := []GraderResult{cg.run(agent), cg.trajectory(), cg.args(), cg.unexpected(), cg.unused(), cg.verdicts()}
	for i := range out {
		out[i].Set = SetGait
	}
	return out
}

// runCandidate starts a replay server for rp and the agent against it, and
// waits for the agent to exit or the timeout to kill it.
func runCandidate(configDir, fixture string, rp *pack.Runpack, agent *AgentConfig, match mcp.MatchMode) candidate {
	timeout, _ := agent.timeout()
	replay := mcp.NewReplay(rp, mcp.ReplayOptions{Match: match})
	c := candidate{replay: replay}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, agent.Command, agent.Args...)
	cmd.Dir = configDir
	cmd.WaitDelay = 2 * time.Second
	cmd.Env = append(os.Environ(), "GAIT_FIXTURE="+fixture, "GAIT_RUN_ID="+rp.Manifest.RunID)
	for k, v := range agent.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr := &tail{max: 4096}
	cmd.Stderr = stderr

	var protoErr error
	var finish func()
	if agent.Transport == TransportStdio {
		in, err1 := cmd.StdinPipe()
		out, err2 := cmd.StdoutPipe()
		if err := errors.Join(err1, err2); err != nil {
			c.runErr, c.runCode = "agent could not start: "+err.Error(), "agent_start_failed"
			return c
		}
		cmd.Env = append(cmd.Env, "GAIT_MCP_TRANSPORT=stdio")
		if err := cmd.Start(); err != nil {
			c.runErr, c.runCode = "agent could not start: "+err.Error(), "agent_start_failed"
			return c
		}
		ss, err := replay.Server().Connect(ctx, &sdk.IOTransport{Reader: out, Writer: in}, nil)
		if err != nil {
			protoErr = err
			finish = func() {}
		} else {
			done := make(chan error, 1)
			go func() { done <- ss.Wait() }()
			finish = func() {
				_ = ss.Close()
				if err := <-done; err != nil && !isClosed(err) {
					protoErr = err
				}
			}
		}
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			c.runErr, c.runCode = "replay server could not listen: "+err.Error(), "replay_failed"
			return c
		}
		srv := &http.Server{Handler: replay.Handler(), ReadHeaderTimeout: timeout}
		go func() { _ = srv.Serve(ln) }() // returns when finish closes it
		finish = func() { _ = srv.Close() }
		cmd.Env = append(cmd.Env, "GAIT_MCP_URL=http://"+ln.Addr().String()+"/mcp", "GAIT_MCP_TRANSPORT=http")
		if err := cmd.Start(); err != nil {
			finish()
			c.runErr, c.runCode = "agent could not start: "+err.Error(), "agent_start_failed"
			return c
		}
	}
	waitErr := cmd.Wait()
	finish()
	switch {
	case ctx.Err() != nil:
		c.runErr, c.runCode = fmt.Sprintf("agent did not finish within the %s timeout and was killed", timeout), "agent_timeout"
	case waitErr != nil:
		c.exitCode = -1
		if ee, ok := errors.AsType[*exec.ExitError](waitErr); ok {
			c.exitCode = ee.ExitCode()
		}
		c.runErr, c.runCode = fmt.Sprintf("agent exited %d", c.exitCode), "agent_crashed"
		if last := stderr.lastLine(); last != "" {
			c.runErr += ": " + last
		}
	case protoErr != nil:
		c.runErr, c.runCode = "MCP protocol error: "+protoErr.Error(), "protocol_error"
	}
	return c
}

func isClosed(err error) bool {
	return errors.Is(err, sdk.ErrConnectionClosed) || strings.Contains(err.Error(), "closed") || strings.Contains(err.Error(), "EOF")
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tail) lastLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(bytes.ToValidUTF8(t.buf, nil))), "\n")
	return oneLine(lines[len(lines)-1])
}
