package pack

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/jcs"
	"github.com/gait-dev/gait/internal/keys"
)

// ComputeDigest returns the manifest digest: SHA-256 of the canonical
// manifest with manifest_digest empty and no signatures.
func (m Manifest) ComputeDigest() (string, error) {
	m.ManifestDigest = ""
	m.Signatures = nil
	return manifestHash(m)
}

// signedDigest is what a signature covers: the canonical manifest with its
// digest filled in and without signatures.
func (m Manifest) signedDigest() (string, error) {
	m.Signatures = nil
	return manifestHash(m)
}

func manifestHash(m Manifest) (string, error) {
	b, err := jcs.Marshal(m)
	if err != nil {
		return "", err
	}
	return digest.Bytes(b), nil
}

// Sign sets the manifest digest and appends an ed25519 signature.
func (m *Manifest) Sign(priv ed25519.PrivateKey) error {
	d, err := m.ComputeDigest()
	if err != nil {
		return err
	}
	m.ManifestDigest = d
	sd, err := m.signedDigest()
	if err != nil {
		return err
	}
	sig, err := keys.SignDigest(priv, sd)
	if err != nil {
		return err
	}
	m.Signatures = append(m.Signatures, sig)
	return nil
}

// Signature states reported by verification.
const (
	SignatureMissing  = "missing"
	SignatureVerified = "verified"
	SignatureUnknown  = "unverified" // signed, but no public key was given
)

// checkSignatures verifies every signature made by pub. It returns the
// signature status and an error naming the first bad signature.
func (m Manifest) checkSignatures(pub ed25519.PublicKey) (string, error) {
	if len(m.Signatures) == 0 {
		return SignatureMissing, nil
	}
	sd, err := m.signedDigest()
	if err != nil {
		return "", err
	}
	if pub == nil {
		return SignatureUnknown, nil
	}
	id := keys.ID(pub)
	matched := false
	for i, sig := range m.Signatures {
		if sig.KeyID != id {
			continue
		}
		matched = true
		if err := keys.VerifySignature(pub, sig, sd); err != nil {
			return "", fmt.Errorf("signature %d by key %s: %w", i, id, err)
		}
	}
	if !matched {
		return "", errors.New("no signature was made by the given public key " + id)
	}
	return SignatureVerified, nil
}

// checkEntries compares the manifest's declared files with the archive's
// entry names, before anything is inflated: each declared file is present,
// nothing else is, and the payload files are all declared.
func (m Manifest) checkEntries(names []string) error {
	if err := checkDeclared(names, FileManifest, m.Files); err != nil {
		return err
	}
	declared := make(map[string]bool, len(m.Files))
	for _, f := range m.Files {
		declared[f.Path] = true
	}
	for _, want := range PayloadFiles {
		if !declared[want] {
			return fmt.Errorf("%s: required file is not declared in the manifest", want)
		}
	}
	return nil
}

// checkDeclared compares the names in an archive (less its manifest) with
// the files a manifest declares.
func checkDeclared(names []string, manifest string, files []FileDigest) error {
	present := make(map[string]bool, len(names))
	for _, n := range names {
		present[n] = true
	}
	declared := make(map[string]bool, len(files))
	for _, f := range files {
		if declared[f.Path] {
			return fmt.Errorf("%s: declared twice in the manifest", f.Path)
		}
		declared[f.Path] = true
		if f.Path == manifest || !present[f.Path] {
			return fmt.Errorf("%s: declared in the manifest but missing from the archive", f.Path)
		}
	}
	for _, n := range names {
		if n != manifest && !declared[n] {
			return fmt.Errorf("%s: present in the archive but not declared in the manifest", n)
		}
	}
	return nil
}

// checkHeader validates the manifest's own fields and digest.
func (m Manifest) checkHeader() error {
	if err := checkSchema(FileManifest, m.SchemaID, m.SchemaVersion, SchemaManifest); err != nil {
		return err
	}
	if m.CaptureMode != CaptureReference && m.CaptureMode != CaptureRaw {
		return fmt.Errorf("%s: capture_mode %q is not reference or raw", FileManifest, m.CaptureMode)
	}
	d, err := m.ComputeDigest()
	if err != nil {
		return err
	}
	if d != m.ManifestDigest {
		return fmt.Errorf("%s: manifest_digest %s does not match the content (%s)", FileManifest, m.ManifestDigest, d)
	}
	return nil
}
