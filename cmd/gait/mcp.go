package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/job"
	"github.com/gait-dev/gait/mcp"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		cmd := &cobra.Command{
			Use:   "mcp",
			Short: "Gate and record MCP tool calls; replay them to agents in CI",
			Long: `mcp proxy sits between an agent and its MCP server: every tools/call is
gated by a policy, only allowed calls are forwarded, and the session is
recorded as a runpack. mcp replay (also spelled mcp serve --replay) answers
tools/call from a recorded runpack, so a new agent version can be run against
the tools as they answered. mcp serve --policy is the gate as an HTTP service
for dispatchers in any language; mcp bridge evaluates one call the same way;
mcp verify checks an MCP server against the policy's trust snapshot.`,
		}
		cmd.AddCommand(newMCPProxyCmd(a), newMCPServeCmd(a, false), newMCPServeCmd(a, true), newMCPBridgeCmd(a), newMCPVerifyCmd(a))
		root.AddCommand(cmd)
	})
}

type mcpProxyOptions struct {
	upstream        bool
	upstreamURL     string
	policy          string
	call            string
	record          string
	runID           string
	listen          string
	checkpointEvery int
	redact          []string
	captureMode     string
	rateLimitState  string
	jobRoot         string
	// oneShot holds the flags only the one-shot --call takes, as v1's
	// mcp proxy --call does (mcp bridge is the same evaluation).
	oneShot         mcpBridgeOptions
	contextEnvelope string
	command         []string
}

func newMCPProxyCmd(a *app) *cobra.Command {
	var o mcpProxyOptions
	cmd := &cobra.Command{
		Use:   "proxy --upstream -- <server command…> [--policy P] [--record DIR] | --policy P --call call.json",
		Short: "Gate, forward and record an agent's MCP tool calls",
		Long: `mcp proxy is an MCP server (stdio, or streamable HTTP with --listen) that
forwards to the upstream MCP server started from the command after --
(or reached at --upstream-url). tools/list is passed through. Every
tools/call is evaluated by the gate under --policy first: allow is forwarded;
block, require_approval and dry_run are not, and the agent gets a tool error
naming the verdict and reason codes. With --record DIR every call, verdict and
result is appended to DIR/runpack_<run_id>.journal.jsonl and the session is
written as DIR/runpack_<run_id>.zip on shutdown (and every --checkpoint-every
calls). --redact JSON paths (e.g. $.api_token) are replaced by "[redacted]" in
stored args and results; in reference capture mode the stored digests are
those of the unredacted values.

One-shot: --policy P --call call.json evaluates one tool call and exits with
the gate's code: 0 allow or dry_run, 3 block, 4 require_approval. It is
mcp bridge's evaluation and answer, with v1's one-shot flags (--adapter,
--profile, --trace-out, --runpack-out, --pack-out, --export-log-out,
--export-otel-out, --key-mode, --private-key, --private-key-env, --job-root,
--context-envelope); in the mcp adapter it also reads a JSON-RPC tools/call
request or {"tool_name", "args"}. --record DIR writes the call as a runpack
in DIR instead, with --redact and --capture-mode.

Rate limits and destructive budgets of the policy's rules are counted in
--rate-limit-state, the file gate eval uses, so the counts hold across
restarts and across proxies; a spent limit withholds the call
(rate_limit_exceeded, destructive_budget_exceeded).`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dash := cmd.ArgsLenAtDash(); dash >= 0 {
				if dash > 0 {
					return exitcode.Invalidf("unexpected arguments %q before --", args[:dash])
				}
				o.command = args
			} else if len(args) > 0 {
				return exitcode.Invalidf("unexpected arguments %q; put the upstream server command after --", args)
			}
			oneShotOnly := changedFlags(cmd, oneShotFlags...)
			if o.call != "" {
				if o.record != "" {
					if len(oneShotOnly) > 0 {
						return exitcode.Invalidf("--record writes the call as a runpack in %s and takes none of --%s; drop --record to use them", o.record, strings.Join(oneShotOnly, ", --"))
					}
					return runMCPCall(a, o)
				}
				return runMCPOneShot(a, o)
			}
			if o.jobRoot != "" || o.contextEnvelope != "" || len(oneShotOnly) > 0 {
				return exitcode.Invalidf("--job-root, --context-envelope and --%s apply to one call; pass them with --call (or use mcp serve --policy)", strings.Join(oneShotFlags, ", --"))
			}
			return runMCPProxy(a, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.upstream, "upstream", false, "start the upstream MCP server from the command after --")
	f.StringVar(&o.upstreamURL, "upstream-url", "", "reach the upstream MCP server over streamable HTTP at this URL")
	f.StringVar(&o.policy, "policy", "", "gate policy (gait.gate.policy); without it calls are recorded, not gated")
	f.StringVar(&o.call, "call", "", "one-shot: evaluate the tool call in this file (- for stdin) and exit")
	f.StringVar(&o.record, "record", "", "journal the session and write its runpack in this directory")
	f.StringVar(&o.runID, "run-id", "", "run id of the recording (default run_mcp_<time of the first call>)")
	f.StringVar(&o.listen, "listen", "", "serve streamable HTTP on this address (127.0.0.1:PORT) instead of stdio")
	f.IntVar(&o.checkpointEvery, "checkpoint-every", 0, "also write the runpack after every N calls")
	f.StringArrayVar(&o.redact, "redact", nil, "JSON path redacted in stored args and results (repeatable, or comma-separated)")
	f.StringVar(&o.captureMode, "capture-mode", "reference", "reference or raw")
	f.StringVar(&o.rateLimitState, "rate-limit-state", gate.DefaultLimitStatePath, "state file counting rate limits and destructive budgets, shared with gate eval")
	f.StringVar(&o.jobRoot, "job-root", "", "with --call: jobs directory for the emergency-stop check of the call's job_id (default ./gait-out/jobs)")
	f.StringVar(&o.contextEnvelope, "context-envelope", "", "with --call: context envelope `file` (gait.context.envelope), the call's context evidence")
	b := &o.oneShot
	f.StringVar(&b.adapter, "adapter", "mcp", "with --call: the call's format: mcp, openai, anthropic, langchain or claude_code")
	f.StringVar(&b.profile, "profile", "standard", "with --call: standard or oss-prod")
	f.StringVar(&b.traceOut, "trace-out", "", "with --call: write the decision's trace here")
	f.StringVar(&b.runpackOut, "runpack-out", "", "with --call: write a runpack of the call here")
	f.StringVar(&b.packOut, "pack-out", "", "with --call: write a run pack of the call here")
	f.StringVar(&b.exportLog, "export-log-out", "", "with --call: append the decision's JSON line to this `file`")
	f.StringVar(&b.exportOTel, "export-otel-out", "", "with --call: append the decision's OpenTelemetry log record to this `file`")
	b.signing.registerEnv(cmd, a)
	return cmd
}

// oneShotFlags are the flags of mcp proxy that only the one-shot --call
// (without --record) takes.
var oneShotFlags = []string{"adapter", "profile", "trace-out", "runpack-out", "pack-out", "export-log-out", "export-otel-out", "key-mode", "private-key", "private-key-env"}

// changedFlags lists the named flags the command line set.
func changedFlags(cmd *cobra.Command, names ...string) []string {
	var set []string
	for _, n := range names {
		if cmd.Flags().Changed(n) {
			set = append(set, n)
		}
	}
	return set
}

// runMCPOneShot is v1's mcp proxy --call: mcp bridge's evaluation and
// answer for one call.
func runMCPOneShot(a *app, o mcpProxyOptions) error {
	if o.upstream || o.upstreamURL != "" || len(o.command) > 0 {
		return exitcode.Invalidf("--call evaluates one call without an upstream; drop --upstream or --call")
	}
	b := o.oneShot
	b.policy, b.call, b.runID, b.rateLimitState, b.contextEnvelope = o.policy, o.call, o.runID, o.rateLimitState, o.contextEnvelope
	b.jobRoot = cmp.Or(o.jobRoot, job.DefaultRoot)
	b.verdictStatus, b.authMode, b.maxRequestBytes, b.credentials.kind = "compat", "off", mcp.DefaultMaxRequestBytes, "off"
	b.proxyFormats = true
	if b.policy == "" {
		return exitcode.Invalidf("--call needs --policy P to evaluate the call against")
	}
	return runMCPBridge(a, b)
}

// mcpCallResult is what the one-shot mode prints.
type mcpCallResult struct {
	OK          bool         `json:"ok"`
	ToolName    string       `json:"tool_name"`
	Verdict     gate.Verdict `json:"verdict"`
	ReasonCodes []string     `json:"reason_codes"`
	Violations  []string     `json:"violations"`
	MatchedRule string       `json:"matched_rule,omitempty"`
	Executed    bool         `json:"executed"`
	JobID       string       `json:"job_id,omitempty"`
	RunID       string       `json:"run_id,omitempty"`
	Runpack     string       `json:"runpack,omitempty"`
	Warnings    []string     `json:"warnings,omitempty"`
	ExitCode    int          `json:"exit_code"`
}

func runMCPCall(a *app, o mcpProxyOptions) error {
	if o.policy == "" {
		return exitcode.Invalidf("--call needs --policy P to evaluate the call against")
	}
	if o.upstream || o.upstreamURL != "" || len(o.command) > 0 {
		return exitcode.Invalidf("--call evaluates one call without an upstream; drop --upstream or --call")
	}
	policy, err := gate.LoadPolicy(o.policy)
	if err != nil {
		return err
	}
	data, err := a.readCall(o.call)
	if err != nil {
		return err
	}
	call, err := mcp.ParseCall(o.call, data)
	if err != nil {
		return exitcode.Invalidf("%v; write the call as {\"name\": \"tool\", \"args\": {…}}", err)
	}
	var env *gate.ContextEnvelope
	if o.contextEnvelope != "" {
		if env, err = gate.LoadContextEnvelope(o.contextEnvelope); err != nil {
			return err
		}
	}
	if err := gate.ApplyContextEnvelope(&call.Request, env, a.now()); err != nil {
		return exitcode.Invalidf("%s: %v; fix the call's context", o.call, err)
	}
	d, in, evalErr := policy.EvaluateRequest(call.Request)
	if evalErr == nil && in != nil {
		if d, _, err = gate.NewLimits(o.rateLimitState).Apply(d, in, a.now()); err != nil {
			return err
		}
	}
	if mt := policy.MCPTrust(); mt != nil && evalErr == nil {
		// as the gate service and mcp bridge do
		var server gate.MCPServer
		if call.Server != nil {
			server = *call.Server
		}
		d = mt.ApplyTrust(d, mt.Check(server, call.RiskClass, false, a.now()))
	}
	var warning string
	if evalErr == nil {
		d, warning = mcp.EmergencyStop(d, in, o.jobRoot)
	}
	if evalErr != nil && d.Verdict == gate.Allow {
		d.Verdict = gate.Block
	}
	code := d.Verdict.ExitCode()
	res := mcpCallResult{OK: true, ToolName: call.Tool, Verdict: d.Verdict, ReasonCodes: nonNilStrings(d.ReasonCodes),
		Violations: nonNilStrings(d.Violations), MatchedRule: d.MatchedRule, ExitCode: int(code)}
	if in != nil {
		res.JobID = in.Context.JobID
	}
	if warning != "" {
		res.Warnings = []string{warning}
	}
	if o.record != "" {
		paths, err := mcp.ParsePaths(o.redact)
		if err != nil {
			return exitcode.Invalidf("--redact: %v", err)
		}
		rec, err := mcp.NewRecorder(mcp.RecorderOptions{Dir: o.record, RunID: o.runID, CaptureMode: o.captureMode, Redact: paths, ProducerVersion: producerVersion()})
		if err != nil {
			return err
		}
		result, err := json.Marshal(struct {
			Verdict     gate.Verdict `json:"verdict"`
			ReasonCodes []string     `json:"reason_codes"`
		}{d.Verdict, nonNilStrings(d.ReasonCodes)})
		if err != nil {
			return err
		}
		if err := rec.Add(mcp.Call{Tool: call.Tool, Args: call.Canonical, Verdict: string(d.Verdict), ReasonCodes: d.ReasonCodes,
			Result: result, IsError: d.Verdict != gate.Allow}); err != nil {
			return err
		}
		if res.Runpack, err = rec.Close(); err != nil {
			return err
		}
		res.RunID = rec.RunID()
	}
	text := kv("tool_name", call.Tool, "verdict", string(d.Verdict), "reason_codes", strings.Join(d.ReasonCodes, ","),
		"violations", strings.Join(d.Violations, ","), "matched_rule", d.MatchedRule)
	if res.Runpack != "" {
		text = append(text, kv("run_id", res.RunID, "runpack", res.Runpack)...)
	}
	text = append(text, kv("exit_code", strconv.Itoa(int(code)))...)
	a.emit(res, text)
	if code != exitcode.OK {
		return silent(code)
	}
	return nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// mcpProxyResult is what a proxy session prints when it ends.
type mcpProxyResult struct {
	OK        bool   `json:"ok"`
	Calls     int    `json:"calls"`
	Forwarded int64  `json:"forwarded"`
	Withheld  int64  `json:"withheld"`
	RunID     string `json:"run_id,omitempty"`
	Runpack   string `json:"runpack,omitempty"`
}

func runMCPProxy(a *app, o mcpProxyOptions) error {
	var upstream sdk.Transport
	switch {
	case o.upstreamURL != "" && len(o.command) > 0:
		return exitcode.Invalidf("pass either --upstream -- <command…> or --upstream-url, not both")
	case o.upstreamURL != "":
		upstream = &sdk.StreamableClientTransport{Endpoint: o.upstreamURL, DisableStandaloneSSE: true}
	case len(o.command) > 0:
		c := exec.Command(o.command[0], o.command[1:]...)
		c.Stderr = a.errOut
		upstream = &sdk.CommandTransport{Command: c, TerminateDuration: 2 * time.Second}
	default:
		return exitcode.Invalidf("no upstream MCP server; pass --upstream -- <server command…> or --upstream-url URL (or --call for one-shot mode)")
	}
	if o.checkpointEvery < 0 {
		return exitcode.Invalidf("--checkpoint-every %d is negative", o.checkpointEvery)
	}
	opts := mcp.ProxyOptions{Version: producerVersion(), Limits: gate.NewLimits(o.rateLimitState)}
	if o.policy != "" {
		p, err := gate.LoadPolicy(o.policy)
		if err != nil {
			return err
		}
		opts.Policy = p
	}
	var rec *mcp.Recorder
	if o.record != "" {
		paths, err := mcp.ParsePaths(o.redact)
		if err != nil {
			return exitcode.Invalidf("--redact: %v", err)
		}
		rec, err = mcp.NewRecorder(mcp.RecorderOptions{Dir: o.record, RunID: o.runID, CaptureMode: o.captureMode, Redact: paths,
			CheckpointEvery: o.checkpointEvery, ProducerVersion: producerVersion()})
		if err != nil {
			return err
		}
		opts.Recorder = rec
	} else if len(o.redact) > 0 || o.runID != "" || o.checkpointEvery > 0 {
		return exitcode.Invalidf("--redact, --run-id and --checkpoint-every shape a recording; add --record DIR")
	}
	tuneForServing()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	proxy, err := mcp.NewProxy(ctx, upstream, opts)
	if err != nil {
		return err
	}
	defer proxy.Close()
	serveErr := serveMCP(ctx, a, o.listen, proxy.Server(), proxy.Handler(), proxy.Transport)
	if err := proxy.FlushRecording(); err != nil {
		return err
	}
	res := mcpProxyResult{OK: serveErr == nil}
	st := proxy.Stats()
	res.Forwarded, res.Withheld = st.Forwarded, st.Withheld
	if rec != nil {
		res.Calls = rec.Calls()
		path, err := rec.Close()
		if err != nil {
			return err
		}
		res.Runpack, res.RunID = path, rec.RunID()
	}
	a.emitSession(o.listen, res, kv("calls", strconv.Itoa(res.Calls), "forwarded", strconv.FormatInt(res.Forwarded, 10),
		"withheld", strconv.FormatInt(res.Withheld, 10), "run_id", res.RunID, "runpack", res.Runpack,
		"next", "gait verify "+orNone(res.Runpack)))
	return serveErr
}

// tuneForServing trades a little memory for latency in the long-running
// MCP servers: every tools/call leaves short-lived garbage (JSON-RPC
// decoding), and collecting it a quarter as often cuts the p99 of the
// proxy's overhead by about half.
func tuneForServing() { debug.SetGCPercent(400) }

func orNone(s string) string {
	if s == "" {
		return "<runpack>"
	}
	return s
}

// emitSession prints a session's summary: on stdout when serving HTTP, on
// stderr when stdout carried the MCP session.
func (a *app) emitSession(listen string, result any, text []field) {
	if listen == "" {
		out := a.out
		a.out = a.errOut
		defer func() { a.out = out }()
	}
	a.emit(result, text)
}

// serveMCP serves an MCP server on the app's stdin/stdout, or on listen
// over streamable HTTP, until the client hangs up or ctx ends. wrap, when
// not nil, wraps the stdio transport.
func serveMCP(ctx context.Context, a *app, listen string, server *sdk.Server, handler http.Handler, wrap func(sdk.Transport) sdk.Transport) error {
	if listen == "" {
		var t sdk.Transport = &sdk.IOTransport{Reader: io.NopCloser(a.in), Writer: nopWriteCloser{a.out}}
		if wrap != nil {
			t = wrap(t)
		}
		err := server.Run(ctx, t)
		if err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) || errors.Is(err, sdk.ErrConnectionClosed)) {
			return nil
		}
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return exitcode.Invalidf("--listen %s: %v; pass a free host:port such as 127.0.0.1:8787 (port 0 picks one)", listen, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	a.diag("gait: mcp listening url=http://%s/mcp", ln.Addr())
	return serveHTTP(ctx, srv, ln)
}

// serveHTTP serves srv on ln until ctx ends (then shuts it down, giving
// requests in flight 2 s) or serving fails.
func serveHTTP(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

type mcpServeOptions struct {
	replay, listen, match, record, runID string
	service                              mcpServiceOptions
}

// mcpServeResult is what a replay session prints when it ends.
type mcpServeResult struct {
	OK         bool                `json:"ok"`
	RunID      string              `json:"run_id"`
	Match      string              `json:"match"`
	Calls      []mcp.CandidateCall `json:"calls"`
	Unexpected int                 `json:"unexpected"`
	Unused     []int               `json:"unused_steps"`
	Runpack    string              `json:"runpack,omitempty"`
}

const mcpReplayLong = `mcp replay is an MCP server (stdio, or streamable HTTP with --listen)
that offers the tools seen in a runpack (or a fixture folder's runpack.zip)
and answers each tools/call with the recorded result. Calls are matched to the
recording by tool name and arguments (--match exact), by tool name and
arguments except the listed JSON paths (--match ignore-args:$.request_id), or
by tool name only (--match tool-name). A repeated identical call gets the next
recorded answer in order. A call with no recorded answer gets a tool error and
is counted as unexpected. Nothing reaches a real tool. With --record DIR what
the agent did is written as a runpack when the session ends.`

// newMCPServeCmd builds `mcp serve` (the gate service with --policy, the
// replay server with --replay) or, with replayOnly, `mcp replay`.
func newMCPServeCmd(a *app, replayOnly bool) *cobra.Command {
	var o mcpServeOptions
	cmd := &cobra.Command{
		Use:   "serve --policy P [--listen 127.0.0.1:8787] … | --replay <runpack|fixture dir> [--listen 127.0.0.1:PORT]",
		Short: "Serve the gate over HTTP (--policy), or answer MCP tool calls from a recorded run (--replay)",
		Long: `mcp serve --policy P is the gate as an HTTP service: GET /healthz, and POST
/v1/evaluate (JSON), /v1/evaluate/sse (one text/event-stream event) and
/v1/evaluate/stream (one NDJSON line), each taking {"call": {…}, "adapter",
"run_id", "session_id", "emit_runpack", "emit_pack", …} and answering the
verdict, reason codes and exit code. The policy is compiled once. Listening
off loopback needs --auth-mode token; bodies over --max-request-bytes (413),
without Content-Type application/json (415), malformed or with unknown
fields (400) are refused, and so are client-chosen artifact paths unless
--allow-client-artifact-paths. The service never runs a tool.

A call whose context names a job_id is blocked when the job in --job-root was
emergency-stopped (gait job stop) or cannot be read. --context-envelope is the
context evidence of every call; --export-log-out and --export-otel-out append
one line per decision; --credential-broker (and the other --credential-*
flags, as for gate eval) brokers credentials for require_broker_credential.

mcp serve --replay is the replay server (see mcp replay). Pass exactly one of
--policy and --replay.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if replayOnly {
				return runMCPServe(a, o)
			}
			switch {
			case o.replay != "" && o.service.policy != "":
				return exitcode.Invalidf("mcp serve takes --policy (the gate service) or --replay (the replay server), not both")
			case o.service.policy != "":
				return runMCPService(a, o.service, o.listen)
			case o.replay != "":
				return runMCPServe(a, o)
			}
			return exitcode.Invalidf("mcp serve needs --policy P (the gate as an HTTP service) or --replay R (answer MCP calls from a runpack)")
		},
	}
	if replayOnly {
		cmd.Use = "replay --replay <runpack|fixture dir> [--listen 127.0.0.1:PORT] [--match exact|tool-name|ignore-args:<paths>]"
		cmd.Short = "Answer an agent's MCP tool calls from a recorded run"
		cmd.Long = mcpReplayLong
	}
	f := cmd.Flags()
	f.StringVar(&o.replay, "replay", "", "runpack or fixture folder to answer from")
	f.StringVar(&o.listen, "listen", "", "serve on this address (replay: streamable HTTP instead of stdio; --policy: default 127.0.0.1:8787)")
	f.StringVar(&o.match, "match", "exact", "replay: exact, tool-name or ignore-args:<path>[,<path>…]")
	f.StringVar(&o.record, "record", "", "replay: write what the agent did as a runpack in this directory")
	f.StringVar(&o.runID, "run-id", "", "replay: run id of the candidate's recording")
	if replayOnly {
		_ = cmd.MarkFlagRequired("replay")
	} else {
		o.service.register(cmd, a)
	}
	return cmd
}

func runMCPServe(a *app, o mcpServeOptions) error {
	match, err := mcp.ParseMatch(o.match)
	if err != nil {
		return exitcode.Invalidf("--match: %v", err)
	}
	rp, err := mcp.OpenRecording(o.replay)
	if err != nil {
		return err
	}
	opts := mcp.ReplayOptions{Match: match, Version: producerVersion()}
	if o.record != "" {
		if opts.Recorder, err = mcp.NewRecorder(mcp.RecorderOptions{Dir: o.record, RunID: o.runID, ProducerVersion: producerVersion()}); err != nil {
			return err
		}
	}
	replay := mcp.NewReplay(rp, opts)
	tuneForServing()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	serveErr := serveMCP(ctx, a, o.listen, replay.Server(), replay.Handler(), nil)
	calls := replay.Calls()
	res := mcpServeResult{OK: serveErr == nil, RunID: replay.RunID(), Match: match.String(), Calls: calls, Unused: replay.Unused()}
	if res.Calls == nil {
		res.Calls = []mcp.CandidateCall{}
	}
	if res.Unused == nil {
		res.Unused = []int{}
	}
	for _, c := range calls {
		if c.Step == 0 {
			res.Unexpected++
		}
	}
	if opts.Recorder != nil {
		if res.Runpack, err = opts.Recorder.Close(); err != nil {
			return err
		}
	}
	unused := make([]string, len(res.Unused))
	for i, s := range res.Unused {
		unused[i] = strconv.Itoa(s)
	}
	a.emitSession(o.listen, res, kv("run_id", res.RunID, "match", res.Match, "calls", strconv.Itoa(len(calls)),
		"unexpected", strconv.Itoa(res.Unexpected), "unused_steps", strings.Join(unused, ","), "runpack", res.Runpack))
	return serveErr
}
