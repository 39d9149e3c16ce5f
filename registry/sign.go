package registry

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/gait-dev/gait/internal/capped"
	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/keys"
)

// MaxArtifactSize bounds an artifact file Sign hashes.
const MaxArtifactSize int64 = 256 << 20

// SignOptions configure Sign.
type SignOptions struct {
	PrivateKey ed25519.PrivateKey
	// BaseDir resolves artifact paths whose sha256 is left empty: Sign
	// fills it from the file BaseDir/path. "" leaves them as they are.
	BaseDir string
}

// Sign validates a draft pack, fills artifact digests it can compute from
// files, replaces any signature by this key's with a fresh one over the
// pack's digest and returns the pack, ready to publish. Other keys'
// signatures over the same digest are kept.
func Sign(draft []byte, opts SignOptions) (*Pack, error) {
	p, err := parseDraft(draft, opts.BaseDir)
	if err != nil {
		return nil, err
	}
	d, err := p.Digest()
	if err != nil {
		return nil, err
	}
	sig, err := keys.SignDigest(opts.PrivateKey, d)
	if err != nil {
		return nil, err
	}
	p.Signatures = slices.DeleteFunc(p.Signatures, func(s keys.Signature) bool {
		return s.KeyID == sig.KeyID || s.SignedDigest != d
	})
	p.Signatures = append(p.Signatures, sig)
	slices.SortFunc(p.Signatures, func(a, b keys.Signature) int {
		if a.KeyID < b.KeyID {
			return -1
		}
		if a.KeyID > b.KeyID {
			return 1
		}
		return 0
	})
	return p, nil
}

// parseDraft fills empty artifact digests from files, then parses.
func parseDraft(draft []byte, base string) (*Pack, error) {
	p, err := Parse(draft)
	if err == nil || base == "" {
		return p, err
	}
	// A draft may leave artifact digests empty for Sign to compute.
	var loose Pack
	if jerr := json.Unmarshal(draft, &loose); jerr != nil {
		return nil, err
	}
	changed := false
	for i, a := range loose.Artifacts {
		if a.SHA256 != "" || !localPath(a.Path) {
			continue
		}
		b, rerr := capped.ReadFile(filepath.Join(base, filepath.FromSlash(a.Path)), MaxArtifactSize)
		if rerr != nil {
			return nil, fmt.Errorf("artifacts[%d]: %s: %w", i, a.Path, rerr)
		}
		loose.Artifacts[i].SHA256 = digest.Bytes(b)
		changed = true
	}
	if !changed {
		return nil, err
	}
	b, merr := json.Marshal(loose)
	if merr != nil {
		return nil, merr
	}
	return Parse(b)
}
