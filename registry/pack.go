// Package registry installs, lists and verifies registry packs
// (gait.registry.pack): signed, pinned metadata documents that name a skill
// or policy pack and the SHA-256 of each of its artifacts. A pack is only
// cached after its publisher, pin and ed25519 signature have been checked.
package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/jcs"
	"github.com/gait-dev/gait/internal/keys"
)

// Schema ids and the one version this package reads and writes.
const (
	SchemaPack          = "gait.registry.pack"
	SchemaReport        = "gait.registry.verification_report"
	SchemaVersion       = "1.0.0"
	FilePack            = "registry_pack.json"
	MaxPackSize   int64 = 5 << 20 // the largest registry pack read or fetched
)

// Pack is a registry pack document. The digest that pins and signatures
// name is the SHA-256 of the RFC 8785 form of the document as these fields
// encode it, without signatures; unknown fields are not part of it and are
// never cached.
type Pack struct {
	SchemaID        string           `json:"schema_id"`
	SchemaVersion   string           `json:"schema_version"`
	CreatedAt       time.Time        `json:"created_at"`
	ProducerVersion string           `json:"producer_version"`
	PackName        string           `json:"pack_name"`
	PackVersion     string           `json:"pack_version"`
	PackType        string           `json:"pack_type,omitempty"`
	Publisher       string           `json:"publisher,omitempty"`
	Source          string           `json:"source,omitempty"`
	RiskClass       string           `json:"risk_class,omitempty"`
	UseCase         string           `json:"use_case,omitempty"`
	Compatibility   []string         `json:"compatibility,omitempty"`
	Provenance      map[string]any   `json:"provenance,omitempty"`
	Artifacts       []Artifact       `json:"artifacts"`
	Signatures      []keys.Signature `json:"signatures,omitempty"`
}

// Artifact is one file a pack ships, named by path and SHA-256.
type Artifact struct {
	Path      string `json:"path"`
	SHA256    string `json:"sha256"`
	MediaType string `json:"media_type,omitempty"`
}

// Parse decodes and checks a registry pack: the schema, a pack name and
// version that are safe as cache folder names, and artifact paths and
// digests. It never panics on input.
func Parse(b []byte) (*Pack, error) {
	var p Pack
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("not a registry pack: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a registry pack: data after the JSON document")
	}
	if p.SchemaID != SchemaPack {
		return nil, fmt.Errorf("schema_id %q is not %s", p.SchemaID, SchemaPack)
	}
	if p.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("schema_version %q is not %s", p.SchemaVersion, SchemaVersion)
	}
	if err := checkName("pack_name", p.PackName); err != nil {
		return nil, err
	}
	if err := checkName("pack_version", p.PackVersion); err != nil {
		return nil, err
	}
	// v1 digests these three fields trimmed and lower-cased; so does Gait,
	// or a pack signed by one would not verify with the other.
	p.PackType = strings.ToLower(strings.TrimSpace(p.PackType))
	p.Publisher = strings.ToLower(strings.TrimSpace(p.Publisher))
	p.Source = strings.ToLower(strings.TrimSpace(p.Source))
	if p.PackType == "skill" && (p.Publisher == "" || p.Source == "") {
		return nil, errors.New("a skill pack needs publisher and source")
	}
	for i, a := range p.Artifacts {
		if !localPath(a.Path) {
			return nil, fmt.Errorf("artifacts[%d]: path %q is not a relative path inside the pack", i, a.Path)
		}
		if !digest.Valid(a.SHA256) {
			return nil, fmt.Errorf("artifacts[%d]: sha256 %q is not 64 hex digits", i, a.SHA256)
		}
	}
	return &p, nil
}

// checkName accepts a name that can be one cache folder: not empty, not
// . or .., no separators or control characters.
func checkName(field, s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("%s is required", field)
	}
	if s == "." || s == ".." || len(s) > 128 || strings.ContainsAny(s, `/\:`) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%s %q is not a plain name (no separators, control characters or dots only, at most 128 bytes)", field, s)
	}
	return nil
}

func localPath(p string) bool {
	return p != "" && !strings.Contains(p, `\`) && filepath.IsLocal(filepath.FromSlash(p)) && !strings.HasPrefix(p, "/")
}

// Digest returns the hex digest of the pack without its signatures: what a
// pin names and a signature signs.
func (p *Pack) Digest() (string, error) {
	c := *p
	c.Signatures = nil
	return digest.JSON(c)
}

// Canonical returns the pack's RFC 8785 bytes, the form written to the cache.
func (p *Pack) Canonical() ([]byte, error) { return jcs.Marshal(p) }

// normalizeDigest strips an optional sha256: prefix and lower-cases.
func normalizeDigest(s string) string {
	return strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "sha256:")
}

// ParsePin checks a --pin value: sha256:<64 hex> (the prefix may be left out).
func ParsePin(s string) (string, error) {
	d := normalizeDigest(s)
	if !digest.Valid(d) {
		return "", fmt.Errorf("pin %q is not sha256:<64 hex digits>", s)
	}
	return d, nil
}

// SplitList splits comma-separated, repeatable flag values, trimmed,
// lower-cased, sorted and without duplicates.
func SplitList(values []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			s = strings.ToLower(strings.TrimSpace(s))
			if s != "" && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}
