package main

import (
	"crypto/ed25519"
	"time"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/exitcode"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		cmd := &cobra.Command{
			Use:   "delegate",
			Short: "Mint and verify signed delegation tokens",
			Long: `delegate mints and verifies gait.gate.delegation_token files: a delegator
lets a delegate act within scopes until the token expires. gate eval needs
one for rules with require_delegation.`,
		}
		cmd.AddCommand(newDelegateMintCmd(a), newDelegateVerifyCmd(a))
		root.AddCommand(cmd)
	})
}

type delegationResult struct {
	OK         bool     `json:"ok"`
	TokenID    string   `json:"token_id"`
	TokenPath  string   `json:"token_path"`
	KeyID      string   `json:"key_id,omitempty"`
	Delegator  string   `json:"delegator_identity"`
	Delegate   string   `json:"delegate_identity"`
	Scope      []string `json:"scope"`
	ScopeClass string   `json:"scope_class,omitempty"`
	ExpiresAt  string   `json:"expires_at"`
	Valid      *bool    `json:"valid,omitempty"`
	ErrorCode  string   `json:"error_code,omitempty"`
	Error      string   `json:"error,omitempty"`
}

func newDelegateMintCmd(a *app) *cobra.Command {
	var req gate.DelegationRequest
	var ttl, scope, out string
	var signing signingOptions
	cmd := &cobra.Command{
		Use:   "mint --delegator ID --delegate ID --scope S --ttl 1h",
		Short: "Sign a delegation token",
		Long: `delegate mint writes a signed delegation token. --intent-digest and
--policy-digest bind it to one intent or policy.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			req.Scope = splitCSV(scope)
			req.ProducerVersion = producerVersion()
			tok, out, err := mintToken(&signing, ttl, &req.TTL, "delegation", out, func(priv ed25519.PrivateKey) (gate.DelegationToken, string, error) {
				t, err := gate.MintDelegation(req, priv, time.Now())
				return t, t.TokenID, err
			})
			if err != nil {
				return err
			}
			a.emit(delegationResult{OK: true, TokenID: tok.TokenID, TokenPath: out, KeyID: tok.Signature.KeyID,
				Delegator: tok.DelegatorIdentity, Delegate: tok.DelegateIdentity, Scope: tok.Scope, ScopeClass: tok.ScopeClass,
				ExpiresAt: tok.ExpiresAt.Format(time.RFC3339)},
				kv("token_id", tok.TokenID, "token", out, "expires_at", tok.ExpiresAt.Format(time.RFC3339),
					"next", "gait delegate verify --token "+out+" --public-key <public key>"))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Delegator, "delegator", "", "identity that delegates")
	f.StringVar(&req.Delegate, "delegate", "", "identity that receives the delegation")
	f.StringVar(&scope, "scope", "", "comma-separated scopes (e.g. write)")
	f.StringVar(&req.ScopeClass, "scope-class", "", "scope class recorded in the token")
	f.StringVar(&req.IntentDigest, "intent-digest", "", "bind the token to one intent digest")
	f.StringVar(&req.PolicyDigest, "policy-digest", "", "bind the token to one policy digest")
	f.StringVar(&ttl, "ttl", "", "how long the token is valid (e.g. 1h)")
	f.StringVar(&out, "out", "", "token output path (default gait-out/delegation_<token_id>.json)")
	signing.registerEnv(cmd, a)
	for _, n := range []string{"delegator", "delegate", "scope", "ttl"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

func newDelegateVerifyCmd(a *app) *cobra.Command {
	var tokenPath, scope string
	var key verifyKeyFlags
	var check gate.DelegationCheck
	cmd := &cobra.Command{
		Use:   "verify --token T --public-key K",
		Short: "Verify a delegation token",
		Long: `delegate verify checks a delegation token's signature and expiry and,
when given, its delegator, delegate, scope and digest bindings. Exit 0 when
valid, 2 when not.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			pub, err := key.key(a)
			if err != nil {
				return err
			}
			if pub == nil {
				return exitcode.Invalidf("no verification key; pass --public-key K (or --public-key-env, --private-key, --private-key-env)")
			}
			tok, err := readDelegation(tokenPath)
			if err != nil {
				return err
			}
			check.Scope = splitCSV(scope)
			check.Now = time.Now()
			verr := gate.VerifyDelegation(tok, pub, check)
			valid := verr == nil
			res := delegationResult{OK: valid, TokenID: tok.TokenID, TokenPath: tokenPath, Delegator: tok.DelegatorIdentity,
				Delegate: tok.DelegateIdentity, Scope: tok.Scope, ScopeClass: tok.ScopeClass, ExpiresAt: tok.ExpiresAt.Format(time.RFC3339), Valid: &valid}
			if tok.Signature != nil {
				res.KeyID = tok.Signature.KeyID
			}
			if verr != nil {
				res.ErrorCode = tokenCodeOf(verr)
				res.Error = verr.Error()
				a.emit(res, kv("valid", "false", "error_code", res.ErrorCode, "token_id", tok.TokenID))
				a.diag("gait: %s: %v; mint a new token with `gait delegate mint`", tokenPath, verr)
				return silent(exitcode.VerifyFailed)
			}
			a.emit(res, kv("valid", "true", "token_id", tok.TokenID, "delegator", tok.DelegatorIdentity, "delegate", tok.DelegateIdentity))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&tokenPath, "token", "", "delegation token file")
	f.StringVar(&check.Delegator, "delegator", "", "expected delegator identity")
	f.StringVar(&check.Delegate, "delegate", "", "expected delegate identity")
	f.StringVar(&scope, "scope", "", "scopes the token must cover (comma-separated)")
	f.StringVar(&check.IntentDigest, "intent-digest", "", "expected intent digest binding")
	f.StringVar(&check.PolicyDigest, "policy-digest", "", "expected policy digest binding")
	key.add(cmd)
	_ = cmd.MarkFlagRequired("token")
	return cmd
}

func tokenCodeOf(err error) string {
	if te, ok := errorsAsToken(err); ok {
		return te.Code
	}
	return "delegation_token_invalid"
}
