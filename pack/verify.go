package pack

import (
	"crypto/ed25519"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/keys"
)

// VerifyOptions control signature checks.
type VerifyOptions struct {
	PublicKey        ed25519.PublicKey // verify signatures made by this key
	RequireSignature bool              // fail when no signature verifies
}

// VerifyResult is what Verify found; commands print it as is.
type VerifyResult struct {
	OK              bool   `json:"ok"`
	Path            string `json:"path"`
	RunID           string `json:"run_id,omitempty"`
	ManifestDigest  string `json:"manifest_digest,omitempty"`
	FilesChecked    int    `json:"files_checked"`
	SignatureStatus string `json:"signature_status,omitempty"`
	SignatureKeyID  string `json:"signature_key_id,omitempty"`
	Problem         string `json:"problem,omitempty"`
	TicketFooter    string `json:"ticket_footer,omitempty"`
}

// Verify checks a runpack without loading it into memory: the zip structure
// and limits, the manifest (read first) and its digest, the entry names
// against the manifest before anything else inflates, each declared file's
// SHA-256 as it streams (large entries inflate in parallel) and, when asked,
// its signature. The error carries exit code 2 for a failed check and 6 for
// unusable input; the result is filled as far as verification got either
// way.
func Verify(path string, opts VerifyOptions) (VerifyResult, error) {
	res := VerifyResult{Path: path}
	fail := func(err error) (VerifyResult, error) {
		res.Problem = err.Error()
		return res, err
	}
	a, err := openArchive(path, RunpackLimits)
	if err != nil {
		return fail(err)
	}
	defer a.Close()
	m, _, err := readManifest(path, a)
	if m.RunID != "" && CheckRunID(m.RunID) == nil {
		res.RunID, res.ManifestDigest = m.RunID, m.ManifestDigest
	}
	if err != nil {
		return fail(err)
	}
	if err := hashDeclared(path, a, m.Files, -1, nil); err != nil {
		return fail(err)
	}
	res.FilesChecked = len(m.Files)
	status, err := m.checkSignatures(opts.PublicKey)
	if err != nil {
		res.SignatureStatus = "failed"
		return fail(exitcode.VerifyFailedf("%s: %s: %v", path, FileManifest, err))
	}
	res.SignatureStatus = status
	if status == SignatureVerified {
		res.SignatureKeyID = keys.ID(opts.PublicKey)
	}
	if opts.RequireSignature && status != SignatureVerified {
		msg := "runpack is not signed"
		if status == SignatureUnknown {
			msg = "signature present but no --public-key was given to check it"
		}
		return fail(exitcode.VerifyFailedf("%s: %s; --require-signature needs a signature that verifies with --public-key", path, msg))
	}
	res.OK = true
	res.TicketFooter = TicketFooter(m.RunID, m.ManifestDigest)
	return res, nil
}
