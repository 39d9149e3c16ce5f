package pack

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/safezip"
)

// Resolve turns a run id or a path into a runpack path: an existing file is
// used as is; a run id resolves to <outDir>/runpack_<id>.zip.
func Resolve(arg, outDir string) string {
	if _, err := os.Stat(arg); err == nil {
		return arg
	}
	if ValidRunID(arg) && !strings.ContainsAny(arg, `/\.`) {
		return DefaultPath(outDir, arg)
	}
	return arg
}

// ErrIntegrity marks a runpack whose structure or digests do not hold;
// ErrSchema one whose documents do not parse as runpack documents.
var (
	ErrIntegrity = errors.New("integrity check failed")
	ErrSchema    = errors.New("schema check failed")
)

// kindError tags an error with ErrIntegrity or ErrSchema without changing
// its message.
type kindError struct{ kind, err error }

func (e kindError) Error() string   { return e.err.Error() }
func (e kindError) Unwrap() []error { return []error{e.err, e.kind} }

// readLimits are for reading content: digests guard it, so the costly
// recompression check is left to Verify.
var readLimits = func() safezip.Limits {
	l := RunpackLimits
	l.CheckCompression = false
	return l
}()

// openArchive opens a zip, mapping problems to exit codes: a missing file or
// something that is not a zip is bad input (6); a zip that breaks the
// canonical rules failed verification (2).
func openArchive(path string, limits safezip.Limits) (*safezip.Archive, error) {
	a, err := safezip.Open(path, limits)
	if err == nil {
		return a, nil
	}
	return nil, archiveError(path, err)
}

// archiveError maps a problem reading an archive to an exit code: one over
// the reader's limits is input gait will not read (6), any other problem
// in a zip failed verification (2).
func archiveError(path string, err error) error {
	var ee *safezip.EntryError
	switch {
	case errors.Is(err, safezip.ErrLimit):
		return exitcode.Wrap(exitcode.InvalidInput, fmt.Errorf("%s: %w; gait refuses archives this large or this compressed (see Limits in docs/formats.md)", path, kindError{ErrIntegrity, err}))
	case errors.As(err, &ee):
		return exitcode.Wrap(exitcode.VerifyFailed, fmt.Errorf("%s: %w", path, kindError{ErrIntegrity, err}))
	case errors.Is(err, safezip.ErrNotZip):
		return exitcode.Invalidf("%s: not a zip archive; pass a runpack written by gait", path)
	case errors.Is(err, os.ErrNotExist):
		return exitcode.Invalidf("%s: no such runpack; pass a path or a run id with a runpack in ./gait-out", path)
	}
	return exitcode.Invalidf("%s: %v", path, err)
}

// Open reads a runpack's documents into memory. It reads the manifest
// first and rejects entries it does not declare before anything else
// inflates, then checks every declared file's digest as it inflates (large
// files are hashed before they are decoded, so a wrong one never fills
// memory), then decodes the documents, the JSONL files as they stream,
// within the decoding limits (see limits.go). The raw bytes are not kept,
// and neither are args and results larger than InlinePayload (their
// digests are): see ReadOptions. Signatures (and canonical compression)
// are checked by Verify. Failures wrap ErrIntegrity or ErrSchema.
func Open(path string) (*Runpack, error) {
	return OpenWith(path, ReadOptions{})
}

// OpenWith is Open keeping what opts asks for.
func OpenWith(path string, opts ReadOptions) (*Runpack, error) {
	a, err := openArchive(path, readLimits)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	return readRunpack(path, a, opts)
}

// OpenBytes is Open for a runpack held in memory.
func OpenBytes(name string, data []byte) (*Runpack, error) {
	return OpenBytesWith(name, data, ReadOptions{})
}

// OpenBytesWith is OpenWith for a runpack held in memory.
func OpenBytesWith(name string, data []byte, opts ReadOptions) (*Runpack, error) {
	a, err := safezip.NewReader(bytes.NewReader(data), int64(len(data)), readLimits)
	if err != nil {
		return nil, archiveError(name, err)
	}
	return readRunpack(name, a, opts)
}

func integrityError(path string, err error) error {
	return exitcode.Wrap(exitcode.VerifyFailed, fmt.Errorf("%s: %w", path, kindError{ErrIntegrity, err}))
}

// readManifest reads, decodes and checks manifest.json, the first entry a
// reader touches.
func readManifest(path string, a *safezip.Archive) (Manifest, []byte, error) {
	var m Manifest
	if a.Has(FilePackManifest) {
		return m, nil, notARunpack(path)
	}
	if !a.Has(FileManifest) {
		return m, nil, integrityError(path, errors.New(FileManifest+": missing from the archive"))
	}
	if n := a.Size(FileManifest); n > maxManifestSize {
		return m, nil, exitcode.Invalidf("%s: %s: %d bytes, over the limit of %d for a manifest; this is not a runpack gait wrote", path, FileManifest, n, maxManifestSize)
	}
	raw, err := a.ReadFile(FileManifest)
	if err != nil {
		return m, nil, archiveError(path, err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, nil, integrityError(path, fmt.Errorf("%s: %w", FileManifest, err))
	}
	if err := CheckRunID(m.RunID); err != nil {
		return m, nil, runIDError(path, FileManifest, err)
	}
	if err := m.checkHeader(); err != nil {
		return m, nil, schemaOrVerify(path, err)
	}
	if err := m.checkEntries(a.Names()); err != nil {
		return m, nil, integrityError(path, err)
	}
	return m, raw, nil
}

// holdUnhashedPack is the largest pack entry read into memory before its
// digest is known; larger ones are hashed as they stream first and only
// read once the digest holds.
const holdUnhashedPack = 4 << 20

// readDeclared reads every declared file, checking its digest. Entries are
// known to be exactly the declared ones (see checkEntries).
func readDeclared(path string, a *safezip.Archive, declared []FileDigest) (map[string][]byte, error) {
	if err := hashDeclared(path, a, declared, holdUnhashedPack, nil); err != nil {
		return nil, err
	}
	files := make(map[string][]byte, len(declared)+1)
	for _, f := range declared {
		b, err := a.ReadFile(f.Path)
		if err != nil {
			return nil, archiveError(path, err)
		}
		if a.Size(f.Path) <= holdUnhashedPack {
			if got := digest.Bytes(b); got != f.SHA256 {
				return nil, integrityError(path, digestMismatch(f, got))
			}
		}
		files[f.Path] = b
	}
	return files, nil
}

func digestMismatch(f FileDigest, got string) error {
	return fmt.Errorf("%s: sha256 %s does not match the manifest's %s", f.Path, got, f.SHA256)
}

// hashDeclared streams each declared entry larger than above through
// SHA-256 and compares it with the manifest, spreading entries over the
// cores (large entries also inflate on all cores). It stops starting
// entries once one fails and reports the first failure in manifest order,
// which does not depend on timing: every entry before it was started and
// finished. When lines is not nil, lines[i] counts the newlines of each
// entry hashed.
func hashDeclared(path string, a *safezip.Archive, declared []FileDigest, above int64, lines []int) error {
	errs := make([]error, len(declared))
	var failed atomic.Int64
	failed.Store(int64(len(declared)))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, f := range declared {
		if a.Size(f.Path) <= above {
			continue
		}
		sem <- struct{}{}
		if int64(i) > failed.Load() {
			<-sem
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			newHash := sha256.New
			if lines != nil {
				newHash = func() hash.Hash {
					lines[i] = 0
					return &lineCounter{Hash: sha256.New(), n: &lines[i]}
				}
			}
			sum, err := a.Sum(f.Path, newHash)
			switch {
			case err != nil:
				errs[i] = archiveError(path, err)
			case hex.EncodeToString(sum) != f.SHA256:
				errs[i] = integrityError(path, digestMismatch(f, hex.EncodeToString(sum)))
			default:
				return
			}
			for {
				cur := failed.Load()
				if int64(i) >= cur || failed.CompareAndSwap(cur, int64(i)) {
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// lineCounter is a hash that also counts the newlines written to it.
type lineCounter struct {
	hash.Hash
	n *int
}

func (c *lineCounter) Write(p []byte) (int, error) {
	*c.n += bytes.Count(p, []byte{'\n'})
	return c.Hash.Write(p)
}

// schemaLineError is a line that decodes but is not the record expected.
type schemaLineError struct{ err error }

func (e schemaLineError) Error() string { return e.err.Error() }

func lineSchema(file string, i int, id, version, want string) error {
	if err := checkSchema(fmt.Sprintf("%s line %d", file, i+1), id, version, want); err != nil {
		return err
	}
	return nil
}

// schemaOrVerify reports an unknown major version as bad input (the file is
// not something this gait reads) and anything else as a failed schema check.
func schemaOrVerify(path string, err error) error {
	first := strings.SplitN(err.Error(), "\n", 2)[0]
	if strings.Contains(first, "unknown major version") {
		return exitcode.Wrap(exitcode.InvalidInput, fmt.Errorf("%s: %s; upgrade gait to read it: %w", path, first, ErrSchema))
	}
	return exitcode.Wrap(exitcode.VerifyFailed, fmt.Errorf("%s: %s: %w", path, first, ErrSchema))
}

// File returns the exact bytes of a file of a runpack built in memory
// (Build). A runpack read from an archive keeps those of manifest.json,
// run.json and refs.json only: the reader decodes the JSONL files as they
// stream and lets their bytes go.
func (rp *Runpack) File(name string) []byte { return rp.files[name] }

// ResultFor returns the recorded result for an intent id.
func (rp *Runpack) ResultFor(intentID string) (Result, bool) {
	for _, r := range rp.Results {
		if r.IntentID == intentID {
			return r, true
		}
	}
	return Result{}, false
}

// ToolSequence lists the tool names of the intents in order.
func (rp *Runpack) ToolSequence() []string {
	out := make([]string, len(rp.Intents))
	for i, in := range rp.Intents {
		out[i] = in.ToolName
	}
	return out
}

// notARunpack is the error for a unified pack handed to a runpack command.
func notARunpack(path string) error {
	return exitcode.Invalidf("%s: this is a pack, not a runpack; use `gait pack verify|inspect` on it, or pass it to `gait regress add --from`", path)
}

// IsPack reports whether path is a unified pack (it holds a pack manifest)
// rather than a runpack. Unreadable files are not packs.
func IsPack(path string) bool {
	a, err := safezip.Open(path, readLimits)
	if err != nil {
		return false
	}
	defer a.Close()
	return a.Has(FilePackManifest)
}

// SameAsStored reports whether the runpack at path has rp's content: its
// manifest (which lists every file's digest, and the signatures) is
// byte-identical to rp's. Only the manifest is read, so checking before
// replacing a large runpack costs little. A missing or unreadable file is
// not the same.
func (rp *Runpack) SameAsStored(path string) bool {
	a, err := safezip.Open(path, readLimits)
	if err != nil {
		return false
	}
	defer a.Close()
	_, raw, err := readManifest(path, a)
	return err == nil && bytes.Equal(raw, rp.files[FileManifest])
}
