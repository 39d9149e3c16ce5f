package registry

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gait-dev/gait/internal/capped"
)

// Entry is one cached pack.
type Entry struct {
	PackName     string `json:"pack_name"`
	PackVersion  string `json:"pack_version"`
	Publisher    string `json:"publisher,omitempty"`
	Digest       string `json:"digest"`
	MetadataPath string `json:"metadata_path"`
	PinPath      string `json:"pin_path,omitempty"`
	PinDigest    string `json:"pin_digest,omitempty"`
	PinVerified  bool   `json:"pin_verified"`
}

// List returns the packs in the cache, sorted by name, version and digest.
// Files that are not packs are skipped; a pack whose content no longer
// matches its folder's digest is listed with its actual digest, so its pin
// does not verify. A missing cache is empty.
func List(cache string) ([]Entry, error) {
	matches, err := filepath.Glob(filepath.Join(cache, "*", "*", "*", FilePack))
	if err != nil {
		return nil, err
	}
	out := []Entry{}
	for _, m := range matches {
		p, err := ReadFile(m)
		if err != nil {
			continue
		}
		d, err := p.Digest()
		if err != nil {
			continue
		}
		e := Entry{PackName: p.PackName, PackVersion: p.PackVersion, Publisher: p.Publisher, Digest: d, MetadataPath: m}
		pp := pinPath(cache, p.PackName)
		b, err := capped.ReadFile(pp, 1024)
		switch {
		case err == nil:
			e.PinPath, e.PinDigest = pp, strings.TrimSpace(string(b))
			e.PinVerified = normalizeDigest(e.PinDigest) == d
		case !errors.Is(err, os.ErrNotExist):
			return nil, err
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.PackName != b.PackName {
			return a.PackName < b.PackName
		}
		if a.PackVersion != b.PackVersion {
			return a.PackVersion < b.PackVersion
		}
		return a.Digest < b.Digest
	})
	return out, nil
}
