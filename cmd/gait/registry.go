package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/registry"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		cmd := &cobra.Command{
			Use:   "registry",
			Short: "Install, list, verify and sign registry packs",
			Long: `registry works with registry packs (gait.registry.pack): signed metadata for a
skill or policy pack, naming each artifact by SHA-256. install fetches a pack
(a file, or https from --allow-host hosts), checks its publisher, pin and
ed25519 signature and only then caches it with a pin; list shows the cache;
verify checks a pack file; sign makes a pack a publisher can hand out.`,
		}
		cmd.AddCommand(newRegistryInstallCmd(a), newRegistryListCmd(a), newRegistryVerifyCmd(a), newRegistrySignCmd(a))
		root.AddCommand(cmd)
	})
}

// registryError maps the registry package's errors to exit codes: a trust
// check that fails is 2, a refused source or bad pack is 6, a fetch that
// keeps failing is 1.
func registryError(what string, err error) error {
	if err == nil {
		return nil
	}
	if exitcode.Of(err) != exitcode.Internal {
		return err
	}
	msg := fmt.Errorf("%s: %w", what, err)
	switch {
	case errors.Is(err, registry.ErrPublisher):
		return exitcode.Wrap(exitcode.VerifyFailed, fmt.Errorf("%w; add the publisher to --publisher-allowlist only if you trust it", msg))
	case errors.Is(err, registry.ErrPin):
		return exitcode.Wrap(exitcode.VerifyFailed, fmt.Errorf("%w; the pack changed: check it with its publisher before you pin the new digest", msg))
	case errors.Is(err, registry.ErrSignature):
		return exitcode.Wrap(exitcode.VerifyFailed, fmt.Errorf("%w; pass the publisher's --public-key, or refuse the pack", msg))
	case errors.Is(err, registry.ErrTooLarge):
		return exitcode.Wrap(exitcode.InvalidInput, fmt.Errorf("%w; a registry pack is metadata: keep it under %d bytes", msg, registry.MaxPackSize))
	case errors.Is(err, registry.ErrFetch):
		return fmt.Errorf("%w; check the URL and the network, or pass --allow-cached-fallback with --pin to use the cached pack", msg)
	case errors.Is(err, os.ErrNotExist):
		return exitcode.Invalidf("%s: %v; pass an existing file", what, err)
	}
	return exitcode.Wrap(exitcode.InvalidInput, fmt.Errorf("%w; pass a gait.registry.pack document (make one with `gait registry sign`)", msg))
}

func (a *app) registryCache(dir string) (string, error) {
	if dir != "" {
		return filepath.Clean(dir), nil
	}
	d, err := registry.DefaultCacheDir()
	if err != nil {
		return "", exitcode.Invalidf("no home directory for the registry cache: %v; pass --cache-dir", err)
	}
	return d, nil
}

func newRegistryInstallCmd(a *app) *cobra.Command {
	var o registry.InstallOptions
	var hosts, publishers []string
	var pin, cache, publicKey, publicKeyEnv string
	var insecure bool
	cmd := &cobra.Command{
		Use:   "install --source PATH|URL --allow-host HOSTS --public-key K [--pin sha256:HEX]",
		Short: "Verify a registry pack and cache it with a pin",
		Long: `registry install reads a registry pack from a file or an https URL whose host
is in --allow-host (size-limited to 5 MiB, 20 s per attempt, transient errors
retried with backoff up to --retry-max-attempts), checks its publisher against
--publisher-allowlist, its digest against --pin and its ed25519 signature
against --public-key, and only then writes it to the cache
(<cache>/<name>/<version>/<digest>/registry_pack.json) with a pin file
(<cache>/pins/<name>.pin). With --allow-cached-fallback and --pin, a failed
fetch falls back to the cached pack the pin names, checked again. Exit 2 when
a check fails, 6 for a refused source or a bad pack, 1 when the fetch fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.PublicKey, err = a.publicKey(publicKey, publicKeyEnv); err != nil {
				return err
			}
			if o.PublicKey == nil {
				return exitcode.Invalidf("no public key to check the pack's signature; pass --public-key (the publisher's key) or --public-key-env")
			}
			if pin != "" {
				if o.Pin, err = registry.ParsePin(pin); err != nil {
					return exitcode.Invalidf("--pin: %v; pass the digest `gait registry verify` prints, as sha256:<hex>", err)
				}
			}
			if o.CacheDir, err = a.registryCache(cache); err != nil {
				return err
			}
			o.AllowHosts, o.Publishers = registry.SplitList(hosts), registry.SplitList(publishers)
			o.AllowInsecureLoopbackHTTP = insecure
			res, err := registry.Install(cmd.Context(), o)
			if err != nil {
				return registryError(o.Source, err)
			}
			text := kv("pack_name", res.PackName, "pack_version", res.PackVersion, "digest", "sha256:"+res.Digest,
				"metadata_path", res.MetadataPath, "pin_path", res.PinPath)
			if res.FallbackUsed {
				text = append(text, kv("fallback_used", "true", "fallback_path", res.FallbackPath)...)
			}
			if publicKey != "" {
				text = append(text, field{"next", "gait registry verify --path " + res.MetadataPath + " --public-key " + publicKey})
			}
			a.emit(struct {
				OK bool `json:"ok"`
				*registry.Installed
			}{true, res}, text)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Source, "source", "", "registry pack: a file path or an https URL")
	f.StringSliceVar(&hosts, "allow-host", nil, "hosts a remote source may come from (comma-separated, repeatable)")
	f.StringSliceVar(&publishers, "publisher-allowlist", nil, "publishers to accept (comma-separated; empty accepts any signed pack)")
	f.StringVar(&pin, "pin", "", "digest the pack must have, sha256:<hex>")
	f.StringVar(&cache, "cache-dir", "", "registry cache (default ~/.gait/registry)")
	f.StringVar(&publicKey, "public-key", "", "the publisher's ed25519 public key file")
	f.StringVar(&publicKeyEnv, "public-key-env", "", "environment variable holding the publisher's public key text")
	f.IntVar(&o.Attempts, "retry-max-attempts", registry.DefaultAttempts, fmt.Sprintf("attempts for transient fetch errors (at most %d)", registry.MaxAttempts))
	f.DurationVar(&o.BaseDelay, "retry-base-delay", registry.DefaultBaseDelay, "first backoff delay, doubled per attempt (at most 5s)")
	f.BoolVar(&o.AllowCachedFallback, "allow-cached-fallback", false, "when the fetch fails, use the cached pack --pin names")
	f.BoolVar(&insecure, "allow-insecure-http", false, "accept plain http, for a loopback host only")
	_ = cmd.MarkFlagRequired("source")
	return cmd
}

func newRegistryListCmd(a *app) *cobra.Command {
	var cache string
	cmd := &cobra.Command{
		Use:   "list [--cache-dir DIR]",
		Short: "List the cached registry packs",
		Long:  "registry list prints the packs in the registry cache, sorted by name, version and digest, with each pack's pin and whether the pin names it.",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			dir, err := a.registryCache(cache)
			if err != nil {
				return err
			}
			packs, err := registry.List(dir)
			if err != nil {
				return err
			}
			text := kv("cache_dir", dir, "count", fmt.Sprint(len(packs)))
			for _, p := range packs {
				text = append(text, field{"pack", fmt.Sprintf("%s@%s digest=sha256:%s pin_verified=%t", p.PackName, p.PackVersion, p.Digest, p.PinVerified)})
			}
			a.emit(struct {
				OK       bool             `json:"ok"`
				CacheDir string           `json:"cache_dir"`
				Packs    []registry.Entry `json:"packs"`
			}{true, dir, packs}, text)
			return nil
		},
	}
	cmd.Flags().StringVar(&cache, "cache-dir", "", "registry cache (default ~/.gait/registry)")
	return cmd
}

func newRegistryVerifyCmd(a *app) *cobra.Command {
	var path, cache, reportOut, publicKey, publicKeyEnv string
	var publishers []string
	cmd := &cobra.Command{
		Use:   "verify --path registry_pack.json --public-key K",
		Short: "Verify a registry pack file",
		Long: `registry verify checks a registry pack file: its publisher against
--publisher-allowlist, its ed25519 signature against --public-key and, when
the cache holds a pin for the pack, that the pin names this digest. With
--report-out it writes a gait.registry.verification_report. Exit 0 when
every check passes, 2 when one fails, 6 when the file is not a pack.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			pub, err := a.publicKey(publicKey, publicKeyEnv)
			if err != nil {
				return err
			}
			if pub == nil {
				return exitcode.Invalidf("no public key to check the pack's signature; pass --public-key (the publisher's key) or --public-key-env")
			}
			rep, err := registry.Verify(path, registry.VerifyOptions{
				Trust: registry.Trust{PublicKey: pub, Publishers: registry.SplitList(publishers)}, CacheDir: cache,
				ProducerVersion: producerVersion(),
			})
			if err != nil {
				return registryError(path, err)
			}
			if reportOut != "" {
				if err := atomicfile.WriteJSON(reportOut, rep, 0o644); err != nil {
					return err
				}
			}
			text := kv("status", rep.Status, "pack_name", rep.PackName, "pack_version", rep.PackVersion, "digest", "sha256:"+rep.Digest,
				"publisher_allowed", fmt.Sprint(rep.PublisherAllowed), "signature_verified", fmt.Sprint(rep.SignatureVerified),
				"pin_present", fmt.Sprint(rep.PinPresent), "pin_verified", fmt.Sprint(rep.PinVerified))
			for _, r := range rep.FailureReasons {
				text = append(text, field{"failure_reason", r})
			}
			if rep.SignatureError != "" {
				text = append(text, field{"signature_error", rep.SignatureError})
			}
			a.emit(struct {
				OK bool `json:"ok"`
				*registry.Report
				PackSource string `json:"pack_source,omitempty"`
				ReportPath string `json:"report_path,omitempty"`
			}{rep.OK(), rep, rep.Source, reportOut}, text)
			if !rep.OK() {
				a.diag("gait: %s: the registry pack failed verification (%s); do not install it", path, strings.Join(rep.FailureReasons, ", "))
				return silent(exitcode.VerifyFailed)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&path, "path", "", "registry_pack.json to verify")
	f.StringVar(&cache, "cache-dir", "", "registry cache holding the pack's pin (inferred for a cached path)")
	f.StringSliceVar(&publishers, "publisher-allowlist", nil, "publishers to accept (comma-separated; empty accepts any)")
	f.StringVar(&reportOut, "report-out", "", "write a gait.registry.verification_report here")
	f.StringVar(&publicKey, "public-key", "", "the publisher's ed25519 public key file")
	f.StringVar(&publicKeyEnv, "public-key-env", "", "environment variable holding the publisher's public key text")
	_ = cmd.MarkFlagRequired("path")
	return cmd
}

func newRegistrySignCmd(a *app) *cobra.Command {
	var path, out, privateKey, privateKeyEnv string
	cmd := &cobra.Command{
		Use:   "sign --path draft.json --private-key K [--out registry_pack.json]",
		Short: "Sign a registry pack as its publisher",
		Long: `registry sign turns a draft gait.registry.pack document into a signed pack:
it checks the draft, fills each artifact's empty sha256 from the file at that
path (relative to the draft), and adds an ed25519 signature over the pack's
digest, replacing an older one by the same key. The pack is written to --out
(default: the draft, in place) as canonical JSON. Publish it with the public
key; users install it with --pin sha256:<digest>.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			priv, err := a.signingKey(privateKey, privateKeyEnv)
			if err != nil {
				return err
			}
			if priv == nil {
				return exitcode.Invalidf("no signing key; pass --private-key (create one with `gait keys init`) or --private-key-env")
			}
			draft, err := os.ReadFile(path)
			if err != nil {
				return registryError(path, err)
			}
			p, err := registry.Sign(draft, registry.SignOptions{PrivateKey: priv, BaseDir: filepath.Dir(path)})
			if err != nil {
				return registryError(path, err)
			}
			d, err := p.Digest()
			if err != nil {
				return err
			}
			b, err := p.Canonical()
			if err != nil {
				return err
			}
			if out == "" {
				out = path
			}
			if err := atomicfile.WriteFile(out, append(b, '\n'), 0o644); err != nil {
				return err
			}
			text := kv("path", out, "pack_name", p.PackName, "pack_version", p.PackVersion, "pin", "sha256:"+d)
			if pub := publicKeyBeside(privateKey); fileExists(pub) {
				text = append(text, field{"next", "gait registry verify --path " + out + " --public-key " + pub})
			}
			a.emit(struct {
				OK          bool   `json:"ok"`
				Path        string `json:"path"`
				PackName    string `json:"pack_name"`
				PackVersion string `json:"pack_version"`
				Digest      string `json:"digest"`
				Pin         string `json:"pin"`
				KeyID       string `json:"key_id"`
			}{true, out, p.PackName, p.PackVersion, d, "sha256:" + d, keys.ID(priv.Public().(ed25519.PublicKey))},
				text)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&path, "path", "", "draft registry pack (JSON)")
	f.StringVar(&out, "out", "", "where to write the signed pack (default: --path)")
	f.StringVar(&privateKey, "private-key", "", "the publisher's ed25519 private key file")
	f.StringVar(&privateKeyEnv, "private-key-env", "", "environment variable holding the private key text")
	_ = cmd.MarkFlagRequired("path")
	return cmd
}
