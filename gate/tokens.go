package gate

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/keys"
)

// ApprovalToken is a signed gait.gate.approval_token: one approver's
// consent to one intent under one policy, for a limited time and scope.
type ApprovalToken struct {
	SchemaID                string          `json:"schema_id"`
	SchemaVersion           string          `json:"schema_version"`
	CreatedAt               time.Time       `json:"created_at"`
	ProducerVersion         string          `json:"producer_version"`
	TokenID                 string          `json:"token_id"`
	ApproverIdentity        string          `json:"approver_identity"`
	ReasonCode              string          `json:"reason_code"`
	IntentDigest            string          `json:"intent_digest"`
	PolicyDigest            string          `json:"policy_digest"`
	DelegationBindingDigest string          `json:"delegation_binding_digest,omitempty"`
	Scope                   []string        `json:"scope"`
	MaxTargets              int             `json:"max_targets,omitempty"`
	MaxOps                  int             `json:"max_ops,omitempty"`
	ExpiresAt               time.Time       `json:"expires_at"`
	Signature               *keys.Signature `json:"signature,omitempty"`
}

// DelegationToken is a signed gait.gate.delegation_token: a delegator lets
// a delegate act within scopes until it expires, optionally bound to one
// intent and policy.
type DelegationToken struct {
	SchemaID          string          `json:"schema_id"`
	SchemaVersion     string          `json:"schema_version"`
	CreatedAt         time.Time       `json:"created_at"`
	ProducerVersion   string          `json:"producer_version"`
	TokenID           string          `json:"token_id"`
	DelegatorIdentity string          `json:"delegator_identity"`
	DelegateIdentity  string          `json:"delegate_identity"`
	Scope             []string        `json:"scope"`
	ScopeClass        string          `json:"scope_class,omitempty"`
	IntentDigest      string          `json:"intent_digest,omitempty"`
	PolicyDigest      string          `json:"policy_digest,omitempty"`
	ExpiresAt         time.Time       `json:"expires_at"`
	Signature         *keys.Signature `json:"signature,omitempty"`
}

// Token check failure codes, as they appear in reason codes.
const (
	CodeApprovalMissing       = "approval_token_missing"
	CodeApprovalGranted       = "approval_granted"
	CodeApprovalInsufficient  = "approval_chain_insufficient"
	CodeApprovalDistinct      = "approval_distinct_approvers_required"
	CodeApprovalInvalid       = "approval_token_invalid"
	CodeApprovalSigMissing    = "approval_token_signature_missing"
	CodeApprovalSigInvalid    = "approval_token_signature_invalid"
	CodeApprovalExpired       = "approval_token_expired"
	CodeApprovalIntent        = "approval_token_intent_mismatch"
	CodeApprovalPolicy        = "approval_token_policy_mismatch"
	CodeApprovalDelegation    = "approval_token_delegation_binding_mismatch"
	CodeApprovalScope         = "approval_token_scope_mismatch"
	CodeApprovalTargets       = "approval_token_max_targets_exceeded"
	CodeApprovalOps           = "approval_token_max_ops_exceeded"
	CodeDelegationMissing     = "delegation_token_missing"
	CodeDelegationGranted     = "delegation_granted"
	CodeDelegationInsuff      = "delegation_chain_insufficient"
	CodeDelegationInvalid     = "delegation_token_invalid"
	CodeDelegationSigMissing  = "delegation_token_signature_missing"
	CodeDelegationSigInvalid  = "delegation_token_signature_invalid"
	CodeDelegationExpired     = "delegation_token_expired"
	CodeDelegationIntent      = "delegation_token_intent_mismatch"
	CodeDelegationPolicy      = "delegation_token_policy_mismatch"
	CodeDelegationScope       = "delegation_token_scope_mismatch"
	CodeDelegationDelegator   = "delegation_token_delegator_mismatch"
	CodeDelegationDelegate    = "delegation_token_delegate_mismatch"
	violationApprovalNotGiven = "approval_not_granted"
	violationDelegationNot    = "delegation_not_granted"
)

// TokenError is a failed token check; Code is one of the Code* constants.
type TokenError struct {
	Code string
	Msg  string
}

func (e *TokenError) Error() string { return e.Code + ": " + e.Msg }

func tokenErr(code, format string, args ...any) error {
	return &TokenError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// ApprovalRequest holds what MintApproval signs.
type ApprovalRequest struct {
	IntentDigest, PolicyDigest, DelegationBindingDigest string
	Approver, ReasonCode                                string
	Scope                                               []string
	MaxTargets, MaxOps                                  int
	TTL                                                 time.Duration
	ProducerVersion                                     string
}

func tokenID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:12])
}

func checkDigestArg(name, v string, required bool) (string, error) {
	v = lowTrim(v)
	if v == "" && !required {
		return "", nil
	}
	if !digest.Valid(v) {
		return "", exitcode.Invalidf("%s %q is not a sha256 hex digest; pass the digest printed by `gait gate eval`", name, v)
	}
	return v, nil
}

// MintApproval creates and signs an approval token at now.
func MintApproval(req ApprovalRequest, priv ed25519.PrivateKey, now time.Time) (ApprovalToken, error) {
	var err error
	t := ApprovalToken{SchemaID: ApprovalTokenSchemaID, SchemaVersion: SchemaVersion, ProducerVersion: producer(req.ProducerVersion)}
	if t.IntentDigest, err = checkDigestArg("--intent-digest", req.IntentDigest, true); err != nil {
		return t, err
	}
	if t.PolicyDigest, err = checkDigestArg("--policy-digest", req.PolicyDigest, true); err != nil {
		return t, err
	}
	if t.DelegationBindingDigest, err = checkDigestArg("--delegation-binding-digest", req.DelegationBindingDigest, false); err != nil {
		return t, err
	}
	t.ApproverIdentity = strings.TrimSpace(req.Approver)
	t.ReasonCode = strings.TrimSpace(req.ReasonCode)
	t.Scope = normList(req.Scope, true)
	switch {
	case t.ApproverIdentity == "":
		return t, exitcode.Invalidf("no approver; pass --approver IDENTITY")
	case t.ReasonCode == "":
		return t, exitcode.Invalidf("no reason code; pass --reason-code CODE")
	case len(t.Scope) == 0:
		return t, exitcode.Invalidf("empty scope; pass --scope tool:<tool_name>[,...]")
	case req.TTL <= 0:
		return t, exitcode.Invalidf("ttl must be positive; pass --ttl 1h")
	case req.MaxTargets < 0 || req.MaxOps < 0:
		return t, exitcode.Invalidf("--max-targets and --max-ops must be >= 0")
	}
	t.MaxTargets, t.MaxOps = req.MaxTargets, req.MaxOps
	t.CreatedAt = now.UTC()
	t.ExpiresAt = t.CreatedAt.Add(req.TTL)
	t.TokenID = tokenID(t.IntentDigest, t.PolicyDigest, t.DelegationBindingDigest, t.ApproverIdentity, t.ReasonCode,
		strings.Join(t.Scope, ","), strconv.Itoa(t.MaxTargets), strconv.Itoa(t.MaxOps), t.ExpiresAt.Format(time.RFC3339Nano))
	sig, err := signDoc(t, priv)
	if err != nil {
		return t, err
	}
	t.Signature = &sig
	return t, nil
}

// DelegationRequest holds what MintDelegation signs.
type DelegationRequest struct {
	Delegator, Delegate        string
	Scope                      []string
	ScopeClass                 string
	IntentDigest, PolicyDigest string
	TTL                        time.Duration
	ProducerVersion            string
}

// MintDelegation creates and signs a delegation token at now.
func MintDelegation(req DelegationRequest, priv ed25519.PrivateKey, now time.Time) (DelegationToken, error) {
	var err error
	t := DelegationToken{SchemaID: DelegationSchemaID, SchemaVersion: SchemaVersion, ProducerVersion: producer(req.ProducerVersion)}
	t.DelegatorIdentity = strings.TrimSpace(req.Delegator)
	t.DelegateIdentity = strings.TrimSpace(req.Delegate)
	t.Scope = normList(req.Scope, true)
	t.ScopeClass = lowTrim(req.ScopeClass)
	switch {
	case t.DelegatorIdentity == "":
		return t, exitcode.Invalidf("no delegator; pass --delegator IDENTITY")
	case t.DelegateIdentity == "":
		return t, exitcode.Invalidf("no delegate; pass --delegate IDENTITY")
	case len(t.Scope) == 0:
		return t, exitcode.Invalidf("empty scope; pass --scope write[,...]")
	case req.TTL <= 0:
		return t, exitcode.Invalidf("ttl must be positive; pass --ttl 1h")
	}
	if t.IntentDigest, err = checkDigestArg("--intent-digest", req.IntentDigest, false); err != nil {
		return t, err
	}
	if t.PolicyDigest, err = checkDigestArg("--policy-digest", req.PolicyDigest, false); err != nil {
		return t, err
	}
	t.CreatedAt = now.UTC()
	t.ExpiresAt = t.CreatedAt.Add(req.TTL)
	t.TokenID = tokenID(t.DelegatorIdentity, t.DelegateIdentity, strings.Join(t.Scope, ","), t.ScopeClass,
		t.IntentDigest, t.PolicyDigest, t.ExpiresAt.Format(time.RFC3339Nano))
	sig, err := signDoc(t, priv)
	if err != nil {
		return t, err
	}
	t.Signature = &sig
	return t, nil
}

func producer(v string) string {
	if v == "" {
		return "0.0.0-dev"
	}
	return v
}

// signDoc signs a document whose Signature field is nil.
func signDoc(doc any, priv ed25519.PrivateKey) (keys.Signature, error) {
	d, err := digest.JSON(doc)
	if err != nil {
		return keys.Signature{}, err
	}
	return keys.SignDigest(priv, d)
}

// ReadApprovalToken decodes an approval token file's bytes. Unknown
// fields are rejected: a token is a security document.
func ReadApprovalToken(data []byte) (ApprovalToken, error) {
	var t ApprovalToken
	if err := strictJSON(data, &t); err != nil {
		return t, err
	}
	if t.SchemaID != ApprovalTokenSchemaID {
		return t, fmt.Errorf("schema_id %q is not %s", t.SchemaID, ApprovalTokenSchemaID)
	}
	return t, nil
}

// ReadDelegationToken decodes a delegation token file's bytes.
func ReadDelegationToken(data []byte) (DelegationToken, error) {
	var t DelegationToken
	if err := strictJSON(data, &t); err != nil {
		return t, err
	}
	if t.SchemaID != DelegationSchemaID {
		return t, fmt.Errorf("schema_id %q is not %s", t.SchemaID, DelegationSchemaID)
	}
	return t, nil
}

func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not a valid token: %s", jsonErr(err))
	}
	if dec.More() {
		return errors.New("trailing data after the token")
	}
	return nil
}

// ApprovalCheck is what an approval token must match.
type ApprovalCheck struct {
	IntentDigest, PolicyDigest, DelegationBindingDigest string
	Scope                                               []string // every entry must be in the token's scope (or the token has "*")
	Targets, Ops                                        int
	Now                                                 time.Time
}

// VerifyApproval checks an approval token's signature, bindings, expiry
// and scope. A nil error means the token grants approval; a non-nil error
// is a *TokenError.
func VerifyApproval(t ApprovalToken, pub ed25519.PublicKey, c ApprovalCheck) error {
	if t.SchemaID != ApprovalTokenSchemaID || t.SchemaVersion != SchemaVersion || t.TokenID == "" || t.ApproverIdentity == "" ||
		t.ReasonCode == "" || !digest.Valid(t.IntentDigest) || !digest.Valid(t.PolicyDigest) || len(t.Scope) == 0 ||
		t.CreatedAt.IsZero() || t.ExpiresAt.IsZero() {
		return tokenErr(CodeApprovalInvalid, "token is incomplete or has a bad schema")
	}
	if t.Signature == nil {
		return tokenErr(CodeApprovalSigMissing, "token is not signed")
	}
	if len(pub) != ed25519.PublicKeySize {
		return tokenErr(CodeApprovalSigInvalid, "no verification key")
	}
	body := t
	body.Signature = nil
	d, err := digest.JSON(body)
	if err != nil {
		return tokenErr(CodeApprovalInvalid, "%v", err)
	}
	if err := keys.VerifySignature(pub, *t.Signature, d); err != nil {
		return tokenErr(CodeApprovalSigInvalid, "%v", err)
	}
	if c.IntentDigest != "" && !strings.EqualFold(t.IntentDigest, c.IntentDigest) {
		return tokenErr(CodeApprovalIntent, "token approves intent %s, not %s", short(t.IntentDigest), short(c.IntentDigest))
	}
	if c.PolicyDigest != "" && !strings.EqualFold(t.PolicyDigest, c.PolicyDigest) {
		return tokenErr(CodeApprovalPolicy, "token approves policy %s, not %s", short(t.PolicyDigest), short(c.PolicyDigest))
	}
	if c.DelegationBindingDigest != "" && !strings.EqualFold(t.DelegationBindingDigest, c.DelegationBindingDigest) {
		return tokenErr(CodeApprovalDelegation, "delegation binding differs")
	}
	if !c.Now.Before(t.ExpiresAt) {
		return tokenErr(CodeApprovalExpired, "token expired at %s", t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if !scopeCovers(normList(t.Scope, true), c.Scope) {
		return tokenErr(CodeApprovalScope, "token scope %v does not cover %v", t.Scope, c.Scope)
	}
	if t.MaxTargets > 0 && c.Targets > t.MaxTargets {
		return tokenErr(CodeApprovalTargets, "%d targets exceed max_targets %d", c.Targets, t.MaxTargets)
	}
	if t.MaxOps > 0 && c.Ops > t.MaxOps {
		return tokenErr(CodeApprovalOps, "%d operations exceed max_ops %d", c.Ops, t.MaxOps)
	}
	return nil
}

func scopeCovers(have, need []string) bool {
	if slices.Contains(have, "*") {
		return true
	}
	for _, n := range need {
		if !slices.Contains(have, strings.ToLower(n)) {
			return false
		}
	}
	return true
}

func short(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

// DelegationCheck is what a delegation token must match. Empty fields are
// not checked.
type DelegationCheck struct {
	Delegator, Delegate        string
	Scope                      []string
	IntentDigest, PolicyDigest string
	Now                        time.Time
}

// VerifyDelegation checks a delegation token's signature, expiry and
// bindings. A non-nil error is a *TokenError.
func VerifyDelegation(t DelegationToken, pub ed25519.PublicKey, c DelegationCheck) error {
	if t.SchemaID != DelegationSchemaID || t.SchemaVersion != SchemaVersion || t.TokenID == "" || t.DelegatorIdentity == "" ||
		t.DelegateIdentity == "" || len(t.Scope) == 0 || t.CreatedAt.IsZero() || t.ExpiresAt.IsZero() ||
		(t.IntentDigest != "" && !digest.Valid(t.IntentDigest)) || (t.PolicyDigest != "" && !digest.Valid(t.PolicyDigest)) {
		return tokenErr(CodeDelegationInvalid, "token is incomplete or has a bad schema")
	}
	if t.Signature == nil {
		return tokenErr(CodeDelegationSigMissing, "token is not signed")
	}
	if len(pub) != ed25519.PublicKeySize {
		return tokenErr(CodeDelegationSigInvalid, "no verification key")
	}
	body := t
	body.Signature = nil
	d, err := digest.JSON(body)
	if err != nil {
		return tokenErr(CodeDelegationInvalid, "%v", err)
	}
	if err := keys.VerifySignature(pub, *t.Signature, d); err != nil {
		return tokenErr(CodeDelegationSigInvalid, "%v", err)
	}
	if !c.Now.Before(t.ExpiresAt) {
		return tokenErr(CodeDelegationExpired, "token expired at %s", t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if c.Delegator != "" && t.DelegatorIdentity != c.Delegator {
		return tokenErr(CodeDelegationDelegator, "delegator is %s, not %s", t.DelegatorIdentity, c.Delegator)
	}
	if c.Delegate != "" && t.DelegateIdentity != c.Delegate {
		return tokenErr(CodeDelegationDelegate, "delegate is %s, not %s", t.DelegateIdentity, c.Delegate)
	}
	if len(c.Scope) > 0 && !scopeCovers(normList(t.Scope, true), c.Scope) {
		return tokenErr(CodeDelegationScope, "token scope %v does not cover %v", t.Scope, c.Scope)
	}
	if t.IntentDigest != "" && c.IntentDigest != "" && !strings.EqualFold(t.IntentDigest, c.IntentDigest) {
		return tokenErr(CodeDelegationIntent, "token is bound to intent %s, not %s", short(t.IntentDigest), short(c.IntentDigest))
	}
	if t.PolicyDigest != "" && c.PolicyDigest != "" && !strings.EqualFold(t.PolicyDigest, c.PolicyDigest) {
		return tokenErr(CodeDelegationPolicy, "token is bound to policy %s, not %s", short(t.PolicyDigest), short(c.PolicyDigest))
	}
	return nil
}

// WriteToken writes a token as indented JSON through an atomic rename,
// mode 0600.
func WriteToken(path string, token any) error {
	b, err := json.MarshalIndent(token, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o600)
}
