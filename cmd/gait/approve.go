package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/exitcode"
)

func init() {
	register(func(root *cobra.Command, a *app) { root.AddCommand(newApproveCmd(a)) })
}

// readSmallFile reads a token or key-sized file (at most 1 MiB).
func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errors.New("no such file")
		}
		return nil, errors.Unwrap(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil {
		return nil, err
	}
	if len(data) > 1<<20 {
		return nil, errors.New("file is larger than 1 MiB")
	}
	return data, nil
}

func splitCSV(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// mintToken signs a token with the command's key, TTL in place, and writes
// it to out, or to gait-out/<kind>_<token id>.json.
func mintToken[T any](signing *signingOptions, ttlFlag string, ttl *time.Duration, kind, out string, mint func(ed25519.PrivateKey) (T, string, error)) (T, string, error) {
	var zero T
	priv, err := signing.requireKey()
	if err != nil {
		return zero, "", err
	}
	if *ttl, err = parseTTL(ttlFlag); err != nil {
		return zero, "", err
	}
	tok, id, err := mint(priv)
	if err != nil {
		return zero, "", err
	}
	if out == "" {
		out = fmt.Sprintf("gait-out/%s_%s.json", kind, id)
	}
	if err := gate.WriteToken(out, tok); err != nil {
		return zero, "", fmt.Errorf("%s: cannot write token: %w", out, err)
	}
	return tok, out, nil
}

func parseTTL(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 {
		return 0, exitcode.Invalidf("ttl %q is not a positive duration; pass --ttl 15m or --ttl 1h", s)
	}
	return d, nil
}

func newApproveCmd(a *app) *cobra.Command {
	var req gate.ApprovalRequest
	var ttl, scope, out string
	var signing signingOptions
	cmd := &cobra.Command{
		Use:   "approve --intent-digest D --policy-digest P --ttl 1h --scope S --approver ID --reason-code C",
		Short: "Sign an approval token for one intent under one policy",
		Long: `approve writes a signed gait.gate.approval_token that lets one intent
(--intent-digest) run under one policy (--policy-digest) until the TTL ends.
The scope must cover what gate eval asks for: tool:<tool_name>, plus
phase:apply and destructive:apply for destructive calls ("*" covers all).
gate eval prints the digests and scope in its next= line.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			req.Scope = splitCSV(scope)
			req.ProducerVersion = producerVersion()
			tok, out, err := mintToken(&signing, ttl, &req.TTL, "approval", out, func(priv ed25519.PrivateKey) (gate.ApprovalToken, string, error) {
				t, err := gate.MintApproval(req, priv, time.Now())
				return t, t.TokenID, err
			})
			if err != nil {
				return err
			}
			a.emit(struct {
				OK         bool     `json:"ok"`
				TokenID    string   `json:"token_id"`
				TokenPath  string   `json:"token_path"`
				KeyID      string   `json:"key_id"`
				Approver   string   `json:"approver_identity"`
				ReasonCode string   `json:"reason_code"`
				Scope      []string `json:"scope"`
				ExpiresAt  string   `json:"expires_at"`
			}{true, tok.TokenID, out, tok.Signature.KeyID, tok.ApproverIdentity, tok.ReasonCode, tok.Scope, tok.ExpiresAt.Format(time.RFC3339)},
				kv("token_id", tok.TokenID, "token_path", out, "expires_at", tok.ExpiresAt.Format(time.RFC3339),
					"next", "gait gate eval --policy <policy> --intent <intent> --approval-token "+out+" --approval-public-key "+publicKeyBeside(signing.private)))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.IntentDigest, "intent-digest", "", "intent digest to approve (from gate eval)")
	f.StringVar(&req.PolicyDigest, "policy-digest", "", "policy digest the approval is bound to")
	f.StringVar(&req.DelegationBindingDigest, "delegation-binding-digest", "", "optional delegation binding digest")
	f.StringVar(&ttl, "ttl", "", "how long the token is valid (e.g. 15m, 1h)")
	f.StringVar(&scope, "scope", "", "comma-separated scope (tool:<name>, phase:apply, destructive:apply, *)")
	f.StringVar(&req.Approver, "approver", "", "approver identity")
	f.StringVar(&req.ReasonCode, "reason-code", "", "why the call is approved")
	f.IntVar(&req.MaxTargets, "max-targets", 0, "largest number of targets the token covers (0: any)")
	f.IntVar(&req.MaxOps, "max-ops", 0, "largest number of operations the token covers (0: any)")
	f.StringVar(&out, "out", "", "token output path (default gait-out/approval_<token_id>.json)")
	signing.registerEnv(cmd, a)
	for _, n := range []string{"intent-digest", "policy-digest", "ttl", "scope", "approver", "reason-code"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}
