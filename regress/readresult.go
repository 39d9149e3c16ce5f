package regress

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gait-dev/gait/internal/exitcode"
)

// MaxResultBytes bounds the result document ReadResult accepts. A document
// is about 4 KiB per fixture, so this holds some 2,000 fixtures; the
// comment made from it holds 65,536 characters whatever its size.
const MaxResultBytes = 8 << 20

// The details keys Document adds to v1's, read back into the report.
const (
	detailFixture      = "fixture"
	detailRunID        = "run_id"
	detailGraderSet    = "grader_set"
	detailMessage      = "message"
	detailStep         = "first_differing_step"
	detailDiff         = "diff"
	detailFixtureFile  = "fixture_file"
	detailTicketFooter = "ticket_footer"
)

// ReadResultFile reads the result document at path; see ReadResult.
func ReadResultFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, exitcode.Invalidf("%s: cannot read the result document: %s; pass the regress_result.json that `gait regress run` or `gait action regress` wrote", path, fileProblem(err))
	}
	defer f.Close()
	return ReadResult(f, path)
}

// ReadResult reads a result document (regress_result.json, written by
// Document) back into a report: fixtures with their graders, counts,
// messages, diffs, fixture files and ticket footers. It reads at most
// MaxResultBytes and checks the document as v1's schema does: a document
// that is too large, is not one JSON object, has an unknown key or schema,
// or names a fixture or grader badly is bad input (exit 6) naming name.
// Fields that only gait writes are optional, so a v1 document is read too.
// The document is decoded as it is read, one grader at a time.
func ReadResult(r io.Reader, name string) (*Report, error) {
	cr := &countingReader{r: io.LimitReader(r, MaxResultBytes+1)}
	var doc resultDocumentIn
	// The decoder reads about one grader at a time; the buffer makes that
	// one read call per 64 KiB.
	err := decodeResultDocument(bufio.NewReaderSize(cr, 64<<10), &doc)
	if err != nil {
		// A document over the limit is refused as such, whatever else is
		// wrong with it.
		_, _ = io.Copy(io.Discard, cr)
	}
	switch {
	case cr.err != nil:
		return nil, exitcode.Invalidf("%s: cannot read the result document: %v", name, oneLine(cr.err.Error()))
	case cr.n > MaxResultBytes:
		return nil, exitcode.Invalidf("%s: result document is larger than %d MiB; a pull request comment cannot show it, run regress on fewer fixtures (--fixture)", name, MaxResultBytes>>20)
	case err != nil:
		return nil, exitcode.Invalidf("%s: %v", name, err)
	}
	rep, err := doc.report()
	if err != nil {
		return nil, exitcode.Invalidf("%s: %v", name, err)
	}
	return rep, nil
}

// countingReader counts what it reads and keeps the first read error.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// decodeResultDocument decodes one result document as decodeStrict would,
// without holding it whole: the top-level keys one by one and the graders
// one at a time, so the decoder's buffer holds about one grader.
func decodeResultDocument(r io.Reader, doc *resultDocumentIn) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	malformed := func(err error) error {
		if key, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return unknownKey(strings.Trim(key, `"`), "")
		}
		return fmt.Errorf("malformed JSON: %w; fix the file", err)
	}
	if err := expectDelim(dec, '{'); err != nil {
		return malformed(err)
	}
	fields := []struct {
		key string
		dst any
	}{
		{"schema_id", &doc.SchemaID}, {"schema_version", &doc.SchemaVersion}, {"created_at", &doc.CreatedAt},
		{"producer_version", &doc.ProducerVersion}, {"fixture_set", &doc.FixtureSet}, {"status", &doc.Status},
		{"gait_shard", &doc.Shard},
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return malformed(err)
		}
		key, _ := tok.(string)
		if strings.EqualFold(key, "graders") {
			if err := decodeGraders(dec, doc); err != nil {
				return malformed(err)
			}
			continue
		}
		i := slices.IndexFunc(fields, func(f struct {
			key string
			dst any
		}) bool {
			return strings.EqualFold(f.key, key)
		})
		if i < 0 {
			return unknownKey(key, "")
		}
		if err := dec.Decode(fields[i].dst); err != nil {
			return malformed(err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return malformed(err)
	}
	if dec.More() {
		return errors.New("malformed JSON: more than one value; fix the file")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("malformed JSON: more than one value; fix the file")
	}
	return nil
}

// decodeGraders decodes the graders array (or null) one grader at a time.
func decodeGraders(dec *json.Decoder, doc *resultDocumentIn) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		doc.Graders = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("graders is %v, not an array", tok)
	}
	doc.Graders = []docGraderIn{}
	for dec.More() {
		var g docGraderIn
		if err := decodeGrader(dec, &g); err != nil {
			return err
		}
		doc.Graders = append(doc.Graders, g)
	}
	return expectDelim(dec, ']')
}

// expectDelim reads the next token, which must be want.
func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("found %v where %q was expected", tok, string(want))
	}
	return nil
}

// resultDocumentIn is ResultDocument as ReadResult decodes it: the values
// of details are kept as their JSON text (see docGraderIn).
type resultDocumentIn struct {
	SchemaID        string        `json:"schema_id"`
	SchemaVersion   string        `json:"schema_version"`
	CreatedAt       string        `json:"created_at"`
	ProducerVersion string        `json:"producer_version"`
	FixtureSet      string        `json:"fixture_set"`
	Status          string        `json:"status"`
	Graders         []docGraderIn `json:"graders"`
	Shard           *ShardInfo    `json:"gait_shard,omitempty"`
}

// docGraderIn is a grader as ReadResult decodes it. Details that are not
// the report's own fields stay JSON text (json.RawMessage) in the
// grader's Details: a document is written again as it was read, without
// decoding every value.
type docGraderIn struct {
	Name               string                     `json:"name"`
	Status             string                     `json:"status"`
	ReasonCodes        []string                   `json:"reason_codes"`
	ContextConformance string                     `json:"context_conformance,omitempty"`
	Details            map[string]json.RawMessage `json:"details,omitempty"`
	// details are the details in document order when parseGrader read
	// them (instead of Details): later keys win, as in a map.
	details []rawPair
}

// rawPair is one key of a grader's details and its JSON text.
type rawPair struct {
	key string
	raw json.RawMessage
}

// detail is the JSON text of details key k, or nil.
func (dg *docGraderIn) detail(k string) json.RawMessage {
	if dg.Details != nil {
		return dg.Details[k]
	}
	for i := len(dg.details) - 1; i >= 0; i-- {
		if dg.details[i].key == k {
			return dg.details[i].raw
		}
	}
	return nil
}

// eachDetail calls f on every details key and value.
func (dg *docGraderIn) eachDetail(f func(k string, v json.RawMessage) error) error {
	for k, v := range dg.Details {
		if err := f(k, v); err != nil {
			return err
		}
	}
	for _, p := range dg.details {
		if err := f(p.key, p.raw); err != nil {
			return err
		}
	}
	return nil
}

// report is the inverse of Document.
func (doc *resultDocumentIn) report() (*Report, error) {
	switch {
	case doc.SchemaID != SchemaResult:
		return nil, fmt.Errorf("schema_id %q, want %q; pass the regress_result.json that gait wrote", doc.SchemaID, SchemaResult)
	case !strings.HasPrefix(doc.SchemaVersion, "1."):
		return nil, fmt.Errorf("schema_version %q has an unknown major version (this gait reads 1.x)", doc.SchemaVersion)
	case doc.Status != StatusPass && doc.Status != StatusFail:
		return nil, fmt.Errorf("status %q, want pass or fail", doc.Status)
	case doc.Graders == nil:
		return nil, fmt.Errorf("graders is missing; pass the regress_result.json that gait wrote")
	}
	rep := &Report{FixtureSet: doc.FixtureSet, Status: StatusPass, CreatedAt: doc.CreatedAt, ProducerVersion: doc.ProducerVersion, Shard: doc.Shard}
	index := map[string]int{}
	for i, dg := range doc.Graders {
		g, fixture, err := dg.result()
		if err != nil {
			return nil, fmt.Errorf("graders[%d]: %w", i, err)
		}
		n, seen := index[fixture]
		if !seen {
			n = len(rep.Fixtures)
			index[fixture] = n
			rep.Fixtures = append(rep.Fixtures, FixtureResult{Name: fixture, Status: StatusPass})
		} else if n != len(rep.Fixtures)-1 {
			return nil, fmt.Errorf("graders[%d]: fixture %q's graders are not together", i, fixture)
		}
		f := &rep.Fixtures[n]
		if err := f.take(&dg); err != nil {
			return nil, fmt.Errorf("graders[%d]: %w", i, err)
		}
		if g.Status != StatusPass {
			f.Status = StatusFail
		}
		f.Graders = append(f.Graders, g)
	}
	for _, f := range rep.Fixtures {
		rep.Total++
		if f.Status == StatusPass {
			rep.Passed++
		} else {
			rep.Failed++
			rep.Status = StatusFail
		}
	}
	if rep.Status != doc.Status {
		return nil, fmt.Errorf("status %q, but %d of its graders fail; the document was edited", doc.Status, failedGraders(rep))
	}
	return rep, nil
}

func failedGraders(rep *Report) int {
	_, _, failed := rep.GraderCounts()
	return failed
}

// result reads one grader back, with the fixture it grades.
func (dg *docGraderIn) result() (GraderResult, string, error) {
	if dg.Status != StatusPass && dg.Status != StatusFail {
		return GraderResult{}, "", fmt.Errorf("status %q, want pass or fail", dg.Status)
	}
	if dg.ReasonCodes == nil {
		return GraderResult{}, "", fmt.Errorf("grader %q has no reason_codes", dg.Name)
	}
	fixture, _ := rawString(dg.detail(detailFixture))
	if fixture == "" {
		fixture, _, _ = strings.Cut(dg.Name, "/")
	}
	name, ok := strings.CutPrefix(dg.Name, fixture+"/")
	if !ok || name == "" || strings.Contains(name, "/") || !fixtureNamePattern().MatchString(fixture) {
		return GraderResult{}, "", fmt.Errorf("grader name %q is not <fixture>/<grader>", dg.Name)
	}
	g := GraderResult{Name: name, Status: dg.Status, ReasonCodes: dg.ReasonCodes, ContextConformance: dg.ContextConformance, Set: SetV1}
	err := dg.eachDetail(func(k string, v json.RawMessage) error {
		var bad bool
		switch k {
		case detailFixtureFile, detailTicketFooter:
			return nil // the fixture's
		case detailGraderSet:
			g.Set, bad = rawString(v)
			bad = !bad || g.Set != SetGait
		case detailMessage:
			g.Message, bad = rawString(v)
			bad = !bad
		case detailDiff:
			g.Diff, bad = rawString(v)
			bad = !bad
		case detailStep:
			var f float64
			isNum := json.Unmarshal(v, &f) == nil
			g.Step = int(f)
			bad = !isNum || f < 1 || f != float64(g.Step)
		default:
			if g.Details == nil {
				g.Details = map[string]any{}
			}
			g.Details[k] = v
			return nil
		}
		if bad {
			return fmt.Errorf("grader %q: details.%s has the wrong type or value", dg.Name, k)
		}
		return nil
	})
	if err != nil {
		return GraderResult{}, "", err
	}
	return g, fixture, nil
}

// rawString decodes a JSON string; ok is false for anything else.
func rawString(raw json.RawMessage) (s string, ok bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	if plain := raw[1 : len(raw)-1]; !bytes.ContainsAny(plain, "\\\"") && raw[len(raw)-1] == '"' && utf8.Valid(plain) {
		return string(plain), true
	}
	return s, json.Unmarshal(raw, &s) == nil
}

// take reads the fixture's own fields from one of its graders' details.
func (f *FixtureResult) take(dg *docGraderIn) error {
	for _, field := range []struct {
		key string
		dst *string
	}{{detailRunID, &f.RunID}, {detailFixtureFile, &f.FixtureFile}, {detailTicketFooter, &f.TicketFooter}} {
		v := dg.detail(field.key)
		if v == nil {
			continue
		}
		s, ok := rawString(v)
		if !ok || (*field.dst != "" && *field.dst != s) {
			return fmt.Errorf("fixture %q: details.%s differs between its graders or is not a string", f.Name, field.key)
		}
		*field.dst = s
	}
	if p := f.FixtureFile; p != "" && (path.Clean(p) != p || !localPath(p)) {
		return fmt.Errorf("fixture %q: details.fixture_file %q is not a relative path inside the repository", f.Name, p)
	}
	return nil
}

// fileProblem words an error opening a file without repeating its path.
func fileProblem(err error) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return oneLine(pe.Err.Error())
	}
	return oneLine(err.Error())
}
