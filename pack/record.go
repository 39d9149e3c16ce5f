package pack

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/jcs"
	"github.com/gait-dev/gait/internal/safezip"
)

// RunRecord is the input of `gait run record`: a run, its intents, results
// and reference receipts as one JSON document.
type RunRecord struct {
	Run         Run      `json:"run"`
	Intents     []Intent `json:"intents"`
	Results     []Result `json:"results"`
	Refs        Refs     `json:"refs"`
	CaptureMode string   `json:"capture_mode,omitempty"`
}

// RecordOptions adjust how a record becomes a runpack.
type RecordOptions struct {
	RunID       string             // overrides the record's run id when set
	CaptureMode string             // overrides the record's capture mode when set
	PrivateKey  ed25519.PrivateKey // signs the manifest when set
	// ProducerVersion is stamped into a record that names no producer.
	ProducerVersion string
	// ContextEvidenceMode is stamped into refs.json when the record has none
	// (best_effort or required); empty leaves it out.
	ContextEvidenceMode string
}

// epoch is the creation time of a run whose record carries no time at all:
// the fixed time of every zip entry. Gait v1 takes the clock there; Gait
// keeps the same record giving the same bytes.
const epoch = "1980-01-01T00:00:00Z"

// recordedTime is the run's creation time when run.created_at is missing:
// the first time the record itself carries (an intent's or result's
// created_at, then the timeline's first ts), else epoch.
func recordedTime(rp *Runpack) string {
	for _, in := range rp.Intents {
		if in.CreatedAt != "" {
			return in.CreatedAt
		}
	}
	for _, r := range rp.Results {
		if r.CreatedAt != "" {
			return r.CreatedAt
		}
	}
	var events []struct {
		TS string `json:"ts"`
	}
	if json.Unmarshal(rp.Run.Timeline, &events) == nil {
		for _, e := range events {
			if e.TS != "" {
				return e.TS
			}
		}
	}
	return epoch
}

// ValidRunID reports whether id can name a run: what Gait v1 accepts (one
// line of text such as run_demo, Run_Upper or "nightly 2.1"), checked as
// runpacks are checked on read (CheckRunID), except the names that cannot
// be part of a file name: path separators, "." and "..". Gait names its own
// runs run_<name>.
func ValidRunID(id string) bool { return CheckRunID(id) == nil && id != "." && id != ".." }

// ParseRunRecord decodes a run record. name is used in error messages.
func ParseRunRecord(name string, data []byte) (*RunRecord, error) {
	var rec RunRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, exitcode.Invalidf("%s: not a valid run record: %v; see docs/formats.md for the run record shape", name, err)
	}
	return &rec, nil
}

// Runpack is an in-memory runpack: its parsed documents and the exact
// payload bytes they came from.
type Runpack struct {
	Manifest Manifest
	Run      Run
	Intents  []Intent
	Results  []Result
	Refs     Refs
	files    map[string][]byte
}

// Build normalizes a run record into a runpack: it fills schema fields,
// computes missing digests, checks ids, encodes every file canonically and
// writes (and optionally signs) the manifest.
func Build(rec *RunRecord, opts RecordOptions) (*Runpack, error) {
	rp := &Runpack{Run: rec.Run, Intents: rec.Intents, Results: rec.Results, Refs: rec.Refs}
	runID := rp.Run.RunID
	if opts.RunID != "" {
		runID = opts.RunID
	}
	if !ValidRunID(runID) {
		return nil, exitcode.Invalidf("run id %q is invalid; use one line of text without '/' or '\\', as in run_refund_42 (pass --run-id)", runID)
	}
	mode := rec.CaptureMode
	if opts.CaptureMode != "" {
		mode = opts.CaptureMode
	}
	if mode == "" {
		mode = CaptureReference
	}
	if mode != CaptureReference && mode != CaptureRaw {
		return nil, exitcode.Invalidf("capture mode %q is not reference or raw; pass --capture-mode reference|raw", mode)
	}
	if rp.Run.CreatedAt == "" {
		rp.Run.CreatedAt = recordedTime(rp)
	}
	// A record may leave out where the run happened and who produced it;
	// the schema wants both, so say "unknown" rather than guess from the
	// recording machine (which is not where the agent ran).
	if len(rp.Run.Env) == 0 || string(rp.Run.Env) == "null" {
		rp.Run.Env = json.RawMessage(`{"arch":"unknown","os":"unknown","runtime":"unknown"}`)
	}
	if len(rp.Run.Timeline) == 0 || string(rp.Run.Timeline) == "null" {
		rp.Run.Timeline = json.RawMessage(`[]`)
	}
	if rp.Run.ProducerVersion == "" {
		rp.Run.ProducerVersion = cmp.Or(opts.ProducerVersion, "unknown")
	}
	pv := rp.Run.ProducerVersion
	fill := func(h *Header, schema string) {
		h.RunID = runID
		h.SchemaID = schema
		if h.SchemaVersion == "" {
			h.SchemaVersion = SchemaVersion
		}
		if h.CreatedAt == "" {
			h.CreatedAt = rp.Run.CreatedAt
		}
		if h.ProducerVersion == "" {
			h.ProducerVersion = pv
		}
	}
	var err error
	h := header{&rp.Run.CreatedAt, &rp.Run.ProducerVersion, &rp.Run.RunID, &rp.Run.SchemaID, &rp.Run.SchemaVersion}
	if err = h.fill(fill, SchemaRun); err != nil {
		return nil, exitcode.Invalidf("run: %v", err)
	}
	seen := make(map[string]bool, len(rp.Intents))
	for i := range rp.Intents {
		in := &rp.Intents[i]
		if in.IntentID == "" || in.ToolName == "" {
			return nil, exitcode.Invalidf("intents[%d]: intent_id and tool_name are required", i)
		}
		if seen[in.IntentID] {
			return nil, exitcode.Invalidf("intents[%d]: duplicate intent_id %q", i, in.IntentID)
		}
		seen[in.IntentID] = true
		h := header{&in.CreatedAt, &in.ProducerVersion, &in.RunID, &in.SchemaID, &in.SchemaVersion}
		if err = h.fill(fill, SchemaIntent); err != nil {
			return nil, exitcode.Invalidf("intents[%d]: %v", i, err)
		}
	}
	for i := range rp.Results {
		r := &rp.Results[i]
		if r.IntentID == "" {
			return nil, exitcode.Invalidf("results[%d]: intent_id is required", i)
		}
		h := header{&r.CreatedAt, &r.ProducerVersion, &r.RunID, &r.SchemaID, &r.SchemaVersion}
		if err = h.fill(fill, SchemaResult); err != nil {
			return nil, exitcode.Invalidf("results[%d]: %v", i, err)
		}
	}
	// Canonicalizing payloads is the bulk of the work: spread it over all
	// cores. The first failing record (in record order) is reported.
	if err := inChunks(len(rp.Intents), func(i int) error {
		in := &rp.Intents[i]
		var err error
		if in.Args, in.ArgsDigest, err = canonicalPayload(in.Args, in.ArgsDigest); err != nil {
			return exitcode.Invalidf("intents[%d] (%s): args: %v", i, in.IntentID, err)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := inChunks(len(rp.Results), func(i int) error {
		r := &rp.Results[i]
		var err error
		if r.Result, r.ResultDigest, err = canonicalPayload(r.Result, r.ResultDigest); err != nil {
			return exitcode.Invalidf("results[%d] (%s): result: %v", i, r.IntentID, err)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	hr := header{&rp.Refs.CreatedAt, &rp.Refs.ProducerVersion, &rp.Refs.RunID, &rp.Refs.SchemaID, &rp.Refs.SchemaVersion}
	if err = hr.fill(fill, SchemaRefs); err != nil {
		return nil, exitcode.Invalidf("refs: %v", err)
	}
	if rp.Refs.ContextEvidenceMode == "" {
		rp.Refs.ContextEvidenceMode = opts.ContextEvidenceMode
	}
	if rp.Refs.Receipts == nil {
		rp.Refs.Receipts = []json.RawMessage{}
	}
	for i, raw := range rp.Refs.Receipts {
		if rp.Refs.Receipts[i], err = normalizeReceipt(raw); err != nil {
			return nil, exitcode.Invalidf("refs.receipts[%d]: %v", i, err)
		}
	}
	rp.Refs.ContextRefCount = len(rp.Refs.Receipts)
	if err := rp.encode(mode, opts.PrivateKey); err != nil {
		return nil, err
	}
	return rp, nil
}

// header points at a document's common fields so one function fills them.
type header struct{ createdAt, producerVersion, runID, schemaID, schemaVersion *string }

func (h header) fill(fill func(*Header, string), schema string) error {
	v := Header{*h.createdAt, *h.producerVersion, *h.runID, *h.schemaID, *h.schemaVersion}
	if v.SchemaID != "" && v.SchemaID != schema {
		return fmt.Errorf("schema_id %q, want %q", v.SchemaID, schema)
	}
	fill(&v, schema)
	if err := checkSchema("", v.SchemaID, v.SchemaVersion, schema); err != nil {
		return fmt.Errorf("schema_version %q has an unknown major version", v.SchemaVersion)
	}
	*h.createdAt, *h.producerVersion, *h.runID, *h.schemaID, *h.schemaVersion = v.CreatedAt, v.ProducerVersion, v.RunID, v.SchemaID, v.SchemaVersion
	return nil
}

// canonicalPayload canonicalizes a raw args/result object and computes its
// digest when none was recorded. A recorded digest is kept as evidence.
func canonicalPayload(raw json.RawMessage, recorded string) (json.RawMessage, string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		if recorded == "" {
			return nil, "", fmt.Errorf("neither a value nor a digest was recorded")
		}
		if !digest.Valid(recorded) {
			return nil, "", fmt.Errorf("digest %q is not hex sha256", recorded)
		}
		return nil, recorded, nil
	}
	if raw[0] != '{' {
		return nil, "", fmt.Errorf("must be a JSON object")
	}
	c, err := jcs.Canonicalize(raw)
	if err != nil {
		return nil, "", err
	}
	if recorded == "" {
		recorded = digest.Bytes(c)
	} else if !digest.Valid(recorded) {
		return nil, "", fmt.Errorf("digest %q is not hex sha256", recorded)
	}
	if string(c) == "{}" {
		// An empty object is kept as its digest only, as Gait v1 writes it,
		// so the same record gives the same manifest under either.
		return nil, recorded, nil
	}
	return c, recorded, nil
}

func normalizeReceipt(raw json.RawMessage) (json.RawMessage, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	for _, k := range []string{"ref_id", "source_type", "source_locator", "query_digest", "content_digest", "retrieved_at", "redaction_mode"} {
		if _, ok := m[k]; !ok {
			return nil, fmt.Errorf("%s is required", k)
		}
	}
	if _, ok := m["immutability"]; !ok {
		m["immutability"] = "unknown"
	}
	return jcs.Marshal(m)
}

// encode writes every payload file canonically and builds the manifest.
func (rp *Runpack) encode(mode string, priv ed25519.PrivateKey) error {
	files := make(map[string][]byte, 5)
	var err error
	if files[FileRun], err = jcs.Marshal(rp.Run); err != nil {
		return err
	}
	if files[FileRefs], err = jcs.Marshal(rp.Refs); err != nil {
		return err
	}
	files[FileIntents] = encodeLines(rp.Intents, intentLine)
	files[FileResults] = encodeLines(rp.Results, resultLine)
	m := Manifest{
		CaptureMode:     mode,
		CreatedAt:       rp.Run.CreatedAt,
		ProducerVersion: rp.Run.ProducerVersion,
		RunID:           rp.Run.RunID,
		SchemaID:        SchemaManifest,
		SchemaVersion:   SchemaVersion,
	}
	for _, name := range PayloadFiles {
		m.Files = append(m.Files, FileDigest{Path: name, SHA256: digest.Bytes(files[name])})
	}
	if m.ManifestDigest, err = m.ComputeDigest(); err != nil {
		return err
	}
	if priv != nil {
		if err := m.Sign(priv); err != nil {
			return err
		}
	}
	if files[FileManifest], err = jcs.Marshal(m); err != nil {
		return err
	}
	rp.Manifest = m
	rp.files = files
	return nil
}

// encodeLines writes one canonical JSON line per record, in chunks on all
// cores. The records' payloads are already canonical, so each line is
// assembled directly in canonical key order instead of being encoded and
// re-sorted.
func encodeLines[T any](items []T, line func(*bytes.Buffer, *T)) []byte {
	chunks := make([]bytes.Buffer, (len(items)+chunkSize-1)/chunkSize)
	_ = forChunks(len(items), func(lo, hi int) error {
		buf := &chunks[lo/chunkSize]
		for i := lo; i < hi; i++ {
			line(buf, &items[i])
			buf.WriteByte('\n')
		}
		return nil
	})
	size := 0
	for i := range chunks {
		size += chunks[i].Len()
	}
	out := make([]byte, 0, size)
	for i := range chunks {
		out = append(out, chunks[i].Bytes()...)
	}
	return out
}

// chunkSize is how many records one worker takes at a time.
const chunkSize = 256

// inChunks calls f for 0..n-1 on all cores, in runs of chunkSize, and
// returns the error of the lowest index that failed.
func inChunks(n int, f func(i int) error) error {
	return forChunks(n, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			if err := f(i); err != nil {
				return err
			}
		}
		return nil
	})
}

// forChunks calls f on [lo, hi) runs of chunkSize indexes below n, on all
// cores, and returns the error of the first run (in index order) that failed.
func forChunks(n int, f func(lo, hi int) error) error {
	errs := make([]error, (n+chunkSize-1)/chunkSize)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(errs)) {
		wg.Go(func() {
			for {
				c := int(next.Add(1) - 1)
				if c >= len(errs) {
					return
				}
				errs[c] = f(c*chunkSize, min((c+1)*chunkSize, n))
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

// field writes ,"name":"value" (or {"name":"value" for the first field).
func field(buf *bytes.Buffer, first bool, name, value string) {
	if first {
		buf.WriteByte('{')
	} else {
		buf.WriteByte(',')
	}
	buf.WriteByte('"')
	buf.WriteString(name)
	buf.WriteString(`":`)
	jcs.WriteString(buf, value)
}

func intentLine(buf *bytes.Buffer, in *Intent) {
	first := true
	if len(in.Args) > 0 {
		buf.WriteString(`{"args":`)
		buf.Write(in.Args)
		first = false
	}
	field(buf, first, "args_digest", in.ArgsDigest)
	field(buf, false, "created_at", in.CreatedAt)
	field(buf, false, "intent_id", in.IntentID)
	field(buf, false, "producer_version", in.ProducerVersion)
	field(buf, false, "run_id", in.RunID)
	field(buf, false, "schema_id", in.SchemaID)
	field(buf, false, "schema_version", in.SchemaVersion)
	field(buf, false, "tool_name", in.ToolName)
	buf.WriteByte('}')
}

func resultLine(buf *bytes.Buffer, r *Result) {
	field(buf, true, "created_at", r.CreatedAt)
	field(buf, false, "intent_id", r.IntentID)
	field(buf, false, "producer_version", r.ProducerVersion)
	if len(r.Result) > 0 {
		buf.WriteString(`,"result":`)
		buf.Write(r.Result)
	}
	field(buf, false, "result_digest", r.ResultDigest)
	field(buf, false, "run_id", r.RunID)
	field(buf, false, "schema_id", r.SchemaID)
	field(buf, false, "schema_version", r.SchemaVersion)
	field(buf, false, "status", r.Status)
	buf.WriteByte('}')
}

// Write writes the runpack's canonical zip bytes to w.
func (rp *Runpack) Write(w io.Writer) error {
	list := make([]safezip.File, 0, len(rp.files))
	for name, data := range rp.files {
		list = append(list, safezip.File{Name: name, Data: data})
	}
	return safezip.Write(w, list)
}

// WriteFile atomically writes the runpack to path.
func (rp *Runpack) WriteFile(path string) error {
	return atomicfile.Write(path, 0o644, rp.Write)
}

// DefaultPath is where a run id's runpack lives under an output directory.
func DefaultPath(outDir, runID string) string {
	return filepath.Join(outDir, "runpack_"+runID+".zip")
}

// TicketFooter is the one-line receipt pasted into tickets and PR comments.
func TicketFooter(runID, manifestDigest string) string {
	return TicketFooterAt(runID, manifestDigest, runID)
}

// TicketFooterAt is TicketFooter whose verify command names verifyArg (a
// path, when the runpack does not live in ./gait-out).
func TicketFooterAt(runID, manifestDigest, verifyArg string) string {
	return fmt.Sprintf("GAIT run_id=%s manifest=sha256:%s verify=%q", runID, manifestDigest, "gait verify "+verifyArg)
}
