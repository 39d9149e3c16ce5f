package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/pack"
)

// The guided flows, as v1 names them in POST /api/exec.
const (
	flowDemo        = "demo"
	flowVerify      = "verify_demo"
	flowReceipt     = "receipt_demo"
	flowRegressInit = "regress_init"
	flowRegressRun  = "regress_run"
	flowPolicyBlock = "policy_block_test"
)

// Flow is one guided step of the first run.
type Flow struct {
	ID, Label, Note, Group string
}

// Flows are v1's guided steps, in order.
var Flows = []Flow{
	{flowDemo, "1. Demo", "Write the demo runpack and verify it.", "Runpack"},
	{flowVerify, "2. Verify", "Check the runpack's digests and manifest.", "Runpack"},
	{flowReceipt, "3. Ticket footer", "Print the paste-ready receipt of the run.", "Runpack"},
	{flowRegressInit, "4. Regress init", "Turn a run into a regression fixture.", "Regress"},
	{flowRegressRun, "5. Regress run", "Replay and grade every fixture; write JUnit.", "Regress"},
	{flowPolicyBlock, "6. Policy block", "Show the gate blocking a destructive call.", "Policy"},
}

// v1's example policies and intents, offered when the workspace has them,
// and the demo pair `gait demo --policy` writes, always offered.
var (
	v1Policies = []string{"examples/policy/base_high_risk.yaml", "examples/policy/base_medium_risk.yaml", "examples/policy/base_low_risk.yaml"}
	v1Intents  = []string{"examples/policy/intents/intent_delete.json", "examples/policy/intents/intent_read.json", "examples/policy/intents/intent_write.json",
		"examples/policy/intents/intent_tainted_egress.json", "examples/policy/intents/intent_delegated_egress_valid.json", "examples/policy/intents/intent_delegated_egress_invalid.json"}
	demoPolicy = "gait-out/policy_demo.yaml"
	demoIntent = "gait-out/intent_demo_delete.json"
)

const (
	defaultRunID = "run_demo"
	junitPath    = "./gait-out/junit.xml"
	execTimeout  = 2 * time.Minute
	maxExecOut   = 4 << 20
)

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (s *Server) apiHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "service": "gait.ui"})
}

// artifactState is one entry of /api/state's artifacts.
type artifactState struct {
	Key        string `json:"key"`
	Path       string `json:"path"`
	Exists     bool   `json:"exists"`
	ModifiedAt string `json:"modified_at,omitempty"`
}

// stateResponse is GET /api/state, with v1's fields.
type stateResponse struct {
	OK                bool            `json:"ok"`
	Workspace         string          `json:"workspace"`
	RunpackPath       string          `json:"runpack_path,omitempty"`
	RunID             string          `json:"run_id,omitempty"`
	ManifestDigest    string          `json:"manifest_digest,omitempty"`
	RegressResultPath string          `json:"regress_result_path,omitempty"`
	JunitPath         string          `json:"junit_path,omitempty"`
	Artifacts         []artifactState `json:"artifacts"`
	PolicyPaths       []string        `json:"policy_paths"`
	IntentPaths       []string        `json:"intent_paths"`
	DefaultPolicyPath string          `json:"default_policy_path"`
	DefaultIntentPath string          `json:"default_intent_path"`
	GaitConfigExists  bool            `json:"gait_config_exists"`
}

func (s *Server) state() stateResponse {
	st := stateResponse{OK: true, Workspace: s.root}
	paths := []struct{ key, path string }{
		{"runpack", filepath.Join(s.root, outDir, "runpack_"+defaultRunID+".zip")},
		{"regress_result", filepath.Join(s.root, "regress_result.json")},
		{"junit", filepath.Join(s.root, outDir, "junit.xml")},
	}
	for _, p := range paths {
		a := artifactState{Key: p.key, Path: p.path}
		if info, err := os.Stat(p.path); err == nil {
			a.Exists, a.ModifiedAt = true, info.ModTime().UTC().Format(time.RFC3339Nano)
			switch p.key {
			case "runpack":
				st.RunpackPath = p.path
				if v, msg := s.cache.verify(p.path); msg == "" {
					st.RunID, st.ManifestDigest = v.RunID, v.ManifestDigest
				}
			case "regress_result":
				st.RegressResultPath = p.path
			case "junit":
				st.JunitPath = p.path
			}
		}
		st.Artifacts = append(st.Artifacts, a)
	}
	st.PolicyPaths, st.IntentPaths = s.offered(v1Policies, demoPolicy), s.offered(v1Intents, demoIntent)
	st.DefaultPolicyPath, st.DefaultIntentPath = st.PolicyPaths[0], st.IntentPaths[0]
	if _, err := os.Stat(filepath.Join(s.root, "gait.yaml")); err == nil {
		st.GaitConfigExists = true
	}
	return st
}

// offered lists v1's example files the workspace has, then the demo file.
func (s *Server) offered(v1 []string, demo string) []string {
	var out []string
	for _, p := range v1 {
		if _, err := os.Stat(filepath.Join(s.root, p)); err == nil {
			out = append(out, p)
		}
	}
	return append(out, demo)
}

func (s *Server) apiState(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.state())
}

// execRequest is POST /api/exec's body, as v1's UI sends it.
type execRequest struct {
	Command string            `json:"command"`
	Args    map[string]string `json:"args"`
}

// ExecResult is POST /api/exec's answer, with v1's fields and stderr.
type ExecResult struct {
	OK         bool            `json:"ok"`
	Command    string          `json:"command"`
	Argv       []string        `json:"argv,omitempty"`
	ExitCode   int             `json:"exit_code"`
	DurationMS int64           `json:"duration_ms"`
	Stdout     string          `json:"stdout,omitempty"`
	Stderr     string          `json:"stderr,omitempty"`
	JSON       json.RawMessage `json:"json,omitempty"`
	Error      string          `json:"error,omitempty"`
}

func (s *Server) apiExec(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"ok": false, "error": "expected POST"})
		return
	}
	var req execRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error": "decode request JSON"})
		return
	}
	res, code := s.exec(r.Context(), req)
	writeJSON(w, code, res)
}

// argv builds the gait arguments of an allowlisted flow; nothing in the
// request reaches the command line except values checked against a list.
func (s *Server) argv(req execRequest) ([]string, string) {
	switch req.Command {
	case flowDemo:
		return []string{"demo", "--json"}, ""
	case flowVerify:
		return []string{"verify", defaultRunID, "--json"}, ""
	case flowReceipt:
		return []string{"run", "receipt", "--from", defaultRunID, "--json"}, ""
	case flowRegressInit:
		id := req.Args["run_id"]
		if id == "" {
			id = defaultRunID
		}
		if !pack.ValidRunID(id) || id[0] == '-' {
			return nil, "unsupported run_id " + quote(id)
		}
		return []string{"regress", "init", "--from", id, "--json"}, ""
	case flowRegressRun:
		return []string{"regress", "run", "--json", "--junit", junitPath}, ""
	case flowPolicyBlock:
		st := s.state()
		policy, intent := cmpOr(req.Args["policy_path"], st.DefaultPolicyPath), cmpOr(req.Args["intent_path"], st.DefaultIntentPath)
		if !slices.Contains(st.PolicyPaths, policy) {
			return nil, "unsupported policy_path " + quote(policy)
		}
		if !slices.Contains(st.IntentPaths, intent) {
			return nil, "unsupported intent_path " + quote(intent)
		}
		return []string{"policy", "test", policy, intent, "--json"}, ""
	}
	return nil, "unsupported command " + quote(req.Command)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// exec runs one allowlisted flow in the workspace, one at a time.
func (s *Server) exec(ctx context.Context, req execRequest) (ExecResult, int) {
	args, problem := s.argv(req)
	if problem != "" {
		return ExecResult{Command: req.Command, ExitCode: 6, Error: problem}, http.StatusBadRequest
	}
	s.execMu.Lock()
	defer s.execMu.Unlock()
	if req.Command == flowPolicyBlock {
		if err := s.ensureDemoPolicy(args[2], args[3]); err != nil {
			return ExecResult{Command: req.Command, ExitCode: 1, Error: err.Error()}, http.StatusInternalServerError
		}
	}
	ctx, cancel := context.WithTimeout(ctx, execTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.opts.Binary, args...)
	cmd.Dir = s.root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &headWriter{buf: &stdout}, &headWriter{buf: &stderr}
	start := time.Now()
	err := cmd.Run()
	res := ExecResult{
		Command: req.Command, Argv: append([]string{s.opts.Binary}, args...), DurationMS: time.Since(start).Milliseconds(),
		Stdout: stdout.String(), Stderr: stderr.String(),
	}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		res.ExitCode = ee.ExitCode()
	} else if err != nil {
		res.ExitCode, res.Error = 1, err.Error()
		return res, http.StatusInternalServerError
	}
	res.OK = res.ExitCode == 0
	if json.Valid(bytes.TrimSpace(stdout.Bytes())) {
		res.JSON = json.RawMessage(bytes.TrimSpace(stdout.Bytes()))
	}
	return res, http.StatusOK
}

// ensureDemoPolicy writes the demo policy and intent (as `gait demo
// --policy` does) when the flow names them and they are missing.
func (s *Server) ensureDemoPolicy(policy, intent string) error {
	for _, f := range []struct{ rel, body string }{{demoPolicy, gate.DemoPolicy}, {demoIntent, gate.DemoIntent}} {
		if f.rel != policy && f.rel != intent {
			continue
		}
		p := filepath.Join(s.root, f.rel)
		if _, err := os.Stat(p); err == nil {
			continue
		}
		if err := atomicfile.WriteFile(p, []byte(f.body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// headWriter keeps the first maxExecOut bytes written to it.
type headWriter struct{ buf *bytes.Buffer }

func (c *headWriter) Write(p []byte) (int, error) {
	if room := maxExecOut - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
