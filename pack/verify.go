package pack

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/internal/safezip"
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

// Verify checks a runpack without loading it into memory: the zip structure,
// each declared file's SHA-256 (large entries inflate in parallel), the
// manifest digest and, when asked, its signature. The error carries exit code
// 2 for a failed check and 6 for unusable input; the result is filled as far
// as verification got either way.
func Verify(path string, opts VerifyOptions) (VerifyResult, error) {
	res := VerifyResult{Path: path}
	fail := func(err error) (VerifyResult, error) {
		res.Problem = err.Error()
		return res, err
	}
	a, err := openArchive(path, safezip.DefaultLimits)
	if err != nil {
		return fail(err)
	}
	defer a.Close()
	if a.Has(FilePackManifest) {
		return fail(notARunpack(path))
	}
	mraw, err := a.ReadFile(FileManifest)
	if err != nil {
		return fail(exitcode.VerifyFailedf("%s: %v", path, err))
	}
	var m Manifest
	if err := json.Unmarshal(mraw, &m); err != nil {
		return fail(exitcode.VerifyFailedf("%s: %s: %v", path, FileManifest, err))
	}
	res.RunID, res.ManifestDigest = m.RunID, m.ManifestDigest
	if err := m.checkHeader(); err != nil {
		return fail(schemaOrVerify(path, err))
	}
	found, err := hashEntries(a, FileManifest)
	if err != nil {
		return fail(exitcode.VerifyFailedf("%s: %v", path, err))
	}
	if err := m.checkFiles(found); err != nil {
		return fail(exitcode.VerifyFailedf("%s: %v", path, err))
	}
	res.FilesChecked = len(found)
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

// hashEntries streams every entry except skip through SHA-256, spreading
// entries over the available cores, and returns name → hex digest.
func hashEntries(a *safezip.Archive, skip string) (map[string]string, error) {
	type job struct {
		name string
		sum  string
		err  error
	}
	var names []string
	for _, n := range a.Names() {
		if n != skip {
			names = append(names, n)
		}
	}
	jobs := make([]job, len(names))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			jobs[i] = job{name: name}
			sum, err := a.Sum(name, sha256.New)
			if err != nil {
				jobs[i].err = err
				return
			}
			jobs[i].sum = hex.EncodeToString(sum)
		}()
	}
	wg.Wait()
	out := make(map[string]string, len(jobs))
	for _, j := range jobs {
		if j.err != nil {
			return nil, fmt.Errorf("%w", j.err)
		}
		out[j.name] = j.sum
	}
	return out, nil
}
