package gate

import (
	"context"
	"crypto/ed25519"
	"errors"
	"slices"
	"time"

	"github.com/gait-dev/gait/internal/keys"
)

// EnforceOptions carries the tokens presented with an intent and the
// clock. Now is called once per Enforce; nil means time.Now.
type EnforceOptions struct {
	Now            func() time.Time
	ApprovalTokens []ApprovalToken
	ApprovalKey    ed25519.PublicKey
	// ApprovalKeys are more approvers' public keys; each token is checked
	// with the key (ApprovalKey or one of these) whose key id its
	// signature names, so two people can approve with their own keys.
	ApprovalKeys     []ed25519.PublicKey
	DelegationTokens []DelegationToken
	DelegationKey    ed25519.PublicKey
	// Simulate reports what would happen without enforcing it: the final
	// verdict is allow and SimulatedVerdict holds the real one.
	Simulate bool
	// Broker issues the credential that an allow from a rule with
	// require_broker_credential needs (see NewBroker). Nil is the off
	// broker: such an allow is blocked (broker_credential_required).
	Broker *Broker
	// Context bounds the broker's work; nil means context.Background().
	Context context.Context
	// ApprovedScripts is the verified approved-script registry (see
	// OpenScriptRegistry); nil means no fast path. A script intent whose
	// hash, tool sequence and policy digest an entry approves is allowed
	// without evaluation (approved_script_match).
	ApprovedScripts *ScriptRegistry
}

// Reason code of an allow that needed a brokered credential when no
// credential broker is configured, and the violation of every allow whose
// credential could not be brokered.
const (
	CodeBrokerCredentialRequired     = "broker_credential_required" //nolint:gosec // a reason code, not a credential
	ViolationBrokerCredentialMissing = "broker_credential_missing"  //nolint:gosec // a violation name, not a credential
)

// withoutBroker blocks an allow decision whose rule requires a brokered
// credential: no credential broker is configured, so none can be brokered.
func withoutBroker(d Decision) Decision {
	if d.Verdict != Allow || !d.RequireBrokerCredential {
		return d
	}
	d.Verdict = Block
	d.ReasonCodes = mergeSorted(d.ReasonCodes, CodeBrokerCredentialRequired)
	d.Violations = mergeSorted(d.Violations, ViolationBrokerCredentialMissing)
	return d
}

// TokenResult records the check of one presented token.
type TokenResult struct {
	TokenID   string `json:"token_id,omitempty"`
	Identity  string `json:"identity,omitempty"`
	Valid     bool   `json:"valid"`
	ErrorCode string `json:"error_code,omitempty"`
}

// Outcome is the final gate answer for one intent: the policy decision
// with approval and delegation tokens applied.
type Outcome struct {
	Verdict     Verdict  `json:"verdict"`
	ReasonCodes []string `json:"reason_codes"`
	Violations  []string `json:"violations"`
	Decision    Decision `json:"-"`

	IntentDigest string `json:"intent_digest"`
	PolicyDigest string `json:"policy_digest"`

	RequiredApprovals  int           `json:"required_approvals,omitempty"`
	ValidApprovals     int           `json:"valid_approvals,omitempty"`
	ApprovalRefs       []string      `json:"approval_refs,omitempty"`
	Approvals          []TokenResult `json:"approvals,omitempty"`
	DelegationRequired bool          `json:"delegation_required,omitempty"`
	ValidDelegations   int           `json:"valid_delegations,omitempty"`
	DelegationRef      string        `json:"delegation_ref,omitempty"`
	Delegations        []TokenResult `json:"delegations,omitempty"`

	// Credential is the brokered credential (by reference) of an allow
	// from a rule with require_broker_credential; BrokerError says why a
	// configured broker issued none. Neither holds a credential value.
	Credential  *Credential `json:"-"`
	BrokerError string      `json:"broker_error,omitempty"`

	// Steps are a script's per-step verdicts. PreApproved says an
	// approved-script registry entry (PatternID) allowed the script;
	// RegistryReason is the fast path's answer when a registry was given.
	Steps          []StepVerdict `json:"step_verdicts,omitempty"`
	PreApproved    bool          `json:"pre_approved,omitempty"`
	PatternID      string        `json:"pattern_id,omitempty"`
	RegistryReason string        `json:"registry_reason,omitempty"`

	Simulated            bool     `json:"simulated,omitempty"`
	SimulatedVerdict     Verdict  `json:"simulated_verdict,omitempty"`
	SimulatedReasonCodes []string `json:"simulated_reason_codes,omitempty"`
}

// ApprovalScope is the scope an approval token needs for an intent:
// tool:<name>, plus phase:apply and destructive:apply for destructive
// intents in the apply phase.
func ApprovalScope(in *Intent) []string {
	s := []string{"tool:" + in.ToolName}
	if in.destructive && in.Context.Phase == "apply" {
		s = append(s, "destructive:apply", "phase:apply")
	}
	slices.Sort(s)
	return s
}

// Enforce evaluates in and applies the presented tokens:
//
//   - a rule with require_delegation needs a valid delegation token whose
//     delegate is the requester and whose delegator is in the intent's
//     chain; without one the verdict is block;
//   - a require_approval verdict becomes allow only with at least
//     min_approvals valid approval tokens (from distinct approvers when the
//     rule asks) bound to this intent and policy digest;
//   - an allow from a rule with require_broker_credential asks
//     opts.Broker for a credential: issued, it stays allow
//     (broker_credential_present, Outcome.Credential); not issued, or with
//     no broker configured, it becomes block (broker_credential_missing,
//     or broker_credential_required without a broker; violation
//     broker_credential_missing).
//
// Invalid, expired, wrongly bound or wrongly signed tokens never allow;
// each one's error code is added to the reason codes.
func (p *Policy) Enforce(in *Intent, opts EnforceOptions) Outcome {
	return p.EnforceDecision(in, p.Evaluate(in), opts)
}

// EnforceDecision is Enforce for a decision already made by Evaluate and
// possibly tightened since, for instance by Limits.Apply.
func (p *Policy) EnforceDecision(in *Intent, d Decision, opts EnforceOptions) Outcome {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	t := now().UTC()
	out := Outcome{Verdict: d.Verdict, Decision: d, IntentDigest: in.IntentDigest, PolicyDigest: p.digest, Steps: d.Steps}
	if reg := opts.ApprovedScripts; reg != nil {
		switch e, ok := reg.Match(in, p.digest); {
		case in.Script == nil:
			out.RegistryReason = CodeApprovedScriptNoScript
		case ok:
			return opts.finish(preApproved(in, p.digest, e))
		case len(reg.Entries) > 0:
			out.RegistryReason = CodeApprovedScriptNotFound
		}
	}
	reasons := slices.Clone(d.ReasonCodes)
	violations := slices.Clone(d.Violations)

	if d.RequireDelegation && out.Verdict != Block {
		out.DelegationRequired = true
		for _, tok := range opts.DelegationTokens {
			err := VerifyDelegation(tok, opts.DelegationKey, delegationCheckFor(in, p.digest, t))
			if err == nil && !delegatorInChain(in.Delegation, tok.DelegatorIdentity) {
				err = tokenErr(CodeDelegationDelegator, "delegator %s is not in the intent's delegation chain", tok.DelegatorIdentity)
			}
			res := TokenResult{TokenID: tok.TokenID, Identity: tok.DelegatorIdentity, Valid: err == nil}
			if err != nil {
				res.ErrorCode = tokenCode(err, CodeDelegationInvalid)
				reasons = append(reasons, res.ErrorCode)
			} else {
				out.ValidDelegations++
				if out.DelegationRef == "" {
					out.DelegationRef = tok.TokenID
				}
			}
			out.Delegations = append(out.Delegations, res)
		}
		switch {
		case out.ValidDelegations > 0:
			reasons = append(reasons, CodeDelegationGranted)
		case len(opts.DelegationTokens) == 0:
			out.Verdict = Block
			reasons = append(reasons, CodeDelegationMissing)
			violations = append(violations, violationDelegationNot)
		default:
			out.Verdict = Block
			reasons = append(reasons, CodeDelegationInsuff)
			violations = append(violations, violationDelegationNot)
		}
	}

	if out.Verdict == RequireApproval {
		out.RequiredApprovals = max(d.MinApprovals, 1)
		check := ApprovalCheck{IntentDigest: in.IntentDigest, PolicyDigest: p.digest, Scope: ApprovalScope(in), Targets: len(in.Targets), Ops: 1, Now: t}
		var approvers, tokenIDs []string
		for _, tok := range opts.ApprovalTokens {
			err := VerifyApproval(tok, opts.approvalKeyFor(tok), check)
			res := TokenResult{TokenID: tok.TokenID, Identity: tok.ApproverIdentity, Valid: err == nil}
			if err != nil {
				res.ErrorCode = tokenCode(err, CodeApprovalInvalid)
				reasons = append(reasons, res.ErrorCode)
			} else {
				out.ApprovalRefs = append(out.ApprovalRefs, tok.TokenID)
				approvers = append(approvers, tok.ApproverIdentity)
				tokenIDs = append(tokenIDs, tok.TokenID)
			}
			out.Approvals = append(out.Approvals, res)
		}
		// As in v1: the same token given twice counts once, and a rule
		// wanting distinct approvers counts people, not tokens.
		slices.Sort(tokenIDs)
		out.ValidApprovals = len(slices.Compact(tokenIDs))
		granted := out.ValidApprovals
		if d.RequireDistinctApprovers {
			slices.Sort(approvers)
			granted = len(slices.Compact(approvers))
		}
		switch {
		case granted >= out.RequiredApprovals:
			out.Verdict = Allow
			reasons = append(reasons, CodeApprovalGranted)
		case len(opts.ApprovalTokens) == 0:
			reasons = append(reasons, CodeApprovalMissing)
			violations = append(violations, violationApprovalNotGiven)
		case out.ValidApprovals >= out.RequiredApprovals:
			// enough tokens, too few different approvers
			reasons = append(reasons, CodeApprovalDistinct)
			violations = append(violations, violationApprovalNotGiven)
		default:
			reasons = append(reasons, CodeApprovalInsufficient)
			if d.RequireDistinctApprovers && out.RequiredApprovals > 1 {
				// v1 names the distinct-approver rule whenever more than
				// one approver is needed and too few tokens are valid
				reasons = append(reasons, CodeApprovalDistinct)
			}
			violations = append(violations, violationApprovalNotGiven)
		}
	}

	if out.Verdict == Allow && d.RequireBrokerCredential {
		reasons, violations = opts.broker(in, d, t, &out, reasons, violations)
	}

	out.ReasonCodes = mergeSorted(reasons)
	out.Violations = mergeSorted(violations)
	return opts.finish(out)
}

// preApproved is the outcome of a script an approved-script entry allows.
func preApproved(in *Intent, policyDigest string, e ApprovedScript) Outcome {
	codes := []string{CodeApprovedScriptMatch}
	out := Outcome{
		Verdict: Allow, ReasonCodes: codes, Violations: emptyList, Decision: Decision{Verdict: Allow, ReasonCodes: codes, Violations: emptyList},
		IntentDigest: in.IntentDigest, PolicyDigest: policyDigest,
		PreApproved: true, PatternID: e.PatternID, RegistryReason: CodeApprovedScriptMatch,
	}
	for i, st := range in.Script.Steps {
		out.Steps = append(out.Steps, StepVerdict{Index: i, ToolName: st.ToolName, Verdict: Allow, ReasonCodes: codes})
	}
	return out
}

// finish applies simulation to a final outcome.
func (o EnforceOptions) finish(out Outcome) Outcome {
	if o.Simulate {
		out.Simulated = true
		out.SimulatedVerdict = out.Verdict
		out.SimulatedReasonCodes = out.ReasonCodes
		extra := []string{"simulate_mode_non_enforcing"}
		if out.Verdict != Allow {
			extra = append(extra, "simulated_"+string(out.Verdict))
		}
		out.ReasonCodes = mergeSorted(out.ReasonCodes, extra...)
		out.Verdict = Allow
	}
	return out
}

// broker applies the credential broker to an allow that needs a brokered
// credential.
func (o EnforceOptions) broker(in *Intent, d Decision, now time.Time, out *Outcome, reasons, violations []string) ([]string, []string) {
	if o.Broker == nil {
		out.Verdict = Block
		return append(reasons, CodeBrokerCredentialRequired), append(violations, ViolationBrokerCredentialMissing)
	}
	c, err := o.Broker.Issue(o.Context, o.Broker.Request(in, d))
	if err == nil {
		err = c.checkFresh(now)
	}
	if err != nil {
		out.Verdict = Block
		out.BrokerError = err.Error()
		return append(reasons, CodeBrokerCredentialMissing), append(violations, ViolationBrokerCredentialMissing)
	}
	out.Credential = &c
	return append(reasons, CodeBrokerCredentialPresent), violations
}

func delegationCheckFor(in *Intent, policyDigest string, now time.Time) DelegationCheck {
	c := DelegationCheck{Delegate: in.Context.Identity, IntentDigest: in.IntentDigest, PolicyDigest: policyDigest, Now: now}
	if del := in.Delegation; del != nil {
		c.Delegate = del.RequesterIdentity
		if del.ScopeClass != "" {
			c.Scope = []string{del.ScopeClass}
		}
	}
	return c
}

// tokenCode extracts the TokenError code from err.
func tokenCode(err error, fallback string) string {
	if te, ok := errors.AsType[*TokenError](err); ok {
		return te.Code
	}
	return fallback
}

// delegatorInChain reports whether a token's delegator appears in the
// intent's chain (any delegator is accepted when the intent has no chain).
func delegatorInChain(d *Delegation, delegator string) bool {
	if d == nil || len(d.Chain) == 0 {
		return true
	}
	for _, l := range d.Chain {
		if l.DelegatorIdentity == delegator {
			return true
		}
	}
	return false
}

// approvalKeyFor is the key a token's signature names by key id among
// ApprovalKey and ApprovalKeys, or ApprovalKey (or the only key) when none
// matches, so the signature check reports the mismatch.
func (o EnforceOptions) approvalKeyFor(tok ApprovalToken) ed25519.PublicKey {
	all := o.ApprovalKeys
	if o.ApprovalKey != nil {
		all = append([]ed25519.PublicKey{o.ApprovalKey}, all...)
	}
	if tok.Signature != nil {
		for _, k := range all {
			if keys.ID(k) == tok.Signature.KeyID {
				return k
			}
		}
	}
	if len(all) > 0 {
		return all[0]
	}
	return nil
}

// ApplyBroker is the credential step of EnforceDecision on its own, for
// callers that present no approval or delegation tokens (the gate
// service): an allow from a rule with require_broker_credential asks b
// (nil: no broker, broker_credential_required) and is blocked when no
// credential is issued. Any other decision passes unchanged.
func (p *Policy) ApplyBroker(ctx context.Context, in *Intent, d Decision, b *Broker, now time.Time) Outcome {
	out := Outcome{Verdict: d.Verdict, ReasonCodes: d.ReasonCodes, Violations: d.Violations, Decision: d, IntentDigest: in.IntentDigest, PolicyDigest: p.digest, Steps: d.Steps}
	if d.Verdict == Allow && d.RequireBrokerCredential {
		reasons, violations := EnforceOptions{Broker: b, Context: ctx}.broker(in, d, now.UTC(), &out, slices.Clone(d.ReasonCodes), slices.Clone(d.Violations))
		out.ReasonCodes, out.Violations = mergeSorted(reasons), mergeSorted(violations)
	}
	return out
}
