package main

import (
	"crypto/ed25519"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/keys"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		cmd := &cobra.Command{
			Use:   "keys",
			Short: "Create and check ed25519 signing keys",
			Long:  "keys manages the ed25519 key pairs that sign runpacks, traces and tokens.",
		}
		cmd.AddCommand(newKeysInitCmd(a), newKeysVerifyCmd(a), newKeysRotateCmd(a))
		root.AddCommand(cmd)
	})
}

func newKeysInitCmd(a *app) *cobra.Command {
	var outDir, prefix string
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a new key pair",
		Long: `keys init writes a new ed25519 key pair as <prefix>_private.key (mode 0600)
and <prefix>_public.key, base64 of the raw key bytes. It refuses to replace
existing keys unless --force is given.

In a git work tree, keys init makes sure the private key cannot be committed:
when the directory is not ignored it adds it (gait-out/ for the default) to
the work tree's .gitignore and says so on stderr; it refuses when the key is
tracked already or the directory is the work tree's root. Keep production
keys outside the repository (--out-dir ~/.config/gait/keys) and pass them
with --private-key.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := a.keepKeysOutOfGit(outDir, prefix); err != nil {
				return err
			}
			pair, err := keys.Init(outDir, prefix, force)
			if err != nil {
				return err
			}
			priv, pub := keys.Paths(outDir, prefix)
			id := keys.ID(pair.Public)
			a.emit(struct {
				OK             bool   `json:"ok"`
				KeyID          string `json:"key_id"`
				Prefix         string `json:"prefix"`
				PrivateKeyPath string `json:"private_key_path"`
				PublicKeyPath  string `json:"public_key_path"`
			}{true, id, prefix, priv, pub},
				kv("key_id", id, "private_key", priv, "public_key", pub,
					"next", "gait run record --input run_record.json --key-mode prod --private-key "+priv))
			return nil
		},
	}
	cmd.Flags().StringVar(&outDir, "out-dir", keys.DefaultDir, "directory for the key files")
	cmd.Flags().StringVar(&prefix, "prefix", "gait", "file name prefix")
	cmd.Flags().BoolVar(&force, "force", false, "replace existing keys")
	return cmd
}

// keepKeysOutOfGit makes sure a private key written to dir cannot be
// committed (see keys.EnsureIgnored) and says on stderr when it added a
// .gitignore line.
func (a *app) keepKeysOutOfGit(dir, prefix string) error {
	ignoreFile, line, err := keys.EnsureIgnored(dir, prefix)
	if err != nil {
		return err
	}
	if ignoreFile != "" {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, ignoreFile); err == nil {
				ignoreFile = rel
			}
		}
		a.diag("gait: %s: added %s so private keys stay out of commits", filepath.ToSlash(ignoreFile), line)
	}
	return nil
}

func newKeysVerifyCmd(a *app) *cobra.Command {
	var privPath, pubPath, privEnv, pubEnv string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check that key files parse and belong together",
		Long: `keys verify loads a private key, a public key, or both, and checks that
they parse and that the private key matches the public key.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if privPath == "" && pubPath == "" && privEnv == "" && pubEnv == "" {
				return exitcode.Invalidf("no key given; pass --private-key K, --public-key K, or both (or --private-key-env, --public-key-env)")
			}
			priv, err := a.signingKey(privPath, privEnv)
			if err != nil {
				return err
			}
			pub, err := a.publicKey(pubPath, pubEnv)
			if err != nil {
				return err
			}
			if priv != nil && pub != nil {
				if err := keys.VerifyPair(priv, pub); err != nil {
					// bad input, as in v1: the two files are not a pair
					return exitcode.Invalidf("%s; pass the public key written together with this private key", oneLineMessage(err))
				}
			}
			if pub == nil {
				pub = priv.Public().(ed25519.PublicKey)
			}
			id := keys.ID(pub)
			a.emit(struct {
				OK    bool   `json:"ok"`
				KeyID string `json:"key_id"`
			}{true, id}, kv("key_id", id, "keys", "ok"))
			return nil
		},
	}
	cmd.Flags().StringVar(&privPath, "private-key", "", "private key file")
	cmd.Flags().StringVar(&pubPath, "public-key", "", "public key file")
	cmd.Flags().StringVar(&privEnv, "private-key-env", "", "environment variable holding the private key text")
	cmd.Flags().StringVar(&pubEnv, "public-key-env", "", "environment variable holding the public key text")
	return cmd
}
