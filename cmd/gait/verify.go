package main

import (
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
	var vf verifyFlags
	cmd := &cobra.Command{
		Use:   "verify <run_id|path>",
		Short: "Verify a runpack's integrity and signature",
		Long: `verify checks a runpack without trusting it: the zip is canonical (no
duplicate, unsafe or undeclared entries, no tampered headers), every file
matches the manifest's SHA-256, the manifest digest is right and, with a key
(--public-key or --public-key-env, or the public half of --private-key or
--private-key-env), the ed25519 signature verifies. --require-signature
fails an unsigned runpack; --profile strict also requires a key. Exit 0 when
it holds, 2 when a check fails, 6 when the input is not a runpack.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts, err := vf.options(a)
			if err != nil {
				return err
			}
			path := pack.Resolve(args[0], defaultOutDir)
			prog := a.largeFileProgress("verify:", path)
			res, err := pack.Verify(path, opts)
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
	vf.add(cmd, "the manifest")
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

// verifyFlags are the key and profile flags of v1's verify commands.
type verifyFlags struct {
	verifyKeyFlags
	profile    string
	requireSig bool
}

// add registers the flags; what names the signatures checked.
func (v *verifyFlags) add(cmd *cobra.Command, what string) {
	v.verifyKeyFlags.add(cmd)
	f := cmd.Flags()
	f.StringVar(&v.profile, "profile", "standard", "standard, or strict: a key is required and "+what+" must carry a signature that verifies with it")
	f.BoolVar(&v.requireSig, "require-signature", false, "fail unless "+what+" carries a signature that verifies")
}

// options are the verify options the flags ask for.
func (v *verifyFlags) options(a *app) (pack.VerifyOptions, error) {
	if v.profile != "standard" && v.profile != "strict" {
		return pack.VerifyOptions{}, exitcode.Invalidf("--profile %q is not standard or strict", v.profile)
	}
	pub, err := v.key(a)
	if err != nil {
		return pack.VerifyOptions{}, err
	}
	strict := v.profile == "strict"
	if strict && pub == nil {
		return pack.VerifyOptions{}, exitcode.Invalidf("--profile strict needs a key to check signatures with; pass --public-key, --public-key-env, --private-key or --private-key-env")
	}
	return pack.VerifyOptions{PublicKey: pub, RequireSignature: v.requireSig || strict}, nil
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
