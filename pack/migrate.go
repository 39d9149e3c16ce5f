package pack

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"os"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
)

// Migration statuses.
const (
	MigrateNoChange = "no_change" // the current writer gives the same bytes
	MigrateRewrote  = "migrated"  // the runpack was rewritten
)

// MigrateResult says what Migrate did.
type MigrateResult struct {
	OK                bool   `json:"ok"`
	Artifact          string `json:"artifact"`
	Input             string `json:"input"`
	Output            string `json:"output"`
	RunID             string `json:"run_id"`
	Status            string `json:"status"`
	ManifestDigest    string `json:"manifest_digest"`
	OldManifestDigest string `json:"old_manifest_digest"`
	Signed            bool   `json:"signed"`
	SignatureDropped  bool   `json:"signature_dropped,omitempty"`
}

// Migrate rewrites the runpack at path with the current writer (canonical
// JSON, filled defaults, canonical zip), signing it with priv when given,
// writes it to out and verifies what it wrote. When the rewrite is
// byte-identical the status is no_change. A signed runpack whose bytes change
// cannot keep its signature: it is dropped (reported) unless priv re-signs.
func Migrate(path, out string, priv ed25519.PrivateKey) (MigrateResult, error) {
	res := MigrateResult{Artifact: "runpack", Input: path, Output: out}
	old, err := os.ReadFile(path)
	if err != nil {
		return res, archiveError(path, err)
	}
	rp, err := OpenBytes(path, old)
	if err != nil {
		return res, err
	}
	res.RunID, res.OldManifestDigest = rp.Manifest.RunID, rp.Manifest.ManifestDigest
	rec := &RunRecord{Run: rp.Run, Intents: rp.Intents, Results: rp.Results, Refs: rp.Refs, CaptureMode: rp.Manifest.CaptureMode}
	fresh, err := Build(rec, RecordOptions{RunID: rp.Manifest.RunID, PrivateKey: priv})
	if err != nil {
		return res, exitcode.Wrap(exitcode.Of(err), fmt.Errorf("%s: rewriting with the current writer: %w", path, err))
	}
	var buf bytes.Buffer
	if err := fresh.Write(&buf); err != nil {
		return res, err
	}
	res.Status = MigrateRewrote
	if priv == nil && len(rp.Manifest.Signatures) > 0 {
		// Unchanged content keeps its signed manifest as it was.
		unsigned := fresh.Manifest
		if unsigned.ManifestDigest == rp.Manifest.ManifestDigest {
			buf.Reset()
			buf.Write(old)
		} else {
			res.SignatureDropped = true
		}
	}
	if bytes.Equal(buf.Bytes(), old) {
		res.Status = MigrateNoChange
	}
	if err := atomicfile.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return res, exitcode.Invalidf("%s: cannot write: %v; pass a writable --out", out, err)
	}
	v, err := Verify(out, VerifyOptions{})
	if err != nil {
		return res, exitcode.Wrap(exitcode.Of(err), fmt.Errorf("the migrated runpack %s does not verify: %w", out, err))
	}
	res.ManifestDigest, res.Signed, res.OK = v.ManifestDigest, v.SignatureStatus != SignatureMissing, true
	return res, nil
}
