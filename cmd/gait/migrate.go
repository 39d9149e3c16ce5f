package main

import (
	"crypto/ed25519"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/pack"
)

func init() {
	register(func(root *cobra.Command, a *app) { root.AddCommand(newMigrateCmd(a)) })
}

func newMigrateCmd(a *app) *cobra.Command {
	var input, out, target, privateKey string
	cmd := &cobra.Command{
		Use:   "migrate <runpack|run_id>",
		Short: "Rewrite a runpack with the current writer and re-verify it",
		Long: `migrate reads a runpack (checking its digests), rewrites it with the current
writer (canonical JSON, the defaults the schema wants, a canonical zip) to
--out (default <name>_migrated.zip next to it) and verifies what it wrote.
The status is no_change when the rewrite is byte-identical, migrated
otherwise. A signed runpack whose content changes cannot keep its signature:
it is dropped and reported (signature_dropped) unless --private-key re-signs
it. --target v1 is the only target. The input is never modified.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if target != "v1" {
				return exitcode.Invalidf("--target %q is unknown; the only target is v1", target)
			}
			path, err := runpackArg(input, args)
			if err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join(filepath.Dir(path), strings.TrimSuffix(filepath.Base(path), ".zip")+"_migrated.zip")
			}
			if filepath.Clean(out) == filepath.Clean(path) {
				return exitcode.Invalidf("%s: --out is the input; migrate never rewrites its input, pass another --out", out)
			}
			var priv ed25519.PrivateKey
			if privateKey != "" {
				if priv, err = keys.LoadPrivate(privateKey); err != nil {
					return err
				}
			}
			res, err := pack.Migrate(path, out, priv)
			if err != nil {
				return err
			}
			text := kv("status", res.Status, "input", res.Input, "output", res.Output, "run_id", res.RunID,
				"manifest_digest", res.ManifestDigest)
			if res.SignatureDropped {
				text = append(text, kv("signature_dropped", "true")...)
				a.diag("gait: %s: the content changed, so the old signature no longer applies; pass --private-key to sign the migrated runpack", path)
			}
			text = append(text, kv("next", "gait verify "+res.Output)...)
			a.emit(res, text)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&input, "input", "", "runpack path or run id")
	f.StringVar(&out, "out", "", "output path (default <name>_migrated.zip next to the input)")
	f.StringVar(&target, "target", "v1", "schema generation to migrate to (v1)")
	f.StringVar(&privateKey, "private-key", "", "ed25519 private key that signs the migrated runpack")
	return cmd
}
