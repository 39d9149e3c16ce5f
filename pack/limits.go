package pack

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/safezip"
)

// Limits on the archives gait reads, per kind of artifact. They sit well
// above what real runs produce and far below what would strain a CI
// runner: every entry is checked against them before anything inflates,
// and reading stops the moment an entry passes its declared size. See
// "Limits" in docs/formats.md.
var (
	// RunpackLimits bound a runpack: `gait verify`, `run inspect|replay|diff`,
	// a regress fixture's runpack.zip, a session checkpoint. A runpack holds
	// five files; the largest real ones (20,000 intents captured raw) are
	// about 50 MB inflated, in two entries of about 25 MB.
	RunpackLimits = safezip.Limits{
		MaxEntries:       64,
		MaxEntrySize:     100 << 20,
		MaxTotalSize:     256 << 20,
		MaxRatio:         200,
		CheckCompression: true,
	}
	// PackLimits bound a unified pack: a run pack carries the runpack zip
	// itself (already compressed) and small JSON payloads; a job pack the
	// job's state and event log.
	PackLimits = safezip.Limits{
		MaxEntries:       64,
		MaxEntrySize:     100 << 20,
		MaxTotalSize:     256 << 20,
		MaxRatio:         200,
		CheckCompression: true,
	}
)

// Limits on decoding a runpack whose digests hold: what one runpack can
// cost in memory once read (`run inspect|replay|diff`, a regress fixture),
// whatever its archive limits allow. The largest real runs (20,000 intents
// captured raw, records of about 1.3 KB) hold 10 MiB decoded without their
// payloads and 47 MiB with them. See "Limits" in docs/formats.md.
const (
	// MaxRecords bounds the records of intents.jsonl and of results.jsonl.
	MaxRecords = 50_000
	// MaxRecordSize bounds one line of intents.jsonl or results.jsonl.
	MaxRecordSize int64 = 4 << 20
	// maxDocSize bounds run.json and refs.json, decoded whole.
	maxDocSize int64 = 4 << 20
)

var (
	// MaxHeld bounds what the decoded records of one runpack hold (their
	// strings, kept payloads and a fixed cost per record) when payloads
	// over InlinePayload are dropped.
	MaxHeld int64 = 16 << 20
	// MaxHeldArgs bounds the same when args are kept whole (ReadOptions).
	MaxHeldArgs int64 = 32 << 20
	// MaxHeldPayloads bounds the same when args and results are kept whole.
	MaxHeldPayloads int64 = 96 << 20
)

// maxManifestSize bounds manifest.json and pack_manifest.json, read before
// anything else: a manifest lists a few files and signatures.
const maxManifestSize = 1 << 20

// maxRunIDLen is the longest run id read from an artifact: the longest a
// file name holding it (runpack_<id>.zip) can be on common file systems.
const maxRunIDLen = 255

// CheckRunID reports why a run id read from an artifact cannot be used, or
// nil. It accepts what v1 writes (any case, dots, dashes, spaces), and
// refuses what would break a line, a path or a terminal: control and
// invisible formatting characters, path separators, invalid UTF-8, empty
// or overlong ids.
func CheckRunID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("run_id is empty")
	case len(id) > maxRunIDLen:
		return fmt.Errorf("run_id is %d bytes long, over the limit of %d", len(id), maxRunIDLen)
	case !utf8.ValidString(id):
		return fmt.Errorf("run_id %q is not valid UTF-8", id)
	}
	for _, r := range id {
		switch {
		case r == '/' || r == '\\':
			return fmt.Errorf("run_id %q contains a path separator", id)
		case unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp):
			return fmt.Errorf("run_id %q contains the control character %U", id, r)
		}
	}
	return nil
}

// runIDError is the exit-6 error for an unusable run id in file of path.
func runIDError(path, file string, err error) error {
	return exitcode.Invalidf("%s: %s: %v; run ids are letters, digits and punctuation on one line, record the run again with a valid --run-id", path, file, err)
}
