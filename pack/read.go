package pack

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

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
	l := safezip.DefaultLimits
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

func archiveError(path string, err error) error {
	var ee *safezip.EntryError
	switch {
	case errors.As(err, &ee):
		return exitcode.Wrap(exitcode.VerifyFailed, fmt.Errorf("%s: %w", path, kindError{ErrIntegrity, err}))
	case errors.Is(err, safezip.ErrNotZip):
		return exitcode.Invalidf("%s: not a zip archive; pass a runpack written by gait", path)
	case errors.Is(err, os.ErrNotExist):
		return exitcode.Invalidf("%s: no such runpack; pass a path or a run id with a runpack in ./gait-out", path)
	}
	return exitcode.Invalidf("%s: %v", path, err)
}

// Open reads a whole runpack into memory, checking the zip structure, every
// declared file's digest and the manifest digest, then parses the documents.
// Signatures (and canonical compression) are checked by Verify. Failures
// wrap ErrIntegrity or ErrSchema.
func Open(path string) (*Runpack, error) {
	a, err := openArchive(path, readLimits)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	files := make(map[string][]byte, len(a.Entries))
	for _, name := range a.Names() {
		b, err := a.ReadFile(name)
		if err != nil {
			return nil, archiveError(path, err)
		}
		files[name] = b
	}
	return parse(path, files)
}

// OpenBytes is Open for a runpack held in memory.
func OpenBytes(name string, data []byte) (*Runpack, error) {
	a, err := safezip.NewReader(bytes.NewReader(data), int64(len(data)), readLimits)
	if err != nil {
		return nil, archiveError(name, err)
	}
	files := make(map[string][]byte, len(a.Entries))
	for _, n := range a.Names() {
		b, err := a.ReadFile(n)
		if err != nil {
			return nil, archiveError(name, err)
		}
		files[n] = b
	}
	return parse(name, files)
}

func parse(path string, files map[string][]byte) (*Runpack, error) {
	fail := func(err error) error {
		return exitcode.Wrap(exitcode.VerifyFailed, fmt.Errorf("%s: %w", path, kindError{ErrIntegrity, err}))
	}
	schemaFail := func(err error) error {
		return exitcode.Wrap(exitcode.VerifyFailed, fmt.Errorf("%s: %w", path, kindError{ErrSchema, err}))
	}
	if _, isPack := files[FilePackManifest]; isPack {
		return nil, notARunpack(path)
	}
	mraw, ok := files[FileManifest]
	if !ok {
		return nil, fail(errors.New(FileManifest + ": missing from the archive"))
	}
	rp := &Runpack{files: files}
	if err := json.Unmarshal(mraw, &rp.Manifest); err != nil {
		return nil, fail(fmt.Errorf("%s: %w", FileManifest, err))
	}
	if err := rp.Manifest.checkHeader(); err != nil {
		return nil, schemaOrVerify(path, err)
	}
	found := make(map[string]string, len(files))
	for name, b := range files {
		if name != FileManifest {
			found[name] = digest.Bytes(b)
		}
	}
	if err := rp.Manifest.checkFiles(found); err != nil {
		return nil, fail(err)
	}
	if err := json.Unmarshal(files[FileRun], &rp.Run); err != nil {
		return nil, schemaFail(fmt.Errorf("%s: %w", FileRun, err))
	}
	if err := json.Unmarshal(files[FileRefs], &rp.Refs); err != nil {
		return nil, schemaFail(fmt.Errorf("%s: %w", FileRefs, err))
	}
	var err error
	if rp.Intents, err = parseLines[Intent](FileIntents, files[FileIntents]); err != nil {
		return nil, schemaFail(err)
	}
	if rp.Results, err = parseLines[Result](FileResults, files[FileResults]); err != nil {
		return nil, schemaFail(err)
	}
	checks := []error{
		checkSchema(FileRun, rp.Run.SchemaID, rp.Run.SchemaVersion, SchemaRun),
		checkSchema(FileRefs, rp.Refs.SchemaID, rp.Refs.SchemaVersion, SchemaRefs),
	}
	for i, in := range rp.Intents {
		checks = append(checks, lineSchema(FileIntents, i, in.SchemaID, in.SchemaVersion, SchemaIntent))
	}
	for i, r := range rp.Results {
		checks = append(checks, lineSchema(FileResults, i, r.SchemaID, r.SchemaVersion, SchemaResult))
	}
	if err := errors.Join(checks...); err != nil {
		return nil, schemaOrVerify(path, err)
	}
	return rp, nil
}

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

func parseLines[T any](file string, data []byte) ([]T, error) {
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
