// Package keys manages the ed25519 key pairs that sign Gait artifacts.
// Keys are stored as base64 of the raw key bytes: 64 bytes for a private
// key, 32 for a public key. A key's id is the hex SHA-256 of its public key.
package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
)

// Mode says how strictly signing keys are handled.
type Mode string

// Key modes: dev signs when a key is given and accepts unsigned output;
// prod refuses to produce anything without an explicit private key.
const (
	ModeDev  Mode = "dev"
	ModeProd Mode = "prod"
)

// ParseMode validates a --key-mode value.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case ModeDev, ModeProd:
		return Mode(s), nil
	case "":
		return ModeDev, nil
	}
	return "", exitcode.Invalidf("key mode %q is not dev or prod; pass --key-mode dev or --key-mode prod", s)
}

// Pair is a signing key pair.
type Pair struct {
	Private ed25519.PrivateKey
	Public  ed25519.PublicKey
}

// Generate makes a fresh key pair from crypto/rand.
func Generate() (Pair, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Pair{}, err
	}
	return Pair{Private: priv, Public: pub}, nil
}

// ID returns the key id (hex SHA-256 of the raw public key).
func ID(pub ed25519.PublicKey) string { return digest.Bytes(pub) }

// Encode returns the base64 text form of raw key bytes.
func Encode(raw []byte) string { return base64.StdEncoding.EncodeToString(raw) }

// ParsePrivate decodes a private key file's text. A 32-byte seed is accepted too.
func ParsePrivate(text string) (ed25519.PrivateKey, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil {
		return nil, errors.New("private key is not base64")
	}
	switch len(raw) {
	case ed25519.PrivateKeySize:
		priv := ed25519.PrivateKey(raw)
		// The public half is stored in the key; reject a key whose halves disagree.
		if !ed25519.NewKeyFromSeed(priv.Seed()).Equal(priv) {
			return nil, errors.New("private key halves do not match")
		}
		return priv, nil
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	}
	return nil, fmt.Errorf("private key has %d bytes, want %d", len(raw), ed25519.PrivateKeySize)
}

// ParsePublic decodes a public key file's text.
func ParsePublic(text string) (ed25519.PublicKey, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil {
		return nil, errors.New("public key is not base64")
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key has %d bytes, want %d", len(raw), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

// LoadPrivate reads a private key file. Errors are user errors (exit 6).
func LoadPrivate(path string) (ed25519.PrivateKey, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, exitcode.Invalidf("%s: cannot read private key: %v; %s", path, errors.Unwrap(err), missingKeyFix(path, "--private-key"))
	}
	k, err := ParsePrivate(string(text))
	if err != nil {
		return nil, exitcode.Invalidf("%s: %v; pass a key written by `gait keys init`", path, err)
	}
	return k, nil
}

// LoadPublic reads a public key file. Errors are user errors (exit 6).
func LoadPublic(path string) (ed25519.PublicKey, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, exitcode.Invalidf("%s: cannot read public key: %v; %s", path, errors.Unwrap(err), missingKeyFix(path, "--public-key"))
	}
	k, err := ParsePublic(string(text))
	if err != nil {
		return nil, exitcode.Invalidf("%s: %v; pass a key written by `gait keys init`", path, err)
	}
	return k, nil
}

// DefaultDir is where `gait keys init` writes a pair unless told otherwise.
const DefaultDir = "gait-out/keys"

// InitCommand is the `gait keys init` that writes the key file at path, or
// "" when no keys init can (the name is not <prefix>_private.key or
// <prefix>_public.key, or it would land in the working directory itself,
// where a private key is one `git add .` from being committed).
func InitCommand(path string) string {
	base := filepath.Base(path)
	prefix := strings.TrimSuffix(strings.TrimSuffix(base, "_private.key"), "_public.key")
	dir := filepath.ToSlash(filepath.Dir(path))
	if prefix == base || prefix == "" || dir == "." {
		return ""
	}
	cmd := "gait keys init --out-dir " + dir
	if prefix != "gait" {
		cmd += " --prefix " + prefix
	}
	return cmd
}

// missingKeyFix is the fix for a key file that cannot be read: the keys
// init that writes it, or the default pair to pass instead.
func missingKeyFix(path, flag string) string {
	if cmd := InitCommand(path); cmd != "" {
		return "create it with `" + cmd + "` or pass the right " + flag
	}
	priv, pub := Paths(DefaultDir, "gait")
	if flag == "--public-key" {
		priv = pub
	}
	return "pass the right " + flag + ", or create a pair with `gait keys init` and pass " + flag + " " + filepath.ToSlash(priv)
}

// Paths returns where Init writes the pair for a prefix.
func Paths(dir, prefix string) (private, public string) {
	return filepath.Join(dir, prefix+"_private.key"), filepath.Join(dir, prefix+"_public.key")
}

// Init generates a pair and writes it to dir as <prefix>_private.key and
// <prefix>_public.key. It refuses to overwrite existing keys unless force.
func Init(dir, prefix string, force bool) (Pair, error) {
	if prefix == "" || strings.ContainsAny(prefix, `/\`) {
		return Pair{}, exitcode.Invalidf("key prefix %q is not a plain name; pass --prefix NAME", prefix)
	}
	privPath, pubPath := Paths(dir, prefix)
	if !force {
		for _, p := range []string{privPath, pubPath} {
			if _, err := os.Stat(p); err == nil {
				return Pair{}, exitcode.Invalidf("%s: key already exists; pass --force to replace it", p)
			}
		}
	}
	pair, err := Generate()
	if err != nil {
		return Pair{}, err
	}
	if err := atomicfile.WriteFile(privPath, []byte(Encode(pair.Private)+"\n"), 0o600); err != nil {
		return Pair{}, err
	}
	if err := atomicfile.WriteFile(pubPath, []byte(Encode(pair.Public)+"\n"), 0o644); err != nil {
		return Pair{}, err
	}
	return pair, nil
}

// VerifyPair checks that the private and public keys belong together.
func VerifyPair(priv ed25519.PrivateKey, pub ed25519.PublicKey) error {
	probe := []byte("gait key pair check")
	if !ed25519.Verify(pub, probe, ed25519.Sign(priv, probe)) {
		return exitcode.VerifyFailedf("private key %s does not match public key %s", ID(priv.Public().(ed25519.PublicKey)), ID(pub))
	}
	return nil
}
