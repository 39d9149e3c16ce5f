package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/job"
	"github.com/gait-dev/gait/mcp"
)

// mcpServiceOptions are the flags of `mcp serve --policy` (the gate as an
// HTTP service) and, for the call-shaping ones, `mcp bridge`.
type mcpServiceOptions struct {
	policy, adapter, profile, authMode, authTokenEnv, verdictStatus string
	maxRequestBytes                                                 int64
	allowClientPaths                                                bool
	traceDir, runpackDir, packDir, sessionDir                       string
	traceAge, runpackAge, packAge, sessionAge                       time.Duration
	traceCount, runpackCount, packCount, sessionCount               int
	rateLimitState                                                  string
	jobRoot, contextEnvelope, exportLog, exportOTel                 string
	credentials                                                     credentialFlags
	signing                                                         signingOptions
	localCaller                                                     bool // mcp bridge: artifact paths come from the user's flags
}

func (o *mcpServiceOptions) register(cmd *cobra.Command, a *app) {
	f := cmd.Flags()
	f.StringVar(&o.policy, "policy", "", "serve the gate over HTTP with this policy (gait.gate.policy)")
	f.StringVar(&o.adapter, "adapter", "mcp", "default call format: mcp, openai, anthropic, langchain or claude_code")
	f.StringVar(&o.profile, "profile", "standard", "standard or oss-prod (oss-prod needs --key-mode prod --private-key K and strict verdict statuses)")
	f.StringVar(&o.authMode, "auth-mode", "off", "off or token (token: every evaluate request carries Authorization: Bearer <token>)")
	f.StringVar(&o.authTokenEnv, "auth-token-env", "", "environment variable holding the bearer token for --auth-mode token")
	f.Int64Var(&o.maxRequestBytes, "max-request-bytes", mcp.DefaultMaxRequestBytes, "largest request body accepted (413 above)")
	f.StringVar(&o.verdictStatus, "http-verdict-status", "compat", "compat (every decision is 200) or strict (block 403, require_approval and dry_run 409)")
	f.BoolVar(&o.allowClientPaths, "allow-client-artifact-paths", false, "let requests name trace_path, runpack_out, pack_out and session_journal (relative paths only)")
	f.StringVar(&o.traceDir, "trace-dir", "", "write a trace for every decision in this folder")
	f.StringVar(&o.runpackDir, "runpack-dir", "", "folder for runpacks of requests with emit_runpack")
	f.StringVar(&o.packDir, "pack-dir", "", "folder for packs of requests with emit_pack")
	f.StringVar(&o.sessionDir, "session-dir", "", "folder for session journals of requests with session_id")
	for _, r := range []struct {
		name  string
		age   *time.Duration
		count *int
	}{{"trace", &o.traceAge, &o.traceCount}, {"runpack", &o.runpackAge, &o.runpackCount}, {"pack", &o.packAge, &o.packCount}, {"session", &o.sessionAge, &o.sessionCount}} {
		f.DurationVar(r.age, r.name+"-max-age", 0, "remove "+r.name+" files older than this (0: keep)")
		f.IntVar(r.count, r.name+"-max-count", 0, "keep at most this many "+r.name+" files, newest first (0: no bound)")
	}
	f.StringVar(&o.rateLimitState, "rate-limit-state", gate.DefaultLimitStatePath, "state file counting rate limits and destructive budgets, shared with gate eval")
	f.StringVar(&o.jobRoot, "job-root", job.DefaultRoot, "jobs directory: a call whose context names a job_id is blocked when that job is emergency-stopped or unreadable")
	f.StringVar(&o.contextEnvelope, "context-envelope", "", "context envelope `file` (gait.context.envelope): the context evidence of every call")
	f.StringVar(&o.exportLog, "export-log-out", "", "append one JSON line per decision to this `file`")
	f.StringVar(&o.exportOTel, "export-otel-out", "", "append one OpenTelemetry log record per decision to this `file`")
	o.credentials.register(cmd)
	o.signing.registerEnv(cmd, a)
}

// service builds the gate service from the flags. getenv reads the token.
func (o *mcpServiceOptions) service(a *app) (*mcp.Service, bool, error) {
	profile, err := gate.ParseProfile(o.profile)
	if err != nil {
		return nil, false, err
	}
	var strict bool
	switch o.verdictStatus {
	case "compat":
	case "strict":
		strict = true
	default:
		return nil, false, exitcode.Invalidf("--http-verdict-status %q is not compat or strict", o.verdictStatus)
	}
	if o.maxRequestBytes <= 0 {
		return nil, false, exitcode.Invalidf("--max-request-bytes must be > 0")
	}
	var token string
	switch o.authMode {
	case "off":
		if o.authTokenEnv != "" {
			return nil, false, exitcode.Invalidf("--auth-token-env needs --auth-mode token")
		}
	case "token":
		if o.authTokenEnv == "" {
			return nil, false, exitcode.Invalidf("--auth-mode token needs --auth-token-env VAR naming the variable that holds the token")
		}
		if token = a.getenv(o.authTokenEnv); strings.TrimSpace(token) == "" {
			return nil, false, exitcode.Invalidf("--auth-token-env %s is empty or unset; export the token in it", o.authTokenEnv)
		}
	default:
		return nil, false, exitcode.Invalidf("--auth-mode %q is not off or token", o.authMode)
	}
	priv, mode, err := o.signing.load()
	if err != nil {
		return nil, false, err
	}
	if profile == gate.ProfileOSSProd && (mode != keys.ModeProd || priv == nil || !strict) {
		return nil, false, exitcode.Invalidf("the oss-prod profile signs every trace and refuses compat statuses; pass --key-mode prod --private-key K --http-verdict-status strict")
	}
	policy, err := gate.LoadPolicy(o.policy)
	if err != nil {
		return nil, false, err
	}
	var env *gate.ContextEnvelope
	if o.contextEnvelope != "" {
		if env, err = gate.LoadContextEnvelope(o.contextEnvelope); err != nil {
			return nil, false, err
		}
	}
	broker, err := o.credentials.broker(a)
	if err != nil {
		return nil, false, err
	}
	svc, err := mcp.NewService(mcp.ServiceOptions{
		Policy: policy, Adapter: o.adapter, AuthToken: token, MaxRequestBytes: o.maxRequestBytes, StrictStatus: strict,
		AllowClientArtifactPaths: o.allowClientPaths, LocalCaller: o.localCaller,
		TraceDir: o.traceDir, RunpackDir: o.runpackDir, PackDir: o.packDir, SessionDir: o.sessionDir,
		TraceRetention:   mcp.Retention{MaxAge: o.traceAge, MaxCount: o.traceCount},
		RunpackRetention: mcp.Retention{MaxAge: o.runpackAge, MaxCount: o.runpackCount},
		PackRetention:    mcp.Retention{MaxAge: o.packAge, MaxCount: o.packCount},
		SessionRetention: mcp.Retention{MaxAge: o.sessionAge, MaxCount: o.sessionCount},
		Limits:           gate.NewLimits(o.rateLimitState), PrivateKey: priv, Version: producerVersion(), Now: a.now,
		JobRoot: o.jobRoot, Envelope: env, Broker: broker, LogExport: o.exportLog, OTelExport: o.exportOTel,
	})
	return svc, token != "", err
}

// mcpServiceResult is what the service prints when it stops.
type mcpServiceResult struct {
	OK      bool   `json:"ok"`
	Listen  string `json:"listen"`
	Adapter string `json:"adapter"`
	Policy  string `json:"policy"`
	Profile string `json:"profile"`
}

func runMCPService(a *app, o mcpServiceOptions, listen string) error {
	if listen == "" {
		listen = "127.0.0.1:8787"
	}
	if o.credentials.evidenceOut != "" {
		return exitcode.Invalidf("--credential-evidence-out names one file; the service writes each decision's record beside its trace, pass --trace-dir instead")
	}
	svc, authenticated, err := o.service(a)
	if err != nil {
		return err
	}
	defer svc.Close()
	if err := mcp.CheckListen(listen, authenticated); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return exitcode.Invalidf("--listen %s: %v; pass a free host:port such as 127.0.0.1:8787 (port 0 picks one)", listen, err)
	}
	tuneForServing()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: svc.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	a.diag("gait: mcp serve listening url=http://%s adapter=%s", ln.Addr(), o.adapter)
	if err := serveHTTP(ctx, srv, ln); err != nil {
		return err
	}
	a.emit(mcpServiceResult{OK: true, Listen: ln.Addr().String(), Adapter: o.adapter, Policy: o.policy, Profile: o.profile},
		kv("listen", ln.Addr().String(), "adapter", o.adapter, "policy", o.policy))
	return nil
}

type mcpBridgeOptions struct {
	mcpServiceOptions
	call, runID, traceOut, runpackOut, packOut string
	// proxyFormats (mcp proxy --call) also reads, in the mcp adapter, a
	// JSON-RPC tools/call request and {"tool_name", "args"}.
	proxyFormats bool
}

func newMCPBridgeCmd(a *app) *cobra.Command {
	var o mcpBridgeOptions
	cmd := &cobra.Command{
		Use:   "bridge --policy P --call call.json [--adapter mcp|openai|anthropic|langchain|claude_code]",
		Short: "Evaluate one tool call the way the gate service does, and exit with its code",
		Long: `mcp bridge reads one tool call (--call FILE, or - for stdin) in the --adapter
format, evaluates it exactly as POST /v1/evaluate of mcp serve --policy does
(policy, rate limits, the policy's mcp_trust for the call's "server"), prints
the service's response and exits with the gate's code: 0 allow or dry_run,
3 block, 4 require_approval, 6 a call it cannot read. The call is never run.
--job-root, --context-envelope, --export-log-out, --export-otel-out and the
--credential-* flags work as for mcp serve --policy.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runMCPBridge(a, o) },
	}
	o.mcpServiceOptions.register(cmd, a)
	for _, name := range []string{"auth-mode", "auth-token-env", "max-request-bytes", "http-verdict-status", "allow-client-artifact-paths"} {
		_ = cmd.Flags().MarkHidden(name)
	}
	cmd.Flags().StringVar(&o.call, "call", "", "tool call file (- for stdin)")
	cmd.Flags().StringVar(&o.runID, "run-id", "", "run id of the decision (default run_mcp_<intent digest prefix>)")
	cmd.Flags().StringVar(&o.traceOut, "trace-out", "", "write the decision's trace here")
	cmd.Flags().StringVar(&o.runpackOut, "runpack-out", "", "write a runpack of the call here")
	cmd.Flags().StringVar(&o.packOut, "pack-out", "", "write a run pack of the call here")
	_ = cmd.MarkFlagRequired("policy")
	_ = cmd.MarkFlagRequired("call")
	return cmd
}

func runMCPBridge(a *app, o mcpBridgeOptions) error {
	o.localCaller = true
	svc, _, err := o.service(a)
	if err != nil {
		return err
	}
	defer svc.Close()
	data, err := a.readCall(o.call)
	if err != nil {
		return err
	}
	req := mcp.EvaluateRequest{RunID: o.runID, Call: data, EmitRunpack: o.runpackDir != "", EmitPack: o.packDir != "",
		TracePath: o.traceOut, RunpackOut: o.runpackOut, PackOut: o.packOut}
	var res mcp.EvaluateResponse
	if o.proxyFormats && o.adapter == "mcp" {
		call, perr := mcp.ParseCall(o.call, data)
		if perr != nil {
			return exitcode.Invalidf("%v; write the call as {\"name\": \"tool\", \"args\": {…}}", perr)
		}
		res, err = svc.EvaluateParsed(req, call)
	} else {
		res, err = svc.Evaluate(req)
	}
	if err != nil {
		if re, ok := errors.AsType[*mcp.RequestError](err); ok {
			return exitcode.Invalidf("%s: %s; write the call in the %s format", o.call, re.Msg, o.adapter)
		}
		return err
	}
	if r := res.CredentialRecord; r != nil && o.credentials.evidenceOut != "" {
		if err := gate.WriteCredentialRecord(o.credentials.evidenceOut, *r); err != nil {
			return fmt.Errorf("%s: cannot write credential evidence: %w", o.credentials.evidenceOut, err)
		}
	}
	res.CorrelationID = mcp.CorrelationID(res)
	code := res.Verdict.ExitCode()
	a.emit(res, kv("tool_name", res.ToolName, "verdict", string(res.Verdict), "reason_codes", strings.Join(res.ReasonCodes, ","),
		"violations", strings.Join(res.Violations, ","), "trace", res.TracePath, "exit_code", strconv.Itoa(int(code))))
	if code != exitcode.OK {
		return silent(code)
	}
	return nil
}

type mcpVerifyOptions struct {
	policy, server, riskClass string
}

func newMCPVerifyCmd(a *app) *cobra.Command {
	var o mcpVerifyOptions
	cmd := &cobra.Command{
		Use:   "verify --policy P --server server.json [--risk-class C]",
		Short: "Check an MCP server against the policy's mcp_trust snapshot",
		Long: `mcp verify checks the MCP server described in --server ({"server_id",
"server_name", "publisher", "source"}) against the policy's mcp_trust block
and its local trust snapshot (gait.mcp.trust_snapshot): status, score
(min_score), age (max_age), publisher_allowlist and require_registry. No tool
is called and no registry is contacted.

The check is required for --risk-class values listed in
required_risk_classes (default high, critical), and always without
--risk-class. Exit codes: 0 allow (trusted, or not required), 3 block, 4
require_approval (mcp_trust.action), 6 bad input.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runMCPVerify(a, o) },
	}
	cmd.Flags().StringVar(&o.policy, "policy", "", "policy YAML with an mcp_trust block")
	cmd.Flags().StringVar(&o.server, "server", "", "server description JSON")
	cmd.Flags().StringVar(&o.riskClass, "risk-class", "", "risk class of the calls the server would get")
	_ = cmd.MarkFlagRequired("policy")
	_ = cmd.MarkFlagRequired("server")
	return cmd
}

func runMCPVerify(a *app, o mcpVerifyOptions) error {
	policy, err := gate.LoadPolicy(o.policy)
	if err != nil {
		return err
	}
	server, err := mcp.LoadServer(o.server)
	if err != nil {
		return err
	}
	res := mcp.VerifyServer(policy, server, o.riskClass, a.now())
	code := res.Verdict.ExitCode()
	text := kv("server_id", res.ServerID, "server_name", res.ServerName, "verdict", string(res.Verdict),
		"reason_codes", strings.Join(res.ReasonCodes, ","))
	if res.MCPTrust != nil {
		text = append(text, kv("status", res.MCPTrust.Status, "required", strconv.FormatBool(res.MCPTrust.Required), "snapshot", res.SnapshotPath)...)
	}
	a.emit(res, text)
	if code != exitcode.OK {
		return silent(code)
	}
	return nil
}

// readCall reads the tool call of --call (a file, or - for stdin), refusing
// one above mcp.MaxCallBytes before reading further.
func (a *app) readCall(path string) ([]byte, error) {
	var r io.Reader = a.in
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, exitcode.Invalidf("%s: cannot read the call: %v; pass --call with a JSON file (or - for stdin)", path, unwrapPathErr(err))
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, mcp.MaxCallBytes+1))
	if err != nil {
		return nil, exitcode.Invalidf("%s: cannot read the call: %v; pass --call with a JSON file (or - for stdin)", path, unwrapPathErr(err))
	}
	if len(data) > mcp.MaxCallBytes {
		return nil, exitcode.Invalidf("%s: over the %d byte limit; a tool call is one small JSON object", path, mcp.MaxCallBytes)
	}
	return data, nil
}
