package pack

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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

// Open reads a whole runpack into memory. It reads the manifest first and
// rejects entries it does not declare before anything else inflates, then
// checks every declared file's digest as it inflates (large files are
// hashed before they are held, so a wrong one never fills memory), then
// parses the documents. Signatures (and canonical compression) are checked
// by Verify. Failures wrap ErrIntegrity or ErrSchema.
func Open(path string) (*Runpack, error) {
	a, err := openArchive(path, readLimits)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	return readRunpack(path, a)
}

// OpenBytes is Open for a runpack held in memory.
func OpenBytes(name string, data []byte) (*Runpack, error) {
	a, err := safezip.NewReader(bytes.NewReader(data), int64(len(data)), readLimits)
	if err != nil {
		return nil, archiveError(name, err)
	}
	return readRunpack(name, a)
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

func readRunpack(path string, a *safezip.Archive) (*Runpack, error) {
	m, raw, err := readManifest(path, a)
	if err != nil {
		return nil, err
	}
	files, err := readDeclared(path, a, m.Files)
	if err != nil {
		return nil, err
	}
	files[FileManifest] = raw
	return parse(path, m, files)
}

// holdUnhashed is the largest entry read into memory before its digest is
// known; larger ones are hashed as they stream first and only read once
// the digest holds.
const holdUnhashed = 4 << 20

// readDeclared reads every declared file, checking its digest. Entries are
// known to be exactly the declared ones (see checkEntries).
func readDeclared(path string, a *safezip.Archive, declared []FileDigest) (map[string][]byte, error) {
	if err := hashDeclared(path, a, declared, holdUnhashed); err != nil {
		return nil, err
	}
	files := make(map[string][]byte, len(declared)+1)
	for _, f := range declared {
		b, err := a.ReadFile(f.Path)
		if err != nil {
			return nil, archiveError(path, err)
		}
		if a.Size(f.Path) <= holdUnhashed {
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
// finished.
func hashDeclared(path string, a *safezip.Archive, declared []FileDigest, above int64) error {
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
			sum, err := a.Sum(f.Path, sha256.New)
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

// parse decodes the documents of a runpack whose manifest and digests hold.
func parse(path string, m Manifest, files map[string][]byte) (*Runpack, error) {
	schemaFail := func(err error) error {
		return exitcode.Wrap(exitcode.VerifyFailed, fmt.Errorf("%s: %w", path, kindError{ErrSchema, err}))
	}
	rp := &Runpack{Manifest: m, files: files}
	if err := json.Unmarshal(files[FileRun], &rp.Run); err != nil {
		return nil, schemaFail(fmt.Errorf("%s: %w", FileRun, err))
	}
	if err := CheckRunID(rp.Run.RunID); err != nil {
		return nil, runIDError(path, FileRun, err)
	}
	if err := json.Unmarshal(files[FileRefs], &rp.Refs); err != nil {
		return nil, schemaFail(fmt.Errorf("%s: %w", FileRefs, err))
	}
	if err := errors.Join(
		checkSchema(FileRun, rp.Run.SchemaID, rp.Run.SchemaVersion, SchemaRun),
		checkSchema(FileRefs, rp.Refs.SchemaID, rp.Refs.SchemaVersion, SchemaRefs),
	); err != nil {
		return nil, schemaOrVerify(path, err)
	}
	// Lines are checked as they are decoded, so a file of lines that are
	// not runpack records stops at the first rather than becoming millions
	// of empty records.
	var err error
	rp.Intents, err = parseLines(FileIntents, files[FileIntents], func(i int, in *Intent) error {
		return lineSchema(FileIntents, i, in.SchemaID, in.SchemaVersion, SchemaIntent)
	})
	if err == nil {
		rp.Results, err = parseLines(FileResults, files[FileResults], func(i int, r *Result) error {
			return lineSchema(FileResults, i, r.SchemaID, r.SchemaVersion, SchemaResult)
		})
	}
	var se schemaLineError
	switch {
	case errors.As(err, &se):
		return nil, schemaOrVerify(path, se.err)
	case err != nil:
		return nil, schemaFail(err)
	}
	return rp, nil
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

// parseLines decodes one T per non-blank line, calling check on each (i
// counts records from 0) and stopping at the first problem.
func parseLines[T any](file string, data []byte, check func(i int, v *T) error) ([]T, error) {
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), len(data)+1)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", file, line, err)
		}
		if err := check(len(out), &v); err != nil {
			return nil, schemaLineError{err}
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// File returns the exact bytes of a payload file.
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
