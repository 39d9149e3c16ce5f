package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/keys"
)

func init() {
	registerCommand("gate", func(root *cobra.Command, a *app) {
		cmd := &cobra.Command{
			Use:   "gate",
			Short: "Decide whether a tool call may run",
			Long: `gate evaluates a tool intent against a policy before the tool runs and
answers allow, block, dry_run or require_approval.`,
		}
		cmd.AddCommand(newGateEvalCmd(a), newGateIntentCmd(a))
		root.AddCommand(cmd)
	})
}

// signingOptions are the --key-mode/--private-key flags shared by the
// commands that sign.
type signingOptions struct {
	mode       string
	private    string
	privateEnv string
	a          *app
}

func (s *signingOptions) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&s.mode, "key-mode", "dev", "dev or prod; prod refuses to run without a private key (never an ephemeral one)")
	cmd.Flags().StringVar(&s.private, "private-key", "", "ed25519 private key `file` (as written by gait keys init)")
}

// registerEnv is register plus --private-key-env, read through a.
func (s *signingOptions) registerEnv(cmd *cobra.Command, a *app) {
	s.register(cmd)
	s.a = a
	cmd.Flags().StringVar(&s.privateEnv, "private-key-env", "", "environment `variable` holding the private key text (instead of --private-key)")
}

// load returns the private key, or nil in dev mode without a key.
func (s *signingOptions) load() (ed25519.PrivateKey, keys.Mode, error) {
	mode, err := keys.ParseMode(s.mode)
	if err != nil {
		return nil, "", err
	}
	var priv ed25519.PrivateKey
	switch {
	case s.a != nil:
		priv, err = s.a.signingKey(s.private, s.privateEnv)
	case s.private != "":
		priv, err = keys.LoadPrivate(s.private)
	}
	if err != nil {
		return nil, mode, err
	}
	if priv == nil && mode == keys.ModeProd {
		return nil, mode, exitcode.Invalidf("--key-mode prod needs a signing key and never uses an ephemeral one; pass --private-key K or --private-key-env VAR (create one with `gait keys init`)")
	}
	return priv, mode, nil
}

// publicKeyBeside is the public key file `gait keys init` wrote next to the
// private key at path, or a placeholder when there is none.
func publicKeyBeside(private string) string {
	if pub, ok := strings.CutSuffix(private, "_private.key"); ok && fileExists(pub+"_public.key") {
		return pub + "_public.key"
	}
	return "<public key>"
}

// requireKey is load for commands that always sign (tokens).
func (s *signingOptions) requireKey() (ed25519.PrivateKey, error) {
	priv, _, err := s.load()
	if err != nil {
		return nil, err
	}
	if priv == nil {
		return nil, exitcode.Invalidf("tokens must be signed; pass --private-key K or --private-key-env VAR (create one with `gait keys init`)")
	}
	return priv, nil
}

// credentialFlags are the --credential-* flags of the commands that
// broker credentials for rules with require_broker_credential (gate eval,
// mcp serve --policy, mcp bridge).
type credentialFlags struct {
	kind, envPrefix, ref, scopes, command, commandArgs, evidenceOut string
}

func (c *credentialFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.kind, "credential-broker", "off", "credential broker for rules with require_broker_credential: off, stub, env or command")
	f.StringVar(&c.envPrefix, "credential-env-prefix", gate.DefaultBrokerEnvPrefix, "env broker: prefix of the variable holding the credential")
	f.StringVar(&c.ref, "credential-ref", "", "broker reference to ask for instead of the rule's broker_reference")
	f.StringVar(&c.scopes, "credential-scopes", "", "scopes to ask for besides the rule's broker_scopes, comma-separated")
	f.StringVar(&c.command, "credential-command", "", "command broker: the program that prints the credential reference")
	f.StringVar(&c.commandArgs, "credential-command-args", "", "command broker: the program's arguments, comma-separated")
	f.StringVar(&c.evidenceOut, "credential-evidence-out", "", "broker credential record path (default credential_evidence_<trace_id>.json beside the trace)")
}

// broker builds the broker the flags name (nil for off).
func (c *credentialFlags) broker(a *app) (*gate.Broker, error) {
	return gate.NewBroker(gate.BrokerOptions{
		Kind: c.kind, EnvPrefix: c.envPrefix, Reference: c.ref,
		Scopes: splitCSV(c.scopes), Command: c.command, CommandArgs: splitCSV(c.commandArgs),
		Getenv: a.getenv, Now: a.now,
	})
}

type gateEvalOptions struct {
	policy, intent, traceOut, profile string
	contextEnvelope                   string
	approvalTokens                    []string
	approvalChain, delegationChain    string
	approvalKeys                      []string
	approvalKeyEnv                    string
	approvalAuditOut                  string
	delegationTokens                  []string
	delegationKey, delegationKeyEnv   string
	simulate                          bool
	rateLimitState                    string
	credentials                       credentialFlags
	scriptRegistry                    string
	scriptKey, scriptKeyEnv           string
	signing                           signingOptions
}

type gateEvalResult struct {
	OK                   bool               `json:"ok"`
	Verdict              gate.Verdict       `json:"verdict"`
	ReasonCodes          []string           `json:"reason_codes"`
	Violations           []string           `json:"violations"`
	MatchedRule          string             `json:"matched_rule,omitempty"`
	IntentDigest         string             `json:"intent_digest,omitempty"`
	PolicyDigest         string             `json:"policy_digest"`
	Profile              gate.Profile       `json:"profile"`
	Phase                string             `json:"phase,omitempty"`
	TraceID              string             `json:"trace_id,omitempty"`
	TracePath            string             `json:"trace_path,omitempty"`
	TraceSigned          bool               `json:"trace_signed"`
	RequiredApprovals    int                `json:"required_approvals,omitempty"`
	ValidApprovals       int                `json:"valid_approvals,omitempty"`
	ApprovalRef          string             `json:"approval_ref,omitempty"`
	ApprovalAuditPath    string             `json:"approval_audit_path,omitempty"`
	DelegationRequired   bool               `json:"delegation_required,omitempty"`
	ValidDelegations     int                `json:"valid_delegations,omitempty"`
	DelegationRef        string             `json:"delegation_ref,omitempty"`
	SimulateMode         bool               `json:"simulate_mode,omitempty"`
	SimulatedVerdict     gate.Verdict       `json:"simulated_verdict,omitempty"`
	SimulatedReasonCodes []string           `json:"simulated_reason_codes,omitempty"`
	WouldHaveBlocked     bool               `json:"would_have_blocked,omitempty"`
	Script               bool               `json:"script,omitempty"`
	ScriptHash           string             `json:"script_hash,omitempty"`
	StepCount            int                `json:"step_count,omitempty"`
	CompositeRiskClass   string             `json:"composite_risk_class,omitempty"`
	StepVerdicts         []gate.StepVerdict `json:"step_verdicts,omitempty"`
	PreApproved          bool               `json:"pre_approved,omitempty"`
	PatternID            string             `json:"pattern_id,omitempty"`
	RegistryReason       string             `json:"registry_reason,omitempty"`
	CredentialIssuer     string             `json:"credential_issuer,omitempty"`
	CredentialRef        string             `json:"credential_ref,omitempty"`
	CredentialEvidence   string             `json:"credential_evidence_path,omitempty"`
	ExitCode             int                `json:"exit_code"`
	Warnings             []string           `json:"warnings,omitempty"`
	// LimitUsage is the matched rule's rate limit, counted for this call.
	*gate.LimitUsage
}

func newGateEvalCmd(a *app) *cobra.Command {
	var o gateEvalOptions
	cmd := &cobra.Command{
		Use:   "eval --policy P --intent I",
		Short: "Evaluate one intent against a policy",
		Long: `gate eval evaluates one gait.gate.intent_request against a gait.gate.policy
and writes a gait.gate.trace record (signed when a private key is given).

Exit codes: 0 allow (and dry_run), 3 block, 4 require_approval, 6 bad input.
A require_approval verdict becomes allow with enough valid --approval-token
files bound to this intent and policy digest. A rule with require_delegation
needs a valid --delegation-token. Expired, out-of-scope, wrongly bound or
wrongly signed tokens never allow. An intent that cannot be normalized is
blocked when the policy fails closed for its risk class, and is a usage
error (exit 6) otherwise.

--simulate reports the verdict the policy would enforce (simulated_verdict)
but exits 0: observe first, enforce later. --profile oss-prod rejects unknown
intent fields, requires --key-mode prod with a key, and refuses policies whose
high-risk allow/approval rules lack require_broker_credential.

A matched rule's rate_limit and destructive_budget are counted across runs
in --rate-limit-state (locked, so parallel runs never lose a count); a spent
limit blocks (rate_limit_exceeded, destructive_budget_exceeded).

An allow from a rule with require_broker_credential needs a credential from
--credential-broker: stub (a deterministic reference, for tests), env (the
variable --credential-env-prefix + the rule's broker_reference, or
--credential-ref, upper-cased) or command (--credential-command reads the
request as JSON on stdin and prints {"credential_ref": ...} within 5 s and
16 KiB; when GAIT_CREDENTIAL_COMMAND_ALLOWLIST is set it must name the
command). Issued, the call is allowed (broker_credential_present) and a
gait.gate.broker_credential_record is written (--credential-evidence-out);
otherwise it is blocked (broker_credential_missing; with the default off
broker, broker_credential_required). Only references are printed or
written, never a credential's value.

Context evidence (context_set_digest, context_evidence_mode, context_refs
and auth_context.context_age_seconds, which require_context_evidence,
required_context_evidence_mode and max_context_age_seconds check) comes only
from --context-envelope: the intent's own values are dropped. The age is
that of the envelope's oldest record.

A script intent (script.steps) is decided step by step; the most
restrictive step verdict wins and the policy's scripts block applies.
--approved-script-registry is the fast path: a script whose hash, tool
sequence and policy digest a signed entry (gait approve-script) approves is
allowed at once (approved_script_match). The entries are verified with
--approved-script-public-key; for high and critical risk and under oss-prod
a missing key, a malformed registry or a bad or expired entry blocks
(exit 3), elsewhere such a registry is ignored.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runGateEval(a, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.policy, "policy", "", "policy YAML (gait.gate.policy)")
	f.StringVar(&o.intent, "intent", "", "intent JSON (gait.gate.intent_request)")
	f.StringVar(&o.contextEnvelope, "context-envelope", "", "context envelope `file` (gait.context.envelope): the only source of the intent's context evidence")
	f.StringVar(&o.traceOut, "trace-out", "", "trace output path (default gait-out/trace_<trace_id>.json)")
	f.StringVar(&o.profile, "profile", "standard", "standard or oss-prod")
	f.StringArrayVar(&o.approvalTokens, "approval-token", nil, "approval token file (repeatable)")
	f.StringArrayVar(&o.approvalKeys, "approval-public-key", nil, "approver's public key `file`; repeat for several approvers, each token is checked with the key its key_id names (default: the --private-key's)")
	f.StringArrayVar(&o.delegationTokens, "delegation-token", nil, "delegation token file (repeatable)")
	f.StringVar(&o.delegationKey, "delegation-public-key", "", "public key that signed the delegation tokens (default: the --private-key's)")
	f.StringVar(&o.approvalChain, "approval-token-chain", "", "more approval token files, comma-separated (as --approval-token)")
	f.StringVar(&o.delegationChain, "delegation-token-chain", "", "more delegation token files, comma-separated (as --delegation-token)")
	f.StringVar(&o.approvalAuditOut, "approval-audit-out", "", "write the approval audit record (gait.gate.approval_audit_record) here when the call needed approval")
	f.StringVar(&o.approvalKeyEnv, "approval-public-key-env", "", "environment `variable` holding an approver's public key text (as --approval-public-key)")
	f.StringVar(&o.delegationKeyEnv, "delegation-public-key-env", "", "environment `variable` holding the delegation public key text (as --delegation-public-key)")
	f.BoolVar(&o.simulate, "simulate", false, "report the verdict without enforcing it (exit 0)")
	f.StringVar(&o.rateLimitState, "rate-limit-state", gate.DefaultLimitStatePath, "state file counting rate limits and destructive budgets across runs")
	o.credentials.register(cmd)
	f.StringVar(&o.scriptRegistry, "approved-script-registry", "", "approved-script registry `file` (gait approve-script) for the script fast path")
	f.StringVar(&o.scriptKey, "approved-script-public-key", "", "public key `file` that verifies the registry's entries")
	f.StringVar(&o.scriptKeyEnv, "approved-script-public-key-env", "", "environment `variable` holding that public key")
	o.signing.registerEnv(cmd, a)
	_ = cmd.MarkFlagRequired("policy")
	_ = cmd.MarkFlagRequired("intent")
	return cmd
}

func runGateEval(a *app, o gateEvalOptions) error {
	profile, err := gate.ParseProfile(o.profile)
	if err != nil {
		return err
	}
	broker, err := o.credentials.broker(a)
	if err != nil {
		return err
	}
	if o.rateLimitState == "" {
		return exitcode.Invalidf("--rate-limit-state is empty; pass a state file path (default %s)", gate.DefaultLimitStatePath)
	}
	priv, mode, err := o.signing.load()
	if err != nil {
		return err
	}
	if profile == gate.ProfileOSSProd && (mode != keys.ModeProd || priv == nil) {
		return exitcode.Invalidf("the oss-prod profile signs every trace; pass --key-mode prod --private-key K")
	}
	policy, err := gate.LoadPolicy(o.policy)
	if err != nil {
		return err
	}
	if profile == gate.ProfileOSSProd {
		if names := policy.HighRiskRulesWithoutBroker(); len(names) > 0 {
			return exitcode.Invalidf("%s: rules %s allow high-risk calls without require_broker_credential; the oss-prod profile refuses this, set require_broker_credential: true", o.policy, strings.Join(names, ", "))
		}
	}
	req, err := gate.LoadIntent(o.intent, profile)
	if err != nil {
		return err
	}
	var env *gate.ContextEnvelope
	if o.contextEnvelope != "" {
		if env, err = gate.LoadContextEnvelope(o.contextEnvelope); err != nil {
			return err
		}
	}
	now := a.now()
	if err := gate.ApplyContextEnvelope(&req, env, now); err != nil {
		return exitcode.Invalidf("%s: %v; fix the intent (schema gait.gate.intent_request)", o.intent, err)
	}
	opts := gate.EnforceOptions{Now: func() time.Time { return now }, Simulate: o.simulate, Broker: broker}
	var pub ed25519.PublicKey
	if priv != nil {
		pub = priv.Public().(ed25519.PublicKey)
	}
	var approvalKeys []ed25519.PublicKey
	for _, path := range o.approvalKeys {
		k, err := keys.LoadPublic(path)
		if err != nil {
			return err
		}
		approvalKeys = append(approvalKeys, k)
	}
	if o.approvalKeyEnv != "" {
		k, err := a.publicKey("", o.approvalKeyEnv)
		if err != nil {
			return err
		}
		approvalKeys = append(approvalKeys, k)
	}
	opts.ApprovalKey = pub
	if len(approvalKeys) > 0 {
		opts.ApprovalKey, opts.ApprovalKeys = approvalKeys[0], approvalKeys[1:]
	}
	if o.delegationKey != "" && o.delegationKeyEnv != "" {
		return exitcode.Invalidf("give the delegation key once, as --delegation-public-key or --delegation-public-key-env")
	}
	opts.DelegationKey = pub
	if k, err := a.publicKey(o.delegationKey, o.delegationKeyEnv); err != nil {
		return err
	} else if k != nil {
		opts.DelegationKey = k
	}
	// v1's --approval-token-chain and --delegation-token-chain list more
	// token files, comma-separated.
	o.approvalTokens = append(o.approvalTokens, splitCSV(o.approvalChain)...)
	o.delegationTokens = append(o.delegationTokens, splitCSV(o.delegationChain)...)
	for _, f := range o.approvalTokens {
		t, err := readApproval(f)
		if err != nil {
			return err
		}
		opts.ApprovalTokens = append(opts.ApprovalTokens, t)
	}
	for _, f := range o.delegationTokens {
		t, err := readDelegation(f)
		if err != nil {
			return err
		}
		opts.DelegationTokens = append(opts.DelegationTokens, t)
	}

	if o.scriptRegistry != "" {
		if o.scriptKeyEnv != "" && o.scriptKey == "" && a.getenv(o.scriptKeyEnv) == "" {
			return exitcode.Invalidf("--approved-script-public-key-env %s: the variable is empty or unset; export the public key text in it", o.scriptKeyEnv)
		}
		pub, err := a.publicKey(o.scriptKey, o.scriptKeyEnv)
		if err != nil {
			return err
		}
		strict := gate.ScriptRegistryStrict(profile, req.Context.RiskClass)
		if opts.ApprovedScripts, err = gate.OpenScriptRegistry(o.scriptRegistry, pub, now, strict); err != nil {
			return err
		}
	}

	in, nerr := gate.Normalize(req)
	if nerr != nil {
		d, blocked := policy.InvalidIntentDecision(req.Context.RiskClass)
		if !blocked {
			return exitcode.Invalidf("%s: %v; fix the intent (schema gait.gate.intent_request)", o.intent, gate.IntentProblem(nerr))
		}
		res := gateEvalResult{OK: true, Verdict: d.Verdict, ReasonCodes: d.ReasonCodes, Violations: d.Violations,
			PolicyDigest: policy.Digest(), Profile: profile, ExitCode: int(exitcode.PolicyBlock),
			Warnings: []string{fmt.Sprintf("intent not evaluable: %v", gate.IntentProblem(nerr))}}
		a.emit(res, kv("verdict", string(d.Verdict), "reason_codes", strings.Join(d.ReasonCodes, ","), "exit_code", "3"))
		return silent(exitcode.PolicyBlock)
	}

	d, usage, err := gate.NewLimits(o.rateLimitState).Apply(policy.Evaluate(in), in, now)
	if err != nil {
		return err
	}
	out := policy.EnforceDecision(in, d, opts)
	tr, err := gate.BuildTrace(in, out, priv, producerVersion())
	if err != nil {
		return err
	}
	tracePath := o.traceOut
	if tracePath == "" {
		tracePath = filepath.Join("gait-out", "trace_"+tr.TraceID+".json")
	}
	if err := gate.WriteTrace(tracePath, tr); err != nil {
		return fmt.Errorf("%s: cannot write trace: %w", tracePath, err)
	}
	var auditPath string
	if o.approvalAuditOut != "" {
		if audit := gate.NewApprovalAudit(in, out, opts.ApprovalTokens, tr.TraceID, producerVersion()); audit != nil {
			if err := atomicfile.WriteJSON(o.approvalAuditOut, audit, 0o644); err != nil {
				return exitcode.Invalidf("%s: cannot write the approval audit: %v; pass a writable --approval-audit-out", o.approvalAuditOut, unwrapPathErr(err))
			}
			auditPath = o.approvalAuditOut
		}
	}
	var evidencePath string
	if c := out.Credential; c != nil {
		evidencePath = o.credentials.evidenceOut
		if evidencePath == "" {
			evidencePath = filepath.Join(filepath.Dir(tracePath), "credential_evidence_"+tr.TraceID+".json")
		}
		if err := gate.WriteCredentialRecord(evidencePath, gate.NewCredentialRecord(in, tr.TraceID, *c, producerVersion())); err != nil {
			return fmt.Errorf("%s: cannot write credential evidence: %w", evidencePath, err)
		}
	}
	code := out.Verdict.ExitCode()
	res := gateEvalResult{
		OK: true, Verdict: out.Verdict, ReasonCodes: out.ReasonCodes, Violations: out.Violations,
		MatchedRule: out.Decision.MatchedRule, IntentDigest: in.IntentDigest, PolicyDigest: policy.Digest(),
		Profile: profile, Phase: in.Context.Phase, TraceID: tr.TraceID, TracePath: tracePath, TraceSigned: tr.Signature != nil,
		RequiredApprovals: out.RequiredApprovals, ValidApprovals: out.ValidApprovals, ApprovalRef: strings.Join(out.ApprovalRefs, ","), ApprovalAuditPath: auditPath,
		DelegationRequired: out.DelegationRequired, ValidDelegations: out.ValidDelegations, DelegationRef: out.DelegationRef,
		SimulateMode: out.Simulated, ExitCode: int(code), LimitUsage: usage, CredentialEvidence: evidencePath,
	}
	if c := out.Credential; c != nil {
		res.CredentialIssuer, res.CredentialRef = c.Broker, c.Ref
	}
	if sc := in.Script; sc != nil {
		res.Script, res.ScriptHash, res.StepCount, res.CompositeRiskClass = true, sc.Hash, len(sc.Steps), sc.CompositeRiskClass()
		res.StepVerdicts = out.Steps
	}
	res.PreApproved, res.PatternID, res.RegistryReason = out.PreApproved, out.PatternID, out.RegistryReason
	if out.BrokerError != "" {
		res.Warnings = append(res.Warnings, out.BrokerError)
	}
	if out.Simulated {
		res.SimulatedVerdict = out.SimulatedVerdict
		res.SimulatedReasonCodes = out.SimulatedReasonCodes
		res.WouldHaveBlocked = out.SimulatedVerdict != gate.Allow
	}
	if priv == nil {
		res.Warnings = append(res.Warnings, "trace not signed: pass --private-key to sign it")
	}
	text := kv("verdict", string(out.Verdict), "reason_codes", strings.Join(out.ReasonCodes, ","),
		"violations", strings.Join(out.Violations, ","), "matched_rule", out.Decision.MatchedRule,
		"intent_digest", in.IntentDigest, "policy_digest", policy.Digest(), "trace", tracePath,
		"exit_code", strconv.Itoa(int(code)))
	if out.Simulated {
		// Simulation never enforces (verdict is allow); what the policy
		// would do comes first so it is what a reader sees.
		text = append(kv("simulated_verdict", string(out.SimulatedVerdict),
			"would_have_blocked", strconv.FormatBool(res.WouldHaveBlocked)), text...)
	}
	if out.BrokerError != "" {
		text = append(text, kv("credential_broker_error", out.BrokerError)...)
	}
	if in.Script != nil {
		text = append(text, kv("script_hash", in.Script.Hash, "step_count", strconv.Itoa(len(in.Script.Steps)))...)
	}
	if out.RegistryReason != "" {
		text = append(text, kv("registry_reason", out.RegistryReason, "pattern_id", out.PatternID)...)
	}
	if res.CredentialRef != "" {
		text = append(text, kv("credential_issuer", res.CredentialIssuer, "credential_ref", res.CredentialRef,
			"credential_evidence", evidencePath)...)
	}
	if usage != nil {
		text = append(text, kv("rate_limit_scope", usage.Scope, "rate_limit_key", usage.Key,
			"rate_limit_used", strconv.Itoa(usage.Used), "rate_limit_remaining", strconv.Itoa(usage.Remaining))...)
	}
	if out.Verdict == gate.RequireApproval {
		text = append(text, kv("required_approvals", strconv.Itoa(out.RequiredApprovals),
			"next", fmt.Sprintf("gait approve --intent-digest %s --policy-digest %s --scope %s --ttl 1h --approver <you> --reason-code <code> --private-key <key>",
				in.IntentDigest, policy.Digest(), strings.Join(gate.ApprovalScope(in), ",")))...)
	}
	a.emit(res, text)
	if code != exitcode.OK {
		return silent(code)
	}
	return nil
}

func readApproval(path string) (gate.ApprovalToken, error) {
	data, err := readSmallFile(path)
	if err != nil {
		return gate.ApprovalToken{}, exitcode.Invalidf("%s: cannot read approval token: %v; pass a token written by `gait approve`", path, err)
	}
	t, err := gate.ReadApprovalToken(data)
	if err != nil {
		return t, exitcode.Invalidf("%s: %v; pass a token written by `gait approve`", path, err)
	}
	return t, nil
}

func readDelegation(path string) (gate.DelegationToken, error) {
	data, err := readSmallFile(path)
	if err != nil {
		return gate.DelegationToken{}, exitcode.Invalidf("%s: cannot read delegation token: %v; pass a token written by `gait delegate mint`", path, err)
	}
	t, err := gate.ReadDelegationToken(data)
	if err != nil {
		return t, exitcode.Invalidf("%s: %v; pass a token written by `gait delegate mint`", path, err)
	}
	return t, nil
}

func errorsAsToken(err error) (*gate.TokenError, bool) {
	return errors.AsType[*gate.TokenError](err)
}
