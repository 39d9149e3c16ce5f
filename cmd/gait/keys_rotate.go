package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/doctor"
	"github.com/gait-dev/gait/internal/keys"
)

func newKeysRotateCmd(a *app) *cobra.Command {
	var outDir, prefix string
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Write a new key pair next to the current one",
		Long: `keys rotate writes a new ed25519 key pair as <prefix>_<UTC time>_private.key
and _public.key (for example gait_20260205T090000Z_private.key) in --out-dir,
leaving existing keys in place so artifacts they signed still verify. It
reports the new key id and, when <prefix>_public.key exists, the previous
one. Point signing at the new private key; keep the old public key for
verification until the artifacts it signed expire.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			newPrefix := prefix + "_" + a.now().UTC().Format("20060102T150405Z")
			prevID := ""
			if _, oldPub := keys.Paths(outDir, prefix); fileExists(oldPub) {
				if pub, err := keys.LoadPublic(oldPub); err == nil {
					prevID = keys.ID(pub)
				}
			}
			if err := a.keepKeysOutOfGit(outDir, newPrefix); err != nil {
				return err
			}
			pair, err := keys.Init(outDir, newPrefix, false)
			if err != nil {
				return err
			}
			priv, pub := keys.Paths(outDir, newPrefix)
			id := keys.ID(pair.Public)
			text := kv("key_id", id, "private_key", priv, "public_key", pub)
			if prevID != "" {
				text = append(text, kv("previous_key_id", prevID)...)
			}
			run := doctor.FirstRun(defaultOutDir)
			if run == "" {
				run = "<run>"
			}
			text = append(text, kv("next", "gait guard pack --run "+run+" --key-mode prod --private-key "+priv)...)
			a.emit(struct {
				OK             bool   `json:"ok"`
				KeyID          string `json:"key_id"`
				PreviousKeyID  string `json:"previous_key_id,omitempty"`
				Prefix         string `json:"prefix"`
				PrivateKeyPath string `json:"private_key_path"`
				PublicKeyPath  string `json:"public_key_path"`
			}{true, id, prevID, newPrefix, priv, pub}, text)
			return nil
		},
	}
	cmd.Flags().StringVar(&outDir, "out-dir", "gait-out/keys", "directory for the key files")
	cmd.Flags().StringVar(&prefix, "prefix", "gait", "file name prefix of the current keys")
	return cmd
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
