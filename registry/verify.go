package registry

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gait-dev/gait/internal/capped"
	"github.com/gait-dev/gait/internal/keys"
)

// Check is what a trust check found about one pack.
type Check struct {
	Digest            string
	PublisherAllowed  bool
	SignatureVerified bool
	SignatureError    string
	PinMatches        bool // a pin was given and names this digest
}

// Trust is what a pack must satisfy to be trusted.
type Trust struct {
	PublicKey  ed25519.PublicKey
	Publishers []string // allowed publishers (lower case); empty allows any
	Pin        string   // hex digest the pack must have; "" for none
}

// Error kinds, so callers can map them to exit codes.
var (
	ErrPublisher = errors.New("publisher not allowed")
	ErrPin       = errors.New("pin mismatch")
	ErrSignature = errors.New("signature not valid")
)

// check runs the trust checks in order (publisher, pin, signature) and
// returns the first failure, wrapping one of the Err values.
func check(p *Pack, t Trust) (Check, error) {
	var c Check
	d, err := p.Digest()
	if err != nil {
		return c, err
	}
	c.Digest = d
	c.PublisherAllowed = publisherAllowed(p.Publisher, t.Publishers)
	sigErr := verifySignatures(p, t.PublicKey, d)
	c.SignatureVerified = sigErr == nil
	if sigErr != nil {
		c.SignatureError = sigErr.Error()
	}
	c.PinMatches = t.Pin != "" && t.Pin == d
	if !c.PublisherAllowed {
		return c, fmt.Errorf("%w: publisher %q is not in the allowlist %s", ErrPublisher, p.Publisher, strings.Join(t.Publishers, ","))
	}
	if t.Pin != "" && !c.PinMatches {
		return c, fmt.Errorf("%w: the pack's digest is sha256:%s, the pin names sha256:%s", ErrPin, d, t.Pin)
	}
	if sigErr != nil {
		return c, fmt.Errorf("%w: %w", ErrSignature, sigErr)
	}
	return c, nil
}

func publisherAllowed(publisher string, allow []string) bool {
	if len(allow) == 0 {
		return true
	}
	return slices.Contains(allow, strings.ToLower(strings.TrimSpace(publisher)))
}

// verifySignatures accepts the pack when at least one signature over its
// digest verifies with the key.
func verifySignatures(p *Pack, pub ed25519.PublicKey, d string) error {
	if len(p.Signatures) == 0 {
		return errors.New("the pack has no signatures")
	}
	if len(pub) == 0 {
		return errors.New("no public key to check the signature with")
	}
	var first error
	for _, s := range p.Signatures {
		if s.SignedDigest != "" && !strings.EqualFold(s.SignedDigest, d) {
			if first == nil {
				first = errors.New("signed_digest does not match the pack (the pack changed after it was signed)")
			}
			continue
		}
		s.SignedDigest = strings.ToLower(s.SignedDigest)
		if err := keys.VerifySignature(pub, s, d); err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		return nil
	}
	return fmt.Errorf("no signature verifies with key %s: %w", keys.ID(pub), first)
}

// Report is a gait.registry.verification_report: the result of verifying
// one pack file, and where it stands against the cache's pin.
type Report struct {
	SchemaID          string   `json:"schema_id"`
	SchemaVersion     string   `json:"schema_version"`
	CreatedAt         string   `json:"created_at"`
	ProducerVersion   string   `json:"producer_version"`
	PackName          string   `json:"pack_name"`
	PackVersion       string   `json:"pack_version"`
	Digest            string   `json:"digest"`
	MetadataPath      string   `json:"metadata_path"`
	PinPath           string   `json:"pin_path,omitempty"`
	PinDigest         string   `json:"pin_digest,omitempty"`
	PinPresent        bool     `json:"pin_present"`
	PinVerified       bool     `json:"pin_verified"`
	SignatureVerified bool     `json:"signature_verified"`
	SignatureError    string   `json:"signature_error,omitempty"`
	Publisher         string   `json:"publisher,omitempty"`
	Source            string   `json:"source,omitempty"`
	PublisherAllowed  bool     `json:"publisher_allowed"`
	Status            string   `json:"status"`
	FailureReasons    []string `json:"failure_reasons,omitempty"`
}

// reportTime is every report's created_at, as in v1: a report states
// facts about files, so the same files give the same report bytes.
const reportTime = "1980-01-01T00:00:00Z"

// OK reports whether the pack passed.
func (r *Report) OK() bool { return r.Status == "pass" }

// VerifyOptions configure Verify.
type VerifyOptions struct {
	Trust
	CacheDir        string // where to look for the pack's pin; inferred from a cached path when ""
	ProducerVersion string
}

// ReadFile reads a registry pack file, at most MaxPackSize bytes.
func ReadFile(path string) (*Pack, error) {
	b, err := capped.ReadFile(path, MaxPackSize)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Verify checks a pack file: publisher, signature and, when the cache holds
// a pin for the pack, that the pin names it. A pack that fails a check gives
// a report with status fail and no error; an error means the file could not
// be read as a pack.
func Verify(path string, opts VerifyOptions) (*Report, error) {
	p, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := check(p, Trust{PublicKey: opts.PublicKey, Publishers: opts.Publishers})
	if c.Digest == "" {
		return nil, err
	}
	r := &Report{
		SchemaID: SchemaReport, SchemaVersion: SchemaVersion,
		CreatedAt:       reportTime,
		ProducerVersion: opts.ProducerVersion,
		PackName:        p.PackName, PackVersion: p.PackVersion,
		Digest: c.Digest, MetadataPath: path,
		SignatureVerified: c.SignatureVerified, SignatureError: c.SignatureError,
		Publisher: p.Publisher, Source: p.Source, PublisherAllowed: c.PublisherAllowed,
	}
	cache := opts.CacheDir
	if cache == "" {
		cache = inferCacheDir(path, p, c.Digest)
	}
	if cache != "" {
		r.PinPath = pinPath(cache, p.PackName)
		b, err := capped.ReadFile(r.PinPath, 1024)
		switch {
		case err == nil:
			r.PinPresent = true
			r.PinDigest = strings.TrimSpace(string(b))
			r.PinVerified = normalizeDigest(r.PinDigest) == c.Digest
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("%s: %w", r.PinPath, err)
		}
	}
	if !r.PublisherAllowed {
		r.FailureReasons = append(r.FailureReasons, "publisher_not_allowed")
	}
	if !r.SignatureVerified {
		r.FailureReasons = append(r.FailureReasons, "signature_not_verified")
	}
	if r.PinPresent && !r.PinVerified {
		r.FailureReasons = append(r.FailureReasons, "pin_mismatch")
	}
	r.Status = "pass"
	if len(r.FailureReasons) > 0 {
		r.Status = "fail"
	}
	return r, nil
}

// inferCacheDir returns the cache a path lies in when it is
// <cache>/<name>/<version>/<digest>/registry_pack.json.
func inferCacheDir(path string, p *Pack, d string) string {
	clean := filepath.Clean(path)
	dd := filepath.Dir(clean)
	vd := filepath.Dir(dd)
	nd := filepath.Dir(vd)
	if filepath.Base(clean) != FilePack || !strings.EqualFold(filepath.Base(dd), d) ||
		filepath.Base(vd) != p.PackVersion || filepath.Base(nd) != p.PackName {
		return ""
	}
	return filepath.Dir(nd)
}
