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
			var pub ed25519.PublicKey
			var err error
			switch {
			case publicKey != "":
				if pub, err = keys.LoadPublic(publicKey); err != nil {
					return err
				}
			case privateKey != "":
				priv, err := keys.LoadPrivate(privateKey)
				if err != nil {
					return err
				}
				pub = priv.Public().(ed25519.PublicKey)
			}
			path := pack.Resolve(args[0], defaultOutDir)
			prog := a.largeFileProgress("verify:", path)
			res, err := pack.Verify(path, pack.VerifyOptions{PublicKey: pub, RequireSignature: requireSig})
			prog.done()
			if err != nil {
				if a.json && exitcode.Of(err) == exitcode.VerifyFailed {
					a.writeJSON(res)
					a.diag("gait: %s", err)
					return silent(exitcode.VerifyFailed)
				}
				return err
			}
			a.emit(res, kv("verify", "ok", "path", res.Path, "run_id", res.RunID,
				"manifest_digest", res.ManifestDigest, "files_checked", fmt.Sprint(res.FilesChecked),
				"signature_status", res.SignatureStatus, "ticket_footer", res.TicketFooter,
				"next", "gait regress bootstrap --from "+args[0]))
			return nil
		},
	}
	cmd.Flags().StringVar(&publicKey, "public-key", "", "ed25519 public key that must have signed the manifest")
	cmd.Flags().StringVar(&privateKey, "private-key", "", "private key whose public half checks the signature")
	cmd.Flags().BoolVar(&requireSig, "require-signature", false, "fail unless a signature verifies")
	cmd.AddCommand(newVerifySessionChainCmd(a))
	return cmd
}
