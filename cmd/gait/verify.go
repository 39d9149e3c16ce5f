package main

import (
	"crypto/ed25519"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/pack"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		root.AddCommand(newVerifyCmd(a))
	})
}

func newVerifyCmd(a *app) *cobra.Command {
	var publicKey, privateKey string
	var requireSig bool
	cmd := &cobra.Command{
		Use:   "verify <run_id|path>",
		Short: "Verify a runpack's integrity and signature",
		Long: `verify checks a runpack without trusting it: the zip is canonical (no
duplicate, unsafe or undeclared entries, no tampered headers), every file
matches the manifest's SHA-256, the manifest digest is right and, with
--public-key, the ed25519 signature verifies. Exit 0 when it holds, 2 when a
check fails, 6 when the input is not a runpack.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			pub, err := verifyingKey(publicKey, privateKey)
			if err != nil {
				return err
			}
			path := pack.Resolve(args[0], defaultOutDir)
			prog := a.largeFileProgress("verify:", path)
			res, err := pack.Verify(path, pack.VerifyOptions{PublicKey: pub, RequireSignature: requireSig})
			prog.done()
			if err != nil {
				return a.verifyFailed(res, err)
			}
			text := kv("verify", "ok", "path", res.Path, "run_id", res.RunID,
				"manifest_digest", res.ManifestDigest, "files_checked", fmt.Sprint(res.FilesChecked),
				"signature_status", res.SignatureStatus, "ticket_footer", res.TicketFooter)
			if res.SignatureStatus == pack.SignatureUnknown {
				// Signed, but nothing checked the signature: say how to.
				text = append(text, kv("signature_note", "the runpack is signed but the signature was not checked; pass --public-key",
					"next", "gait verify "+args[0]+" --public-key "+defaultPublicKey())...)
			}
			a.emit(res, append(text, kv("next", "gait regress bootstrap --from "+args[0])...))
			return nil
		},
	}
	cmd.Flags().StringVar(&publicKey, "public-key", "", "ed25519 public key that must have signed the manifest")
	cmd.Flags().StringVar(&privateKey, "private-key", "", "private key whose public half checks the signature")
	cmd.Flags().BoolVar(&requireSig, "require-signature", false, "fail unless a signature verifies")
	cmd.AddCommand(newVerifySessionChainCmd(a), newVerifyChainCmd(a))
	return cmd
}

// defaultPublicKey is the public key `gait keys init` writes by default, or
// a placeholder when there is none.
func defaultPublicKey() string {
	if _, pub := keys.Paths(keys.DefaultDir, "gait"); fileExists(pub) {
		return pub
	}
	return "<public_key>"
}

// verifyingKey returns the key signatures must verify with: --public-key, or
// the public half of --private-key; nil when neither is given.
func verifyingKey(publicKey, privateKey string) (ed25519.PublicKey, error) {
	switch {
	case publicKey != "":
		return keys.LoadPublic(publicKey)
	case privateKey != "":
		priv, err := keys.LoadPrivate(privateKey)
		if err != nil {
			return nil, err
		}
		return priv.Public().(ed25519.PublicKey), nil
	}
	return nil, nil
}

// verifyFailed reports a failed verification. With --json the partial result
// is the one object on stdout and the reason goes to stderr; other errors
// (bad input) are returned as they are.
func (a *app) verifyFailed(result any, err error) error {
	if !a.json || exitcode.Of(err) != exitcode.VerifyFailed {
		return err
	}
	a.writeJSON(result)
	a.diag("gait: %s", oneLineMessage(err))
	return silent(exitcode.VerifyFailed)
}
