package mcp

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The end-to-end tests drive the built gait binary, the scripted agent and
// the test upstream as separate processes speaking real MCP.

type step = map[string]any

var baseScript = []step{
	{"tool": "lookup_order", "args": map[string]any{"order_id": "A1"}},
	{"tool": "refund", "args": map[string]any{"order_id": "A1", "amount": 42.5, "api_token": "sk-live-1"}},
	{"tool": "send_email", "args": map[string]any{"to": "a@example.com", "body": "refunded"}},
	{"tool": "delete_account", "args": map[string]any{"customer": "c-9"}},
}

func writeScript(t *testing.T, dir, name string, steps []step) string {
	t.Helper()
	b, err := json.Marshal(steps)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func gait(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bins.gait, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// recordStdio runs the agent against `gait mcp proxy` over stdio.
func recordStdio(t *testing.T, dir, script, logPath string) string {
	t.Helper()
	agent := exec.Command(bins.agent, script)
	proxy := exec.Command(bins.gait, "mcp", "proxy", "--upstream", "--policy", policyAbs(t), "--record", filepath.Join(dir, "rec"),
		"--run-id", "run_stdio", "--redact", "$.api_token", "--", bins.testserver, "-log", logPath)
	var err error
	if agent.Stdin, err = proxy.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	if proxy.Stdin, err = agent.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	var agentErr, proxyErr strings.Builder
	agent.Stderr, proxy.Stderr = &agentErr, &proxyErr
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	if err := agent.Run(); err != nil {
		t.Fatalf("agent: %v\n%s", err, agentErr.String())
	}
	if err := proxy.Wait(); err != nil {
		t.Fatalf("proxy: %v\n%s", err, proxyErr.String())
	}
	if !strings.Contains(agentErr.String(), "verdict=block reason_codes=destructive_tool_blocked") {
		t.Fatalf("agent did not see the block:\n%s", agentErr.String())
	}
	return filepath.Join(dir, "rec", "runpack_run_stdio.zip")
}

// recordHTTP runs the agent against `gait mcp proxy --listen` over
// streamable HTTP and stops the proxy with SIGINT.
func recordHTTP(t *testing.T, dir, script, logPath string) string {
	t.Helper()
	proxy := exec.Command(bins.gait, "mcp", "proxy", "--upstream", "--listen", "127.0.0.1:0", "--policy", policyAbs(t),
		"--record", filepath.Join(dir, "rec"), "--run-id", "run_http", "--redact", "$.api_token", "--", bins.testserver, "-log", logPath)
	stderr, err := proxy.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = proxy.Process.Kill() }()
	url := ""
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if _, u, ok := strings.Cut(sc.Text(), "url="); ok {
			url = u
			break
		}
	}
	if url == "" {
		t.Fatal("proxy printed no url")
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	agent := exec.Command(bins.agent, script)
	agent.Env = append(os.Environ(), "GAIT_MCP_URL="+url)
	if out, err := agent.CombinedOutput(); err != nil || !strings.Contains(string(out), "verdict=block") {
		t.Fatalf("agent: %v\n%s", err, out)
	}
	if err := proxy.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- proxy.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("proxy: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("proxy did not stop on SIGINT")
	}
	return filepath.Join(dir, "rec", "runpack_run_http.zip")
}

func policyAbs(t *testing.T) string {
	p, err := filepath.Abs(filepath.Join("testdata", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEndToEnd(t *testing.T) {
	for _, transport := range []string{"stdio", "http"} {
		t.Run(transport, func(t *testing.T) {
			dir := t.TempDir()
			logPath := filepath.Join(dir, "upstream.log")
			script := writeScript(t, dir, "agent", baseScript)
			var runpack string
			if transport == "stdio" {
				runpack = recordStdio(t, dir, script, logPath)
			} else {
				runpack = recordHTTP(t, dir, script, logPath)
			}

			// The blocked call never reached the upstream.
			log, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(log), "delete_account") || strings.Count(string(log), "\n") != 3 {
				t.Fatalf("upstream log:\n%s", log)
			}
			if out, code := gait(t, dir, "verify", runpack); code != 0 {
				t.Fatalf("verify exit %d:\n%s", code, out)
			}
			repo := filepath.Join(dir, "repo")
			if err := os.MkdirAll(repo, 0o750); err != nil {
				t.Fatal(err)
			}
			pol, _ := os.ReadFile(policyAbs(t))
			if err := os.WriteFile(filepath.Join(repo, "policy.yaml"), pol, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, code := gait(t, repo, "regress", "bootstrap", "--from", runpack, "--name", "refund", "--policy", "policy.yaml"); code != 0 {
				t.Fatalf("bootstrap exit %d:\n%s", code, out)
			}

			agentArgs := func(script string) []string {
				return []string{"regress", "run", "--json", "--agent-transport", transport, "--agent-timeout", "5s", "--agent", "--", bins.agent, script}
			}
			if out, code := gait(t, repo, agentArgs(script)...); code != 0 {
				t.Fatalf("passing candidate exit %d:\n%s", code, out)
			}

			regressed := []struct {
				name    string
				steps   []step
				grader  string
				message string
			}{
				{"extra_refund", insert(baseScript, 2, baseScript[1]), "agent_unexpected", "first at step 3: refund"},
				{"missing_call", remove(baseScript, 2), "agent_unused", "recorded step 3: send_email"},
				{"changed_args", replace(baseScript, 1, step{"tool": "refund", "args": map[string]any{"order_id": "A1", "amount": 4250, "api_token": "sk-live-1"}}),
					"agent_args", "arguments differ at step 2 (refund)"},
				{"now_blocked", insert(baseScript, 4, step{"tool": "delete_account", "args": map[string]any{"customer": "c-10"}}),
					"agent_verdicts", "gate verdict differs at step 5: delete_account is block"},
				{"hangs", []step{baseScript[0], {"sleep": "60s"}}, "agent_run", "did not finish within the 5s timeout and was killed"},
				{"crashes", []step{baseScript[0], {"exit": 3}}, "agent_run", "agent exited 3"},
			}
			if transport == "stdio" {
				regressed = append(regressed, struct {
					name    string
					steps   []step
					grader  string
					message string
				}{"malformed", []step{baseScript[0], {"raw": "{not json"}}, "agent_run", "MCP protocol error"})
			}
			for _, r := range regressed {
				t.Run(r.name, func(t *testing.T) {
					out, code := gait(t, repo, agentArgs(writeScript(t, dir, r.name, r.steps))...)
					if code != 5 {
						t.Fatalf("exit %d, want 5:\n%s", code, out)
					}
					var res struct {
						Fixtures []struct {
							Graders []struct {
								Name, Status, Message, Diff string
								Step                        int
							}
						}
					}
					if err := json.Unmarshal([]byte(out), &res); err != nil {
						t.Fatalf("%v:\n%s", err, out)
					}
					for _, g := range res.Fixtures[0].Graders {
						if g.Name == r.grader {
							if g.Status != "fail" || !strings.Contains(g.Message, r.message) {
								t.Fatalf("%s: %s %q, want failing with %q", g.Name, g.Status, g.Message, r.message)
							}
							if g.Name != "agent_run" && (g.Step == 0 || g.Diff == "") {
								t.Fatalf("%s names no step or diff: %+v", g.Name, g)
							}
							return
						}
					}
					t.Fatalf("no %s grader:\n%s", r.grader, out)
				})
			}
		})
	}
}

func insert(s []step, i int, v step) []step {
	out := append([]step{}, s[:i]...)
	out = append(out, v)
	return append(out, s[i:]...)
}

func remove(s []step, i int) []step {
	return append(append([]step{}, s[:i]...), s[i+1:]...)
}

func replace(s []step, i int, v step) []step {
	out := append([]step{}, s...)
	out[i] = v
	return out
}
