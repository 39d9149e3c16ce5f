package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/guard"
	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
)

// keyFlags name where an encryption key comes from: an environment variable
// or a command's output, never a flag value or a file gait reads itself.
type keyFlags struct {
	env, command string
	args         []string
}

func (k *keyFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&k.env, "key-env", "", "environment variable holding the key (base64 or hex of 32 bytes)")
	f.StringVar(&k.command, "key-command", "", "command printing the key on stdout (run without a shell)")
	f.StringSliceVar(&k.args, "key-command-args", nil, "arguments of --key-command, comma-separated")
}

// keyCommandTimeout bounds how long a key command may run.
const keyCommandTimeout = 10 * time.Second

// flags are the key source flags as given, for a hint that needs the same key.
func (k *keyFlags) flags() string {
	switch {
	case k.env != "":
		return " --key-env " + k.env
	case k.command != "":
		s := " --key-command " + k.command
		if len(k.args) > 0 {
			s += " --key-command-args " + strings.Join(k.args, ",")
		}
		return s
	}
	return ""
}

func (k *keyFlags) load(a *app) ([]byte, guard.KeySource, error) {
	var text string
	var src guard.KeySource
	switch {
	case k.env != "" && k.command != "":
		return nil, src, exitcode.Invalidf("give one key source, --key-env or --key-command")
	case k.env != "":
		src = guard.KeySource{Mode: "env", Ref: k.env}
		if text = a.getenv(k.env); text == "" {
			return nil, src, exitcode.Invalidf("--key-env %s: the variable is empty or unset; export a base64 32-byte key in it", k.env)
		}
	case k.command != "":
		src = guard.KeySource{Mode: "command"}
		ctx, cancel := context.WithTimeout(context.Background(), keyCommandTimeout)
		defer cancel()
		var out, errb bytes.Buffer
		c := exec.CommandContext(ctx, k.command, k.args...)
		c.Stdout, c.Stderr = &out, &errb
		if err := c.Run(); err != nil {
			return nil, src, exitcode.Invalidf("--key-command %s: %v %s; make the command print the key and exit 0", k.command, err, strings.TrimSpace(errb.String()))
		}
		text = out.String()
	default:
		return nil, src, exitcode.Invalidf("no key source; pass --key-env VAR or --key-command CMD (keys are never taken from a flag value)")
	}
	key, err := guard.ParseKey(text)
	if err != nil {
		return nil, src, exitcode.Invalidf("key from %s: %v; generate one with `head -c 32 /dev/urandom | base64`", src.Mode, err)
	}
	return key, src, nil
}

func readInput(path string) ([]byte, error) {
	if path == "" {
		return nil, exitcode.Invalidf("no input; pass --in <file>")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, exitcode.Invalidf("%s: %v; pass an existing file to --in", path, unwrapPathErr(err))
	}
	return b, nil
}

func newGuardEncryptCmd(a *app) *cobra.Command {
	var in, out string
	var k keyFlags
	cmd := &cobra.Command{
		Use:   "encrypt --in <artifact> (--key-env VAR | --key-command CMD)",
		Short: "Encrypt an artifact with AES-256-GCM",
		Long: `guard encrypt seals an artifact (an evidence pack, a runpack, any file) with
AES-256-GCM under a fresh random nonce and writes <in>.gaitenc
(gait.guard.encrypted_artifact): the ciphertext with its tag, the nonce, the
plaintext's SHA-256 and size, and where the key came from (the variable's
name or "command", never the key). The 32-byte key (base64 or hex) comes from
--key-env or from the stdout of --key-command (run without a shell, killed
after 10s), never from a flag value.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			plain, err := readInput(in)
			if err != nil {
				return err
			}
			key, src, err := k.load(a)
			if err != nil {
				return err
			}
			enc, err := guard.Encrypt(plain, key, src, a.now(), producerVersion(), rand.Reader)
			if err != nil {
				return err
			}
			if out == "" {
				out = in + ".gaitenc"
			}
			if err := atomicfile.WriteJSON(out, enc, 0o600); err != nil {
				return exitcode.Invalidf("%s: cannot write: %v; pass a writable --out", out, unwrapPathErr(err))
			}
			a.emit(struct {
				OK          bool            `json:"ok"`
				Path        string          `json:"path"`
				Algorithm   string          `json:"algorithm"`
				KeySource   guard.KeySource `json:"key_source"`
				PlainSHA256 string          `json:"plain_sha256"`
				PlainSize   int             `json:"plain_size"`
			}{true, out, enc.Algorithm, src, enc.PlainSHA256, enc.PlainSize},
				kv("path", out, "algorithm", enc.Algorithm, "key_mode", src.Mode, "plain_sha256", enc.PlainSHA256,
					"plain_size", fmt.Sprint(enc.PlainSize), "next", "gait guard decrypt --in "+out+k.flags()))
			return nil
		},
	}
	cmd.Flags().StringVar(&in, "in", "", "file to encrypt")
	cmd.Flags().StringVar(&out, "out", "", "output (default <in>.gaitenc)")
	k.add(cmd)
	return cmd
}

func newGuardDecryptCmd(a *app) *cobra.Command {
	var in, out string
	var k keyFlags
	cmd := &cobra.Command{
		Use:   "decrypt --in <artifact.gaitenc> (--key-env VAR | --key-command CMD)",
		Short: "Decrypt an artifact, checking its tag and digest",
		Long: `guard decrypt opens a .gaitenc file: the AES-256-GCM tag must verify (else
the key is wrong or the file was changed: exit 2) and the plaintext must have
the recorded SHA-256 and size (exit 2), before anything is written. The
output defaults to --in without .gaitenc; key sources are those of encrypt.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			doc, err := readInput(in)
			if err != nil {
				return err
			}
			key, _, err := k.load(a)
			if err != nil {
				return err
			}
			plain, enc, err := guard.Decrypt(in, doc, key)
			if err != nil {
				return err
			}
			if out == "" {
				out = strings.TrimSuffix(in, ".gaitenc")
				if out == in {
					out = in + ".decrypted"
				}
			}
			if err := atomicfile.WriteFile(out, plain, 0o600); err != nil {
				return exitcode.Invalidf("%s: cannot write: %v; pass a writable --out", out, unwrapPathErr(err))
			}
			a.emit(struct {
				OK          bool   `json:"ok"`
				Path        string `json:"path"`
				PlainSHA256 string `json:"plain_sha256"`
				PlainSize   int    `json:"plain_size"`
			}{true, out, enc.PlainSHA256, enc.PlainSize},
				kv("path", out, "plain_sha256", enc.PlainSHA256, "plain_size", fmt.Sprint(enc.PlainSize)))
			return nil
		},
	}
	cmd.Flags().StringVar(&in, "in", "", "encrypted file")
	cmd.Flags().StringVar(&out, "out", "", "output (default --in without .gaitenc)")
	k.add(cmd)
	return cmd
}

func newGuardRetainCmd(a *app) *cobra.Command {
	var o guard.RetainOptions
	var reportOut string
	cmd := &cobra.Command{
		Use:   "retain [--root gait-out] [--trace-ttl 168h] [--pack-ttl 720h] [--dry-run]",
		Short: "Delete traces and evidence packs older than their TTL",
		Long: `guard retain walks --root (default gait-out) and deletes gate traces
(trace_*.json) older than --trace-ttl and evidence packs (evidence_pack_*.zip,
*.gaitenc) older than --pack-ttl, by modification time. Runpacks and other
files are never touched; symlinks are not followed. --dry-run deletes nothing
and reports would_delete. --report-out writes a gait.guard.retention_report.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			o.Now = a.now()
			rep, err := guard.Retain(o, producerVersion())
			if err != nil {
				return err
			}
			if reportOut != "" {
				if err := atomicfile.WriteJSON(reportOut, rep, 0o644); err != nil {
					return exitcode.Invalidf("%s: cannot write: %v; pass a writable --report-out", reportOut, unwrapPathErr(err))
				}
			}
			text := kv("root", rep.RootPath, "dry_run", fmt.Sprint(rep.DryRun), "scanned_files", fmt.Sprint(rep.ScannedFiles),
				"deleted", fmt.Sprint(len(rep.DeletedFiles)), "kept", fmt.Sprint(len(rep.KeptFiles)))
			for _, f := range rep.DeletedFiles {
				text = append(text, field{f.Action, f.Path})
			}
			if reportOut != "" {
				text = append(text, field{"report", reportOut})
			}
			a.emit(rep, text)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Root, "root", defaultOutDir, "folder to scan")
	f.DurationVar(&o.TraceTTL, "trace-ttl", 168*time.Hour, "how long traces are kept")
	f.DurationVar(&o.PackTTL, "pack-ttl", 720*time.Hour, "how long evidence packs are kept")
	f.BoolVar(&o.DryRun, "dry-run", false, "report what would be deleted, delete nothing")
	f.StringVar(&reportOut, "report-out", "", "write the retention report here")
	return cmd
}
