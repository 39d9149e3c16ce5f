package guard

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/internal/safezip"
)

// Signature statuses of a verified pack.
const (
	SignatureMissing  = "missing"  // the pack is unsigned
	SignatureUnknown  = "unknown"  // signed, but no public key was given
	SignatureVerified = "verified" // a signature verifies with the given key
)

// VerifyOptions say how strictly to verify.
type VerifyOptions struct {
	PublicKey ed25519.PublicKey
	// RequireSignature (also implied by the strict profile) fails a pack
	// without a signature that verifies with PublicKey.
	RequireSignature bool
}

// VerifyResult is what Verify found.
type VerifyResult struct {
	OK              bool     `json:"ok"`
	Path            string   `json:"path"`
	PackID          string   `json:"pack_id,omitempty"`
	RunID           string   `json:"run_id,omitempty"`
	TemplateID      string   `json:"template_id,omitempty"`
	CaseID          string   `json:"case_id,omitempty"`
	FilesChecked    int      `json:"files_checked"`
	Controls        int      `json:"controls"`
	SignaturesTotal int      `json:"signatures_total"`
	SignatureStatus string   `json:"signature_status"`
	SignatureKeyID  string   `json:"signature_key_id,omitempty"`
	Problems        []string `json:"problems,omitempty"`
}

// Verify checks an evidence pack with the strict zip reader runpacks use
// (duplicate, non-local and oversized entries are refused), then that every
// declared entry is present with its digest, no entry is undeclared, the
// evidence pointers and controls name declared files, the pack id matches
// its contents, and, with a public key, the signature. Integrity failures
// are exit 2; a file that is not an evidence pack is exit 6.
func Verify(path string, opts VerifyOptions) (VerifyResult, error) {
	res := VerifyResult{Path: path, SignatureStatus: SignatureMissing}
	m, raw, files, err := open(path)
	if err != nil {
		return res, err
	}
	res.PackID, res.RunID, res.TemplateID, res.CaseID = m.PackID, m.RunID, m.TemplateID, m.CaseID
	res.FilesChecked, res.Controls, res.SignaturesTotal = len(m.Contents), len(m.ControlIndex), len(m.Signatures)
	problem := func(format string, args ...any) { res.Problems = append(res.Problems, fmt.Sprintf(format, args...)) }

	declared := map[string]string{}
	for _, e := range m.Contents {
		if _, dup := declared[e.Path]; dup {
			problem("%s: declared twice in the manifest", e.Path)
		}
		declared[e.Path] = e.SHA256
		b, ok := files[e.Path]
		switch {
		case !ok:
			problem("%s: declared in the manifest but missing from the archive", e.Path)
		case digest.Bytes(b) != e.SHA256:
			problem("%s: sha256 %s does not match the manifest's %s", e.Path, digest.Bytes(b), e.SHA256)
		}
	}
	for name := range files {
		if _, ok := declared[name]; !ok && name != FileManifest {
			problem("%s: present in the archive but not declared in the manifest", name)
		}
	}
	for _, p := range m.EvidencePointers {
		if d, ok := declared[p.Path]; !ok || d != p.SHA256 {
			problem("evidence pointer %s: %s is not declared with that digest", p.PointerID, p.Path)
		}
	}
	for _, c := range m.ControlIndex {
		for _, p := range c.EvidencePaths {
			if _, ok := declared[p]; !ok {
				problem("control %s: evidence %s is not in the pack", c.ControlID, p)
			}
		}
	}
	if id, err := packID(m.Contents, m.RunID); err != nil || id != m.PackID {
		problem("pack_id %s does not match its contents (%s)", m.PackID, id)
	}
	if len(m.Signatures) > 0 {
		res.SignatureStatus = SignatureUnknown
		if opts.PublicKey != nil {
			sd, err := signedDigest(raw, "signatures")
			if err != nil {
				return res, err
			}
			id := keys.ID(opts.PublicKey)
			res.SignatureStatus = "failed"
			for i, s := range m.Signatures {
				if s.KeyID != id {
					continue
				}
				if err := keys.VerifySignature(opts.PublicKey, s, sd); err != nil {
					problem("signature %d: %v", i, err)
					continue
				}
				res.SignatureStatus, res.SignatureKeyID = SignatureVerified, id
			}
			if res.SignatureStatus != SignatureVerified && len(res.Problems) == 0 {
				problem("no signature verifies with the given public key %s", id)
			}
		}
	}
	if opts.RequireSignature && res.SignatureStatus != SignatureVerified && len(res.Problems) == 0 {
		msg := "the pack is not signed"
		if res.SignatureStatus == SignatureUnknown {
			msg = "the pack is signed but no public key was given to check it"
		}
		problem("%s; a signature is required (strict profile or --require-signature): pass --public-key", msg)
	}
	if len(res.Problems) > 0 {
		return res, exitcode.VerifyFailedf("%s: %s", path, strings.Join(res.Problems, "; "))
	}
	res.OK = true
	return res, nil
}

// open reads a pack with the strict reader and parses its manifest.
func open(path string) (Manifest, []byte, map[string][]byte, error) {
	var m Manifest
	a, err := safezip.Open(path, safezip.DefaultLimits)
	if err != nil {
		var ee *safezip.EntryError
		switch {
		case errors.As(err, &ee):
			return m, nil, nil, exitcode.VerifyFailedf("%s: %v", path, err)
		case errors.Is(err, os.ErrNotExist):
			return m, nil, nil, exitcode.Invalidf("%s: no such evidence pack; pass the zip `gait guard pack` wrote", path)
		case errors.Is(err, safezip.ErrNotZip):
			return m, nil, nil, exitcode.Invalidf("%s: not a zip archive; pass the zip `gait guard pack` wrote", path)
		}
		return m, nil, nil, exitcode.VerifyFailedf("%s: %v", path, err)
	}
	defer a.Close()
	files := make(map[string][]byte, len(a.Entries))
	for _, name := range a.Names() {
		b, err := a.ReadFile(name)
		if err != nil {
			return m, nil, nil, exitcode.VerifyFailedf("%s: %v", path, err)
		}
		files[name] = b
	}
	raw, ok := files[FileManifest]
	if !ok {
		return m, nil, nil, exitcode.Invalidf("%s: no %s, so not an evidence pack; pass the zip `gait guard pack` wrote", path, FileManifest)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, nil, nil, exitcode.VerifyFailedf("%s: %s: %v", path, FileManifest, err)
	}
	if m.SchemaID != SchemaPackManifest {
		return m, nil, nil, exitcode.Invalidf("%s: %s has schema_id %q, want %s; pass an evidence pack (runpacks: `gait verify`, packs: `gait pack verify`)", path, FileManifest, m.SchemaID, SchemaPackManifest)
	}
	if major, _, _ := strings.Cut(m.SchemaVersion, "."); major != "1" {
		return m, nil, nil, exitcode.Invalidf("%s: schema_version %q has an unknown major version; upgrade gait to read it", path, m.SchemaVersion)
	}
	return m, raw, files, nil
}

func writeAtomic(path string, b []byte) error {
	if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
		return exitcode.Invalidf("%s: cannot write: %v; pass a writable --out", path, unwrapPathErr(err))
	}
	return nil
}

func unwrapPathErr(err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return pe.Err
	}
	return err
}
