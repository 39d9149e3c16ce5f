package mcp

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gait-dev/gait/gate"
)

// maxToolPages bounds tools/list pagination against an upstream.
const maxToolPages = 100

// ProxyOptions configure a Proxy.
type ProxyOptions struct {
	// Policy gates every tools/call; nil forwards every call ungated.
	Policy *gate.Policy
	// Context describes the calls to the gate. The zero value is what
	// regress uses when it re-evaluates recorded calls, so verdicts agree.
	Context gate.ToolCallContext
	// Limits counts the rate limits and destructive budgets of the
	// policy's rules; nil counts them in memory for the proxy's lifetime.
	// Give gate.NewLimits(gate.DefaultLimitStatePath) to share the counts
	// with gate eval and other proxies.
	Limits *gate.Limits
	// Recorder journals the calls; nil records nothing.
	Recorder *Recorder
	// Server identifies the upstream for the policy's mcp_trust check; nil
	// takes the name the upstream gives in its initialize answer.
	Server *gate.MCPServer
	// Version is reported to both peers.
	Version string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Proxy is an MCP server that gates each tools/call and forwards the
// allowed ones to an upstream MCP server.
type Proxy struct {
	opts      ProxyOptions
	upstream  *sdk.ClientSession
	server    *sdk.Server
	tools     []*sdk.Tool
	forwarded atomic.Int64
	withheld  atomic.Int64
	order     callOrder
}

// ProxyStats counts what a proxy did.
type ProxyStats struct {
	Forwarded int64 `json:"forwarded"`
	Withheld  int64 `json:"withheld"`
}

// NewProxy connects to the upstream MCP server over upstream, reads its
// tool list and returns a proxy serving the same tools.
func NewProxy(ctx context.Context, upstream sdk.Transport, opts ProxyOptions) (*Proxy, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Limits == nil {
		opts.Limits = gate.NewMemoryLimits()
	}
	p := &Proxy{opts: opts}
	impl := &sdk.Implementation{Name: "gait-mcp-proxy", Version: cmp.Or(opts.Version, "dev")}
	client := sdk.NewClient(impl, &sdk.ClientOptions{
		// A failed re-sync keeps the last list; the next change retries.
		ToolListChangedHandler: func(ctx context.Context, _ *sdk.ToolListChangedRequest) { _ = p.syncTools(ctx) },
	})
	cs, err := client.Connect(ctx, upstream, nil)
	if err != nil {
		return nil, fmt.Errorf("connecting to the upstream MCP server: %w", err)
	}
	p.upstream = cs
	if p.opts.Server == nil {
		p.opts.Server = &gate.MCPServer{}
		if ir := cs.InitializeResult(); ir != nil && ir.ServerInfo != nil {
			p.opts.Server.ServerName = ir.ServerInfo.Name
		}
	}
	p.server = sdk.NewServer(impl, &sdk.ServerOptions{Capabilities: &sdk.ServerCapabilities{Tools: &sdk.ToolCapabilities{ListChanged: true}}})
	p.server.AddReceivingMiddleware(p.intercept)
	if err := p.syncTools(ctx); err != nil {
		_ = cs.Close()
		return nil, err
	}
	return p, nil
}

// Server is the MCP server agents talk to.
func (p *Proxy) Server() *sdk.Server { return p.server }

// Stats returns how many calls were forwarded and withheld.
func (p *Proxy) Stats() ProxyStats {
	return ProxyStats{Forwarded: p.forwarded.Load(), Withheld: p.withheld.Load()}
}

// Handler serves the proxy over streamable HTTP.
func (p *Proxy) Handler() http.Handler {
	return sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return p.server }, &sdk.StreamableHTTPOptions{JSONResponse: true})
}

// Close ends the upstream session.
func (p *Proxy) Close() error { return p.upstream.Close() }

// syncTools mirrors the upstream's tool list.
func (p *Proxy) syncTools(ctx context.Context) error {
	tools, err := listTools(ctx, p.upstream)
	if err != nil {
		return fmt.Errorf("listing the upstream's tools: %w", err)
	}
	seen := map[string]bool{}
	for _, t := range tools {
		if t.InputSchema == nil {
			t.InputSchema = map[string]any{"type": "object"}
		}
		seen[t.Name] = true
		p.server.AddTool(t, unreachable)
	}
	var gone []string
	for _, t := range p.tools {
		if !seen[t.Name] {
			gone = append(gone, t.Name)
		}
	}
	p.server.RemoveTools(gone...)
	p.tools = tools
	if p.opts.Recorder != nil {
		p.opts.Recorder.SetTools(tools)
	}
	return nil
}

func listTools(ctx context.Context, cs *sdk.ClientSession) ([]*sdk.Tool, error) {
	var out []*sdk.Tool
	params := &sdk.ListToolsParams{}
	for range maxToolPages {
		res, err := cs.ListTools(ctx, params)
		if err != nil {
			return nil, err
		}
		out = append(out, res.Tools...)
		if res.NextCursor == "" {
			return out, nil
		}
		params.Cursor = res.NextCursor
	}
	return out, nil
}

// unreachable is the registered handler of every mirrored tool: the
// receiving middleware answers tools/call before the SDK dispatches it, so
// calls to tools the list does not (yet) show are gated too.
func unreachable(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
	return nil, errors.New("gait: tools/call bypassed the gate")
}

func (p *Proxy) intercept(next sdk.MethodHandler) sdk.MethodHandler {
	return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
		if method != "tools/call" {
			return next(ctx, method, req)
		}
		r, ok := req.(*sdk.CallToolRequest)
		if !ok || r.Params == nil {
			return nil, invalidParams("tools/call without params")
		}
		seq := arrivalOf(r, &p.order)
		recorded := false
		res, err := p.call(ctx, r.Params.Name, r.Params.Arguments, func(c Call) error {
			recorded = true
			return p.order.done(seq, &c, p.record)
		})
		if !recorded {
			if rerr := p.order.done(seq, nil, p.record); rerr != nil && err == nil {
				return nil, rerr
			}
		}
		return res, err
	}
}

// call gates one call and forwards it when allowed; record journals it.
func (p *Proxy) call(ctx context.Context, name string, raw json.RawMessage, record func(Call) error) (sdk.Result, error) {
	at := p.opts.Now()
	args, canon, err := ParseArgs(raw)
	if err != nil {
		return nil, invalidParams(err.Error())
	}
	c := Call{Tool: name, Args: canon, At: at}
	if p.opts.Policy != nil {
		d, in, err := p.opts.Policy.EvaluateToolCall(name, args, p.opts.Context)
		if err == nil && in != nil {
			var lerr error
			if d, _, lerr = p.opts.Limits.Apply(d, in, at); lerr != nil {
				// The counters cannot be read: the call is not run.
				return nil, fmt.Errorf("gait: tool call %s was not run: %w", name, lerr)
			}
			d = applyUpstreamTrust(p.opts.Policy, *p.opts.Server, d, in, at)
		}
		c.Verdict, c.ReasonCodes, c.MatchedRule = string(d.Verdict), append([]string(nil), d.ReasonCodes...), d.MatchedRule
		if err != nil && d.Verdict == gate.Allow {
			c.Verdict = string(gate.Block)
		}
		if c.Verdict != string(gate.Allow) {
			p.withheld.Add(1)
			res := withheldResult(name, c.Verdict, c.ReasonCodes)
			c.IsError = true
			c.Result = withheldRecord(res, c.Verdict, c.ReasonCodes)
			return res, record(c)
		}
	}
	p.forwarded.Add(1)
	c.Forwarded = true
	res, err := p.upstream.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: json.RawMessage(canon)})
	if err != nil {
		c.IsError = true
		c.Result, _ = json.Marshal(map[string]any{"error": map[string]any{"message": err.Error()}})
		if rerr := record(c); rerr != nil {
			return nil, rerr
		}
		return nil, err
	}
	c.IsError = res.IsError
	if c.Result, err = json.Marshal(res); err != nil {
		return nil, err
	}
	return res, record(c)
}

// FlushRecording records the calls still waiting for an earlier call that
// never completed (one cancelled before it ran), in arrival order. Call it
// when the session has ended, before closing the recorder.
func (p *Proxy) FlushRecording() error { return p.order.flush(p.record) }

func (p *Proxy) record(c Call) error {
	if p.opts.Recorder == nil {
		return nil
	}
	return p.opts.Recorder.Add(c)
}

// withheldResult is the tool error an agent gets for a call the gate did not
// allow: it names the verdict and the reason codes.
func withheldResult(tool, verdict string, codes []string) *sdk.CallToolResult {
	reasons := strings.Join(codes, ",")
	if reasons == "" {
		reasons = "none"
	}
	text := fmt.Sprintf("gait: tool call %s was not run: verdict=%s reason_codes=%s", tool, verdict, reasons)
	return &sdk.CallToolResult{IsError: true, Content: []sdk.Content{&sdk.TextContent{Text: text}}}
}

// withheldRecord is the stored result of a withheld call: the tool error
// plus the verdict, which regress reads back.
func withheldRecord(res *sdk.CallToolResult, verdict string, codes []string) json.RawMessage {
	b, _ := json.Marshal(res)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m == nil {
		m = map[string]any{}
	}
	m["verdict"] = verdict
	if codes == nil {
		codes = []string{}
	}
	m["reason_codes"] = codes
	return canonical(m)
}

func invalidParams(msg string) error {
	return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: msg}
}
