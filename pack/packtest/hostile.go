package packtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/safezip/ziptest"
	"github.com/gait-dev/gait/pack"
)

// Hostile variants of the demo runpack, each with one thing wrong, as a pull
// request could commit them. Size is how far a bomb inflates and Ratio its
// inflated:compressed ratio (0: as far as deflate goes).
const (
	// BombDeclared replaces intents.jsonl with a bomb: declared in the
	// manifest, but its digest is wrong.
	BombDeclared = "declared"
	// BombUndeclared adds a bomb the manifest does not declare.
	BombUndeclared = "undeclared"
	// BombLyingSize replaces intents.jsonl with an entry whose headers
	// claim Size bytes (Ratio times its compressed size) while it inflates
	// to far fewer: a reader that trusts the claim allocates Size bytes.
	BombLyingSize = "lying-size"
	// ManyEntries adds Size tiny undeclared entries.
	ManyEntries = "many-entries"
	// LocalHeader renames intents.jsonl in its local header only, so the
	// local header disagrees with the central directory.
	LocalHeader = "local-header"
	// ManyRecords replaces intents.jsonl with Size bytes of the smallest
	// records that decode, digests recomputed so every one holds: cheap to
	// verify, costly to hold once decoded.
	ManyRecords = "many-records"
	// FatRecords replaces intents.jsonl with records whose args are 1 MiB
	// of text each, Size bytes in all, digests recomputed.
	FatRecords = "fat-records"
)

// HostileVariants lists the variants Hostile builds.
var HostileVariants = []string{BombDeclared, BombUndeclared, BombLyingSize, ManyEntries, LocalHeader, ManyRecords, FatRecords}

// DemoFiles returns the demo runpack's entries, name to bytes.
func DemoFiles() (map[string][]byte, error) {
	rp, err := pack.Build(pack.DemoRecord(), pack.RecordOptions{})
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{pack.FileManifest: nil}
	for _, name := range pack.PayloadFiles {
		files[name] = rp.File(name)
	}
	files[pack.FileManifest], err = json.Marshal(rp.Manifest)
	return files, err
}

// Hostile returns the bytes of a hostile variant of the demo runpack.
func Hostile(variant string, size int64, ratio int) ([]byte, error) {
	files, err := DemoFiles()
	if err != nil {
		return nil, err
	}
	var extra []ziptest.Entry
	switch variant {
	case BombDeclared:
		delete(files, pack.FileIntents)
		extra = append(extra, ziptest.Entry{Name: pack.FileIntents, Size: size, Ratio: ratio})
	case BombLyingSize:
		delete(files, pack.FileIntents)
		r := int64(max(ratio, 2))
		extra = append(extra, ziptest.Entry{Name: pack.FileIntents, Size: max(size/r, 1), Ratio: 1, DeclaredSize: size})
	case BombUndeclared:
		extra = append(extra, ziptest.Entry{Name: "padding.bin", Size: size, Ratio: ratio})
	case ManyEntries:
		extra = ziptest.Many("extra/", int(size))
	case LocalHeader:
	case ManyRecords, FatRecords:
		files[pack.FileIntents] = records(variant, size)
		return withDigests(files)
	default:
		return nil, fmt.Errorf("packtest: unknown hostile variant %q", variant)
	}
	entries := extra
	for name, data := range files {
		entries = append(entries, ziptest.Entry{Name: name, Data: data})
	}
	slices.SortFunc(entries, func(a, b ziptest.Entry) int { return strings.Compare(a.Name, b.Name) })
	out, err := ziptest.Bytes(entries)
	if err != nil || variant != LocalHeader {
		return out, err
	}
	return ziptest.SpoofLocalName(out, pack.FileIntents, "intents.jsonX")
}

// WithRunID returns the demo runpack whose manifest and run.json carry id,
// digests recomputed so only the id is wrong: a run id as a pull request
// could write it, bypassing the recorder's checks.
func WithRunID(id string) ([]byte, error) {
	files, err := DemoFiles()
	if err != nil {
		return nil, err
	}
	var run map[string]any
	if err := json.Unmarshal(files[pack.FileRun], &run); err != nil {
		return nil, err
	}
	run["run_id"] = id
	if files[pack.FileRun], err = json.Marshal(run); err != nil {
		return nil, err
	}
	var m pack.Manifest
	if err := json.Unmarshal(files[pack.FileManifest], &m); err != nil {
		return nil, err
	}
	m.RunID = id
	if files[pack.FileManifest], err = json.Marshal(m); err != nil {
		return nil, err
	}
	return withDigests(files)
}

// records returns about size bytes of intents.jsonl: minimal records for
// ManyRecords, records with 1 MiB of args for FatRecords. Ids and args are
// pseudo-random (the same every time) so the entry compresses like real
// runpacks, well within the ratio limit.
func records(variant string, size int64) []byte {
	r := rand.New(rand.NewPCG(1, 2)) //nolint:gosec // reproducible test data, not secrets
	var out bytes.Buffer
	for int64(out.Len()) < size {
		if variant == FatRecords {
			fmt.Fprintf(&out, `{"args":{"text":"%s"},"intent_id":"i%x","schema_id":"gait.runpack.intent","schema_version":"1.0.0","tool_name":"tool.read"}`+"\n", randomText(r, 1<<20), r.Uint64())
		} else {
			fmt.Fprintf(&out, `{"intent_id":"%x","schema_id":"gait.runpack.intent","schema_version":"1.0.0"}`+"\n", r.Uint64())
		}
	}
	return out.Bytes()
}

func randomText(r *rand.Rand, n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz "
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

// withDigests zips files with the manifest's digests recomputed, so every
// one holds.
func withDigests(files map[string][]byte) ([]byte, error) {
	var m pack.Manifest
	err := json.Unmarshal(files[pack.FileManifest], &m)
	if err != nil {
		return nil, err
	}
	for i, f := range m.Files {
		m.Files[i].SHA256 = digest.Bytes(files[f.Path])
	}
	if m.ManifestDigest, err = m.ComputeDigest(); err != nil {
		return nil, err
	}
	if files[pack.FileManifest], err = json.Marshal(m); err != nil {
		return nil, err
	}
	var entries []ziptest.Entry
	for name, data := range files {
		entries = append(entries, ziptest.Entry{Name: name, Data: data})
	}
	slices.SortFunc(entries, func(a, b ziptest.Entry) int { return strings.Compare(a.Name, b.Name) })
	return ziptest.Bytes(entries)
}
