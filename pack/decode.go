package pack

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/safezip"
)

// ReadOptions say what a reader keeps of a runpack beyond its summary (tool
// names, ids, statuses, digests, recorded verdicts and payloads of at most
// InlinePayload bytes).
type ReadOptions struct {
	// Args keeps every intent's args whole, for readers that hand them on
	// (a policy re-evaluating recorded calls); Results every result's
	// payload (a replay serving recorded results). The decoded runpack may
	// then hold up to MaxHeldArgs or MaxHeldPayloads instead of MaxHeld.
	Args, Results bool
}

// InlinePayload is the largest args or result payload a summary read
// keeps; larger ones are dropped once decoded, their digests kept.
const InlinePayload = 400

// holdUnhashed is the largest entry read into memory before its digest is
// known; larger ones are hashed as they stream first and only decoded once
// the digest holds.
const holdUnhashed = 1 << 20

// decoding lets one large runpack decode at a time in the process: its
// peak (the records it holds plus the garbage of decoding them, up to
// three times MaxHeld) then never adds up across the fixtures regress
// grades at once. Small runpacks decode side by side.
var decoding = make(chan struct{}, 1)

// readRunpack checks the manifest and every digest, then decodes.
func readRunpack(path string, a *safezip.Archive, opts ReadOptions) (*Runpack, error) {
	m, raw, err := readManifest(path, a)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{FileRun, FileRefs} {
		if n := a.Size(name); n > maxDocSize {
			return nil, decodeLimit(path, fmt.Errorf("%s: %s, over the limit of %s", name, safezip.HumanSize(n), safezip.HumanSize(maxDocSize)))
		}
	}
	lines := make([]int, len(m.Files))
	if err := hashDeclared(path, a, m.Files, holdUnhashed, lines); err != nil {
		return nil, err
	}
	// Small entries are read once, their digests checked on the bytes.
	small := make(map[string][]byte, len(m.Files))
	for _, f := range m.Files {
		if a.Size(f.Path) > holdUnhashed {
			continue
		}
		b, err := a.ReadFile(f.Path)
		if err != nil {
			return nil, archiveError(path, err)
		}
		if got := digest.Bytes(b); got != f.SHA256 {
			return nil, integrityError(path, digestMismatch(f, got))
		}
		small[f.Path] = b
	}
	if a.Size(FileIntents)+a.Size(FileResults) > holdUnhashed {
		decoding <- struct{}{}
		defer func() { <-decoding }()
	}
	d := &decoder{path: path, a: a, small: small, lines: map[string]int{}, opts: opts, budget: MaxHeld}
	for i, f := range m.Files {
		d.lines[f.Path] = lines[i]
		if b, ok := small[f.Path]; ok {
			d.lines[f.Path] = bytes.Count(b, []byte{'\n'})
		}
	}
	switch {
	case opts.Results:
		d.budget = MaxHeldPayloads
	case opts.Args:
		d.budget = MaxHeldArgs
	}
	rp, err := d.decode(m)
	if err != nil {
		return nil, err
	}
	rp.files[FileManifest] = raw
	return rp, nil
}

// Held estimates the bytes rp holds in memory: a fixed cost per record,
// the payloads it keeps and the documents' bytes (what MaxHeld bounds
// when reading, give or take the strings of each record).
func (rp *Runpack) Held() int64 {
	n := int64(len(rp.Intents)+len(rp.Results)) * recordOverhead
	for _, in := range rp.Intents {
		n += int64(len(in.Args))
	}
	for _, r := range rp.Results {
		n += int64(len(r.Result))
	}
	for _, b := range rp.files {
		n += int64(len(b))
	}
	return n
}

// decoder decodes the documents of a runpack whose digests hold, counting
// what the result holds against its budget.
type decoder struct {
	path   string
	a      *safezip.Archive
	small  map[string][]byte
	lines  map[string]int // newlines per file: what to allocate for records
	opts   ReadOptions
	budget int64
	held   int64
}

// recordOverhead approximates what one decoded record costs besides its
// strings and payload: the struct and the string headers.
const recordOverhead = 200

func (d *decoder) hold(file string, n int) error {
	d.held += int64(n)
	if d.held > d.budget {
		return decodeLimit(d.path, fmt.Errorf("%s: the decoded records hold more than %s, over the limit", file, safezip.HumanSize(d.budget)))
	}
	return nil
}

// content reads a whole (small, digest-checked) document.
func (d *decoder) content(name string) ([]byte, error) {
	if b, ok := d.small[name]; ok {
		return b, nil
	}
	b, err := d.a.ReadFile(name)
	if err != nil {
		return nil, archiveError(d.path, err)
	}
	return b, nil
}

// stream opens a document for decoding as it inflates.
func (d *decoder) stream(name string) (io.Reader, error) {
	if b, ok := d.small[name]; ok {
		return bytes.NewReader(b), nil
	}
	r, err := d.a.Open(name)
	if err != nil {
		return nil, archiveError(d.path, err)
	}
	return r, nil
}

func (d *decoder) schemaFail(err error) error {
	return exitcode.Wrap(exitcode.VerifyFailed, fmt.Errorf("%s: %w", d.path, kindError{ErrSchema, err}))
}

func (d *decoder) decode(m Manifest) (*Runpack, error) {
	rp := &Runpack{Manifest: m}
	run, err := d.content(FileRun)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(run, &rp.Run); err != nil {
		return nil, d.schemaFail(fmt.Errorf("%s: %w", FileRun, err))
	}
	if err := CheckRunID(rp.Run.RunID); err != nil {
		return nil, runIDError(d.path, FileRun, err)
	}
	refs, err := d.content(FileRefs)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(refs, &rp.Refs); err != nil {
		return nil, d.schemaFail(fmt.Errorf("%s: %w", FileRefs, err))
	}
	if err := errors.Join(
		checkSchema(FileRun, rp.Run.SchemaID, rp.Run.SchemaVersion, SchemaRun),
		checkSchema(FileRefs, rp.Refs.SchemaID, rp.Refs.SchemaVersion, SchemaRefs),
	); err != nil {
		return nil, schemaOrVerify(d.path, err)
	}
	if err := d.hold(FileRefs, len(run)+len(refs)); err != nil {
		return nil, err
	}
	rp.files = map[string][]byte{FileRun: run, FileRefs: refs}
	delete(d.small, FileRun)
	delete(d.small, FileRefs)
	if err := d.intents(rp); err != nil {
		return nil, err
	}
	if err := d.results(rp); err != nil {
		return nil, err
	}
	return rp, nil
}

// payload is an args or result value as a summary read keeps it: whole
// when small or when the options keep payloads, otherwise nothing. A
// result's recorded gate verdict is kept either way.
type payload struct {
	raw     json.RawMessage
	keep    int
	verdict string
}

func (p *payload) UnmarshalJSON(b []byte) error {
	if len(b) <= p.keep {
		p.raw = append(json.RawMessage(nil), b...)
	}
	if bytes.Contains(b, []byte(`"verdict"`)) {
		// A map, not a struct: the key is "verdict" exactly.
		var body map[string]json.RawMessage
		var v string
		if json.Unmarshal(b, &body) == nil && json.Unmarshal(body["verdict"], &v) == nil && len(v) <= 64 {
			p.verdict = v
		}
	}
	return nil
}

// header strings repeat on every line of a run; consecutive equal ones
// share one copy.
type sharer struct{ last [5]string }

func (s *sharer) share(i int, v *string) int {
	if *v == s.last[i] {
		*v = s.last[i]
		return 0
	}
	s.last[i] = *v
	return len(*v)
}

func (s *sharer) header(createdAt, producer, runID, schemaID, version *string) int {
	return s.share(0, createdAt) + s.share(1, producer) + s.share(2, runID) + s.share(3, schemaID) + s.share(4, version)
}

// keep is the largest payload kept: all of them when whole is set.
func keep(whole bool) int {
	if whole {
		return int(MaxRecordSize)
	}
	return InlinePayload
}

// capacity is how many records to allocate for in file: its lines, within
// the limit.
func (d *decoder) capacity(file string) int {
	return min(d.lines[file]+1, MaxRecords)
}

func (d *decoder) intents(rp *Runpack) error {
	var sh sharer
	rp.Intents = make([]Intent, 0, d.capacity(FileIntents))
	return d.each(FileIntents, func(i int, line []byte) error {
		var v struct {
			Intent
			Args payload `json:"args,omitempty"`
		}
		v.Args.keep = keep(d.opts.Args)
		if err := json.Unmarshal(line, &v); err != nil {
			return err
		}
		in := v.Intent
		in.Args = v.Args.raw
		if err := lineSchema(FileIntents, i, in.SchemaID, in.SchemaVersion, SchemaIntent); err != nil {
			return schemaLineError{err}
		}
		n := recordOverhead + len(in.Args) + len(in.ArgsDigest) + len(in.IntentID) + len(in.ToolName) +
			sh.header(&in.CreatedAt, &in.ProducerVersion, &in.RunID, &in.SchemaID, &in.SchemaVersion)
		if err := d.hold(FileIntents, n); err != nil {
			return err
		}
		rp.Intents = append(rp.Intents, in)
		return nil
	})
}

func (d *decoder) results(rp *Runpack) error {
	var sh sharer
	rp.Results = make([]Result, 0, d.capacity(FileResults))
	return d.each(FileResults, func(i int, line []byte) error {
		var v struct {
			Result
			Payload payload `json:"result,omitempty"`
		}
		v.Payload.keep = keep(d.opts.Results)
		if err := json.Unmarshal(line, &v); err != nil {
			return err
		}
		r := v.Result
		r.Result, r.Verdict = v.Payload.raw, v.Payload.verdict
		if err := lineSchema(FileResults, i, r.SchemaID, r.SchemaVersion, SchemaResult); err != nil {
			return schemaLineError{err}
		}
		n := recordOverhead + len(r.Result) + len(r.Verdict) + len(r.ResultDigest) + len(r.IntentID) + len(r.Status) +
			sh.header(&r.CreatedAt, &r.ProducerVersion, &r.RunID, &r.SchemaID, &r.SchemaVersion)
		if err := d.hold(FileResults, n); err != nil {
			return err
		}
		rp.Results = append(rp.Results, r)
		return nil
	})
}

// each calls each on every non-blank line of a JSONL document as it
// streams (i counts records from 0), stopping at the first problem, at
// the record or line over the limits, or at a bad digest or size when the
// stream ends. Lines are checked as they are decoded, so a file of lines
// that are not runpack records stops at the first rather than becoming
// millions of empty records.
func (d *decoder) each(file string, each func(i int, line []byte) error) error {
	r, err := d.stream(file)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(r)
	// A document read whole needs no more buffer than its length; the
	// buffer of one that streams grows with its longest line.
	size := 64 << 10
	if b, ok := d.small[file]; ok {
		size = min(size, len(b)+1)
	}
	sc.Buffer(make([]byte, 0, size), int(MaxRecordSize)+1)
	line, records := 0, 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if records == MaxRecords {
			return decodeLimit(d.path, fmt.Errorf("%s: more than %d records, over the limit", file, MaxRecords))
		}
		if err := each(records, sc.Bytes()); err != nil {
			var se schemaLineError
			var ce *exitcode.Error
			switch {
			case errors.As(err, &se):
				return schemaOrVerify(d.path, se.err)
			case errors.As(err, &ce):
				return err
			}
			return d.schemaFail(fmt.Errorf("%s line %d: %w", file, line, err))
		}
		records++
	}
	switch err := sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		return decodeLimit(d.path, fmt.Errorf("%s line %d: longer than %s, over the limit for one record", file, line+1, safezip.HumanSize(MaxRecordSize)))
	case err != nil:
		return archiveError(d.path, err)
	}
	delete(d.small, file)
	return nil
}

// decodeLimit is the exit-6 error for a runpack whose digests hold but
// whose content is over the decoding limits.
func decodeLimit(path string, err error) error {
	return exitcode.Wrap(exitcode.InvalidInput, fmt.Errorf("%s: %w; gait refuses runpacks this large (see Limits in docs/formats.md)", path, kindError{ErrIntegrity, err}))
}
