package mcp

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
)

// EnvTools is the key of run.json's env under which the proxy stores the
// upstream's tool list, so a replay offers the same tool definitions.
const EnvTools = "mcp_tools"

// ReplayOptions configure a Replay.
type ReplayOptions struct {
	Match MatchMode
	// Recorder records what the candidate did as a runpack; nil records
	// nothing beyond Calls.
	Recorder *Recorder
	Version  string
	Now      func() time.Time
}

// CandidateCall is one tools/call a candidate made against a replay.
type CandidateCall struct {
	Seq  int             `json:"seq"`
	Tool string          `json:"tool"`
	Args json.RawMessage `json:"args"`
	// Step is the 1-based recorded step that answered the call; 0 when no
	// recorded call matched (an unexpected call).
	Step int `json:"step"`
	// Problem explains why a call could not be read (bad arguments).
	Problem string `json:"problem,omitempty"`
}

// Recorded is one call of the recording a replay answers from.
type Recorded struct {
	Step       int
	Tool       string
	Args       any // decoded arguments; nil when only the digest was kept
	ArgsDigest string
	Result     json.RawMessage
	Status     string
}

// Replay is an MCP server that answers tools/call from a recorded run and
// records what the candidate asked. It is safe for concurrent use.
type Replay struct {
	opts     ReplayOptions
	runID    string
	recorded []Recorded
	server   *sdk.Server
	mu       sync.Mutex
	used     []bool
	calls    []CandidateCall
}

// OpenRecording opens what a replay answers from: a runpack, or a fixture
// folder holding runpack.zip.
func OpenRecording(path string) (*pack.Runpack, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, exitcode.Invalidf("%s: %v; pass a runpack or a fixture folder", path, err)
	}
	if st.IsDir() {
		path = filepath.Join(path, "runpack.zip")
	}
	return pack.OpenWith(path, pack.ReadOptions{Args: true, Results: true})
}

// NewReplay builds a replay server for rp.
func NewReplay(rp *pack.Runpack, opts ReplayOptions) *Replay {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Match.Kind == "" {
		opts.Match.Kind = MatchExact
	}
	r := &Replay{opts: opts, runID: rp.Manifest.RunID}
	for i, in := range rp.Intents {
		rc := Recorded{Step: i + 1, Tool: in.ToolName, ArgsDigest: in.ArgsDigest, Status: "missing"}
		if len(in.Args) > 0 {
			rc.Args, _ = decodeJSON(in.Args)
		}
		if res, ok := rp.ResultFor(in.IntentID); ok {
			rc.Result, rc.Status = res.Result, res.Status
		}
		r.recorded = append(r.recorded, rc)
	}
	r.used = make([]bool, len(r.recorded))
	impl := &sdk.Implementation{Name: "gait-mcp-replay", Version: cmp.Or(opts.Version, "dev")}
	r.server = sdk.NewServer(impl, &sdk.ServerOptions{Capabilities: &sdk.ServerCapabilities{Tools: &sdk.ToolCapabilities{}}})
	for _, t := range recordedTools(rp) {
		r.server.AddTool(t, unreachable)
	}
	r.server.AddReceivingMiddleware(r.intercept)
	return r
}

// recordedTools lists the tools a replay offers: the upstream's list when
// the recording kept it, plus every tool the run called.
func recordedTools(rp *pack.Runpack) []*sdk.Tool {
	var tools []*sdk.Tool
	seen := map[string]bool{}
	if len(rp.Run.Env) > 0 {
		var env map[string]json.RawMessage
		if json.Unmarshal(rp.Run.Env, &env) == nil && len(env[EnvTools]) > 0 {
			var listed []*sdk.Tool
			if json.Unmarshal(env[EnvTools], &listed) == nil {
				for _, t := range listed {
					if t == nil || t.Name == "" || seen[t.Name] {
						continue
					}
					if _, ok := t.InputSchema.(map[string]any); !ok {
						t.InputSchema = map[string]any{"type": "object"}
					}
					seen[t.Name] = true
					tools = append(tools, t)
				}
			}
		}
	}
	for _, in := range rp.Intents {
		if !seen[in.ToolName] {
			seen[in.ToolName] = true
			tools = append(tools, &sdk.Tool{Name: in.ToolName, InputSchema: map[string]any{"type": "object"},
				Description: "replayed from " + rp.Manifest.RunID})
		}
	}
	return tools
}

// Server is the MCP server a candidate talks to.
func (r *Replay) Server() *sdk.Server { return r.server }

// Handler serves the replay over streamable HTTP.
func (r *Replay) Handler() http.Handler {
	return sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return r.server }, &sdk.StreamableHTTPOptions{JSONResponse: true})
}

// RunID is the recorded run's id.
func (r *Replay) RunID() string { return r.runID }

// Recorded returns the recorded calls, in order.
func (r *Replay) Recorded() []Recorded { return r.recorded }

// Calls returns the candidate's calls so far, in arrival order.
func (r *Replay) Calls() []CandidateCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// Unused returns the recorded steps (1-based) no candidate call matched.
func (r *Replay) Unused() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for i, u := range r.used {
		if !u {
			out = append(out, i+1)
		}
	}
	return out
}

func (r *Replay) intercept(next sdk.MethodHandler) sdk.MethodHandler {
	return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
		if method != "tools/call" {
			return next(ctx, method, req)
		}
		c, ok := req.(*sdk.CallToolRequest)
		if !ok || c.Params == nil {
			return nil, invalidParams("tools/call without params")
		}
		return r.answer(c.Params.Name, c.Params.Arguments)
	}
}

// answer matches one call to the first unused recorded call that fits, so
// a repeated identical call gets the next recorded answer.
func (r *Replay) answer(tool string, raw json.RawMessage) (sdk.Result, error) {
	at := r.opts.Now()
	args, canon, err := ParseArgs(raw)
	r.mu.Lock()
	seq := len(r.calls) + 1
	if err != nil {
		r.calls = append(r.calls, CandidateCall{Seq: seq, Tool: tool, Args: json.RawMessage("{}"), Problem: err.Error()})
		r.mu.Unlock()
		return nil, invalidParams(err.Error())
	}
	var argv any = args
	step := 0
	for i, rc := range r.recorded {
		if !r.used[i] && r.opts.Match.Matches(rc.Tool, rc.Args, rc.ArgsDigest, tool, argv, canon) {
			r.used[i] = true
			step = i + 1
			break
		}
	}
	r.calls = append(r.calls, CandidateCall{Seq: seq, Tool: tool, Args: canon, Step: step})
	r.mu.Unlock()

	var res *sdk.CallToolResult
	var perr error
	if step == 0 {
		res = toolError(fmt.Sprintf("gait replay: no recorded answer for %s with these arguments (match %s); recorded as unexpected", tool, r.opts.Match))
	} else {
		res, perr = r.recorded[step-1].answer()
	}
	if r.opts.Recorder != nil {
		c := Call{Tool: tool, Args: canon, At: at, IsError: perr != nil || res.IsError}
		if perr != nil {
			c.Result, _ = json.Marshal(map[string]any{"error": map[string]any{"message": perr.Error()}})
		} else {
			c.Result, _ = json.Marshal(res)
		}
		if err := r.opts.Recorder.Add(c); err != nil {
			return nil, err
		}
	}
	if perr != nil {
		return nil, perr
	}
	return res, nil
}

// answer turns the recorded result back into what the agent received.
func (rc Recorded) answer() (*sdk.CallToolResult, error) {
	if len(rc.Result) == 0 {
		return toolError(fmt.Sprintf("gait replay: step %d (%s) has no recorded result to replay", rc.Step, rc.Tool)), nil
	}
	var probe struct {
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(rc.Result, &probe) == nil && probe.Error != nil && len(probe.Content) == 0 {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: probe.Error.Message}
	}
	var res sdk.CallToolResult
	if err := json.Unmarshal(rc.Result, &res); err != nil || res.Content == nil {
		// Not a CallToolResult (a run recorded outside MCP): hand the
		// recorded object back as structured content and JSON text.
		res = sdk.CallToolResult{StructuredContent: json.RawMessage(rc.Result), Content: []sdk.Content{&sdk.TextContent{Text: string(rc.Result)}}}
	}
	if rc.Status == "error" {
		res.IsError = true
	}
	return &res, nil
}

func toolError(text string) *sdk.CallToolResult {
	return &sdk.CallToolResult{IsError: true, Content: []sdk.Content{&sdk.TextContent{Text: text}}}
}
