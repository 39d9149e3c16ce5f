package pack

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/jcs"
	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/internal/safezip"
)

// Unified pack schema ids.
const (
	SchemaPackManifest = "gait.pack.manifest"
	SchemaPackRun      = "gait.pack.run"
	SchemaPackJob      = "gait.pack.job"
	SchemaPackDiff     = "gait.pack.diff"
)

// Pack types.
const (
	PackTypeRun  = "run"
	PackTypeJob  = "job"
	PackTypeCall = "call"
)

// Entry names inside a unified pack.
const (
	FilePackManifest   = "pack_manifest.json"
	FileRunPayload     = "run_payload.json"
	FileSourceRunpack  = "source/runpack.zip"
	FileJobPayload     = "job_payload.json"
	FileJobState       = "job_state.json"
	FileJobEvents      = "job_events.jsonl"
	FileProofRecords   = "proof_records.jsonl"
	FileContextEnvelop = "context_envelope.json"
)

// packTime is the created_at of every pack: packs carry no wall-clock time,
// so the same source always gives the same bytes.
const packTime = "1980-01-01T00:00:00Z"

// requiredPackFiles are the payload files each pack type must declare.
var requiredPackFiles = map[string][]string{
	PackTypeRun:  {FileRunPayload, FileSourceRunpack},
	PackTypeJob:  {FileJobEvents, FileJobPayload, FileJobState},
	PackTypeCall: {},
}

// PackEntry is one declared file of a pack.
type PackEntry struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Type   string `json:"type"`
}

// PackManifest is pack_manifest.json. PackID is the SHA-256 of the
// canonical manifest with pack_id empty and without signatures.
type PackManifest struct {
	Contents        []PackEntry      `json:"contents"`
	CreatedAt       string           `json:"created_at"`
	PackID          string           `json:"pack_id"`
	PackType        string           `json:"pack_type"`
	ProducerVersion string           `json:"producer_version"`
	SchemaID        string           `json:"schema_id"`
	SchemaVersion   string           `json:"schema_version"`
	Signatures      []keys.Signature `json:"signatures,omitempty"`
	SourceRef       string           `json:"source_ref"`
}

// RunPayload is run_payload.json: a summary of the embedded runpack.
type RunPayload struct {
	CaptureMode         string `json:"capture_mode"`
	ContextEvidenceMode string `json:"context_evidence_mode,omitempty"`
	ContextRefCount     int    `json:"context_ref_count,omitempty"`
	ContextSetDigest    string `json:"context_set_digest,omitempty"`
	CreatedAt           string `json:"created_at"`
	IntentsCount        int    `json:"intents_count"`
	ManifestDigest      string `json:"manifest_digest"`
	RefsCount           int    `json:"refs_count"`
	ResultsCount        int    `json:"results_count"`
	RunID               string `json:"run_id"`
	SchemaID            string `json:"schema_id"`
	SchemaVersion       string `json:"schema_version"`
}

// JobPayload is job_payload.json: a summary of the embedded job state.
type JobPayload struct {
	ApprovalCount          int    `json:"approval_count"`
	CheckpointCount        int    `json:"checkpoint_count"`
	CreatedAt              string `json:"created_at"`
	EnvironmentFingerprint string `json:"environment_fingerprint"`
	JobID                  string `json:"job_id"`
	SafetyInvariantHash    string `json:"safety_invariant_hash,omitempty"`
	SafetyInvariantVersion string `json:"safety_invariant_version,omitempty"`
	SchemaID               string `json:"schema_id"`
	SchemaVersion          string `json:"schema_version"`
	Status                 string `json:"status"`
	StatusReasonCode       string `json:"status_reason_code"`
	StopReason             string `json:"stop_reason"`
}

// Pack is a unified pack in memory.
type Pack struct {
	Manifest PackManifest
	files    map[string][]byte
	run      *Runpack // a run pack's embedded runpack, as OpenPack checked it
}

// PackOptions adjust how a pack is built.
type PackOptions struct {
	PrivateKey      ed25519.PrivateKey // signs the manifest when set
	ProducerVersion string             // "0.0.0-dev" when empty
}

// BuildRunPack wraps the runpack at runpackPath (checked first) in a run
// pack whose payload summarizes it.
func BuildRunPack(runpackPath string, opts PackOptions) (*Pack, error) {
	data, err := os.ReadFile(runpackPath)
	if err != nil {
		return nil, archiveError(runpackPath, err)
	}
	rp, err := OpenBytes(runpackPath, data)
	if err != nil {
		return nil, err
	}
	payload := RunPayload{
		CaptureMode: rp.Manifest.CaptureMode, CreatedAt: rp.Manifest.CreatedAt, IntentsCount: len(rp.Intents),
		ManifestDigest: rp.Manifest.ManifestDigest, RefsCount: len(rp.Refs.Receipts), ResultsCount: len(rp.Results),
		RunID: rp.Manifest.RunID, SchemaID: SchemaPackRun, SchemaVersion: SchemaVersion,
		ContextEvidenceMode: rp.Refs.ContextEvidenceMode, ContextRefCount: rp.Refs.ContextRefCount,
	}
	if digest.Valid(rp.Refs.ContextSetDigest) {
		payload.ContextSetDigest = rp.Refs.ContextSetDigest
	}
	pb, err := jcs.Marshal(payload)
	if err != nil {
		return nil, err
	}
	return newPack(PackTypeRun, rp.Manifest.RunID, map[string][]byte{FileRunPayload: pb, FileSourceRunpack: data}, opts)
}

// BuildJobPack packs a job's state.json and events.jsonl bytes. Both are
// re-encoded canonically, so the pack does not depend on how they were
// indented on disk.
func BuildJobPack(stateJSON, eventsJSONL []byte, opts PackOptions) (*Pack, error) {
	var st struct {
		JobPayload
		Checkpoints []json.RawMessage `json:"checkpoints"`
		Approvals   []json.RawMessage `json:"approvals"`
		SchemaID    string            `json:"schema_id"`
	}
	if err := json.Unmarshal(stateJSON, &st); err != nil {
		return nil, exitcode.Invalidf("job state: %v; pass a job id or a job directory written by gait", err)
	}
	if st.SchemaID != "gait.job.runtime" || st.JobID == "" {
		return nil, exitcode.Invalidf("job state: schema_id %q with job_id %q is not a gait job state", st.SchemaID, st.JobID)
	}
	state, err := jcs.Canonicalize(stateJSON)
	if err != nil {
		return nil, exitcode.Invalidf("job state: %v", err)
	}
	var events bytes.Buffer
	for i, line := range bytes.Split(eventsJSONL, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		c, err := jcs.Canonicalize(line)
		if err != nil {
			return nil, exitcode.Invalidf("job events line %d: %v", i+1, err)
		}
		events.Write(c)
		events.WriteByte('\n')
	}
	payload := st.JobPayload
	payload.SchemaID, payload.SchemaVersion = SchemaPackJob, SchemaVersion
	payload.CheckpointCount, payload.ApprovalCount = len(st.Checkpoints), len(st.Approvals)
	pb, err := jcs.Marshal(payload)
	if err != nil {
		return nil, err
	}
	return newPack(PackTypeJob, st.JobID, map[string][]byte{FileJobPayload: pb, FileJobState: state, FileJobEvents: events.Bytes()}, opts)
}

func newPack(packType, sourceRef string, files map[string][]byte, opts PackOptions) (*Pack, error) {
	pv := opts.ProducerVersion
	if pv == "" {
		pv = "0.0.0-dev"
	}
	m := PackManifest{CreatedAt: packTime, PackType: packType, ProducerVersion: pv,
		SchemaID: SchemaPackManifest, SchemaVersion: SchemaVersion, SourceRef: sourceRef}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		m.Contents = append(m.Contents, PackEntry{Path: n, SHA256: digest.Bytes(files[n]), Type: entryType(n)})
	}
	var err error
	if m.PackID, err = m.ComputeID(); err != nil {
		return nil, err
	}
	if opts.PrivateKey != nil {
		sd, err := m.signedDigest()
		if err != nil {
			return nil, err
		}
		sig, err := keys.SignDigest(opts.PrivateKey, sd)
		if err != nil {
			return nil, err
		}
		m.Signatures = []keys.Signature{sig}
	}
	mb, err := jcs.Marshal(m)
	if err != nil {
		return nil, err
	}
	files[FilePackManifest] = mb
	return &Pack{Manifest: m, files: files}, nil
}

func entryType(name string) string {
	switch {
	case strings.HasSuffix(name, ".jsonl"):
		return "jsonl"
	case strings.HasSuffix(name, ".json"):
		return "json"
	case strings.HasSuffix(name, ".zip"):
		return "zip"
	}
	return "blob"
}

// ComputeID returns the pack id: SHA-256 of the canonical manifest with
// pack_id empty and without signatures.
func (m PackManifest) ComputeID() (string, error) {
	m.PackID = ""
	m.Signatures = nil
	b, err := jcs.Marshal(m)
	if err != nil {
		return "", err
	}
	return digest.Bytes(b), nil
}

// signedDigest is what a pack signature covers: the canonical manifest
// with its pack id and without signatures.
func (m PackManifest) signedDigest() (string, error) {
	m.Signatures = nil
	b, err := jcs.Marshal(m)
	if err != nil {
		return "", err
	}
	return digest.Bytes(b), nil
}

// File returns the bytes of a pack entry.
func (p *Pack) File(name string) []byte { return p.files[name] }

// EmbeddedRunpack returns a run pack's runpack as OpenPack decoded and
// checked it; nil for other packs and for packs not read by OpenPack.
func (p *Pack) EmbeddedRunpack() *Runpack { return p.run }

// Names lists the pack's entries in order.
func (p *Pack) Names() []string {
	names := make([]string, 0, len(p.files))
	for n := range p.files {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Write writes the pack's deterministic zip bytes.
func (p *Pack) Write(w io.Writer) error {
	list := make([]safezip.File, 0, len(p.files))
	for _, n := range p.Names() {
		list = append(list, safezip.File{Name: n, Data: p.files[n]})
	}
	return safezip.Write(w, list)
}

// WriteFile atomically writes the pack to path.
func (p *Pack) WriteFile(path string) error { return atomicfile.Write(path, 0o644, p.Write) }

// DefaultPackPath is where `pack build` writes a pack by default.
func DefaultPackPath(outDir, packType, sourceRef string) string {
	return filepath.Join(outDir, "pack_"+packType+"_"+sourceRef+".zip")
}

// ParsePackManifest decodes pack_manifest.json and checks its own fields:
// schema, pack type, entry digests are hex, and the pack id.
func ParsePackManifest(b []byte) (PackManifest, error) {
	var m PackManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %w", FilePackManifest, err)
	}
	if err := checkSchema(FilePackManifest, m.SchemaID, m.SchemaVersion, SchemaPackManifest); err != nil {
		return m, err
	}
	if _, ok := requiredPackFiles[m.PackType]; !ok {
		return m, fmt.Errorf("%s: pack_type %q is not run, job or call", FilePackManifest, m.PackType)
	}
	seen := map[string]bool{}
	for _, e := range m.Contents {
		if e.Path == "" || e.Path == FilePackManifest || seen[e.Path] {
			return m, fmt.Errorf("%s: content path %q is empty, reserved or declared twice", FilePackManifest, e.Path)
		}
		seen[e.Path] = true
		if !digest.Valid(e.SHA256) {
			return m, fmt.Errorf("%s: %s: sha256 %q is not hex sha256", FilePackManifest, e.Path, e.SHA256)
		}
	}
	id, err := m.ComputeID()
	if err != nil {
		return m, err
	}
	if id != m.PackID {
		return m, fmt.Errorf("%s: pack_id %s does not match the content (%s)", FilePackManifest, m.PackID, id)
	}
	return m, nil
}

// OpenPack reads a unified pack and checks it: canonical zip within
// PackLimits, the manifest (read first) and pack id, every entry declared
// (checked before anything else inflates) with a matching digest (large
// entries hashed before they are held), the files its type requires
// present, and the payload consistent with what it summarizes.
func OpenPack(path string) (*Pack, error) {
	a, err := safezip.Open(path, PackLimits)
	if err != nil {
		return nil, packArchiveError(path, err)
	}
	defer a.Close()
	fail := func(err error) error { return exitcode.VerifyFailedf("%s: %v", path, err) }
	if !a.Has(FilePackManifest) {
		if a.Has(FileManifest) {
			return nil, exitcode.Invalidf("%s: this is a runpack, not a pack; use `gait verify` or wrap it with `gait pack build --type run --from %s`", path, path)
		}
		return nil, fail(errors.New(FilePackManifest + ": missing from the archive"))
	}
	if n := a.Size(FilePackManifest); n > maxManifestSize {
		return nil, exitcode.Invalidf("%s: %s: %d bytes, over the limit of %d for a manifest; this is not a pack gait wrote", path, FilePackManifest, n, maxManifestSize)
	}
	mraw, err := a.ReadFile(FilePackManifest)
	if err != nil {
		return nil, packArchiveError(path, err)
	}
	m, err := ParsePackManifest(mraw)
	if err != nil {
		return nil, schemaOrVerify(path, err)
	}
	declared := make([]FileDigest, len(m.Contents))
	for i, e := range m.Contents {
		declared[i] = FileDigest{Path: e.Path, SHA256: e.SHA256}
	}
	if err := checkDeclared(a.Names(), FilePackManifest, declared); err != nil {
		return nil, fail(err)
	}
	for _, want := range requiredPackFiles[m.PackType] {
		if !a.Has(want) {
			return nil, fail(fmt.Errorf("%s: a %s pack must contain it", want, m.PackType))
		}
	}
	files, err := readDeclared(path, a, declared)
	if err != nil {
		return nil, err
	}
	files[FilePackManifest] = mraw
	p := &Pack{Manifest: m, files: files}
	if err := p.checkPayload(); err != nil {
		if exitcode.Of(err) == exitcode.InvalidInput {
			return nil, exitcode.Wrap(exitcode.InvalidInput, fmt.Errorf("%s: %w", path, err))
		}
		return nil, schemaOrVerify(path, err)
	}
	return p, nil
}

func packArchiveError(path string, err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return exitcode.Invalidf("%s: no such pack; pass the path of a pack zip (gait pack build writes gait-out/pack_<type>_<id>.zip)", path)
	}
	if errors.Is(err, safezip.ErrNotZip) {
		return exitcode.Invalidf("%s: not a zip archive; pass a pack written by gait pack build", path)
	}
	return archiveError(path, err)
}

// checkPayload checks the typed payload against what it summarizes.
func (p *Pack) checkPayload() error {
	switch p.Manifest.PackType {
	case PackTypeRun:
		var rpl RunPayload
		if err := json.Unmarshal(p.files[FileRunPayload], &rpl); err != nil {
			return fmt.Errorf("%s: %w", FileRunPayload, err)
		}
		if err := checkSchema(FileRunPayload, rpl.SchemaID, rpl.SchemaVersion, SchemaPackRun); err != nil {
			return err
		}
		rp, err := OpenBytes(FileSourceRunpack, p.files[FileSourceRunpack])
		if err != nil {
			return fmt.Errorf("%s: %w", FileSourceRunpack, err)
		}
		if rp.Manifest.ManifestDigest != rpl.ManifestDigest || rp.Manifest.RunID != rpl.RunID {
			return fmt.Errorf("%s: run %s manifest %s does not match the embedded runpack (run %s manifest %s)",
				FileRunPayload, rpl.RunID, rpl.ManifestDigest, rp.Manifest.RunID, rp.Manifest.ManifestDigest)
		}
		p.run = rp
	case PackTypeJob:
		var jp JobPayload
		if err := json.Unmarshal(p.files[FileJobPayload], &jp); err != nil {
			return fmt.Errorf("%s: %w", FileJobPayload, err)
		}
		if err := checkSchema(FileJobPayload, jp.SchemaID, jp.SchemaVersion, SchemaPackJob); err != nil {
			return err
		}
		var st struct {
			JobID    string `json:"job_id"`
			Status   string `json:"status"`
			Revision int64  `json:"revision"`
		}
		if err := json.Unmarshal(p.files[FileJobState], &st); err != nil {
			return fmt.Errorf("%s: %w", FileJobState, err)
		}
		if st.JobID != jp.JobID || st.Status != jp.Status {
			return fmt.Errorf("%s: job %s (%s) does not match %s (job %s, %s)", FileJobPayload, jp.JobID, jp.Status, FileJobState, st.JobID, st.Status)
		}
		events, err := jobEventRevisions(p.files[FileJobEvents])
		if err != nil {
			return err
		}
		if int64(len(events)) != st.Revision {
			return fmt.Errorf("%s: %d events, but the state is at revision %d", FileJobEvents, len(events), st.Revision)
		}
	}
	return nil
}

func jobEventRevisions(b []byte) ([]int64, error) {
	var out []int64
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var ev struct {
			Revision int64 `json:"revision"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", FileJobEvents, i+1, err)
		}
		if want := int64(len(out)) + 1; ev.Revision != want {
			return nil, fmt.Errorf("%s line %d: revision %d, want %d", FileJobEvents, i+1, ev.Revision, want)
		}
		out = append(out, ev.Revision)
	}
	return out, nil
}

// PackVerifyResult is what VerifyPack found.
type PackVerifyResult struct {
	OK              bool   `json:"ok"`
	Path            string `json:"path"`
	PackID          string `json:"pack_id,omitempty"`
	PackType        string `json:"pack_type,omitempty"`
	SourceRef       string `json:"source_ref,omitempty"`
	FilesChecked    int    `json:"files_checked"`
	SignatureStatus string `json:"signature_status,omitempty"`
	SignatureKeyID  string `json:"signature_key_id,omitempty"`
	Problem         string `json:"problem,omitempty"`
}

// VerifyPack checks a pack (see OpenPack) and its signatures. The error
// carries exit code 2 for a failed check and 6 for unusable input.
func VerifyPack(path string, opts VerifyOptions) (PackVerifyResult, error) {
	_, res, err := OpenVerifiedPack(path, opts)
	return res, err
}

// OpenVerifiedPack is VerifyPack that also returns the pack it opened, for
// callers that read it after checking it (the pack is nil on error).
func OpenVerifiedPack(path string, opts VerifyOptions) (*Pack, PackVerifyResult, error) {
	res := PackVerifyResult{Path: path}
	fail := func(err error) (*Pack, PackVerifyResult, error) {
		res.Problem = err.Error()
		return nil, res, err
	}
	p, err := OpenPack(path)
	if err != nil {
		return fail(err)
	}
	m := p.Manifest
	res.PackID, res.PackType, res.SourceRef, res.FilesChecked = m.PackID, m.PackType, m.SourceRef, len(m.Contents)
	res.SignatureStatus = SignatureMissing
	if len(m.Signatures) > 0 {
		res.SignatureStatus = SignatureUnknown
		if opts.PublicKey != nil {
			sd, err := m.signedDigest()
			if err != nil {
				return fail(err)
			}
			id := keys.ID(opts.PublicKey)
			matched := false
			for i, s := range m.Signatures {
				if s.KeyID != id {
					continue
				}
				matched = true
				if err := keys.VerifySignature(opts.PublicKey, s, sd); err != nil {
					res.SignatureStatus = "failed"
					return fail(exitcode.VerifyFailedf("%s: %s: signature %d: %v", path, FilePackManifest, i, err))
				}
			}
			if !matched {
				res.SignatureStatus = "failed"
				return fail(exitcode.VerifyFailedf("%s: %s: no signature was made by the given public key %s", path, FilePackManifest, id))
			}
			res.SignatureStatus, res.SignatureKeyID = SignatureVerified, id
		}
	}
	if opts.RequireSignature && res.SignatureStatus != SignatureVerified {
		msg := "pack is not signed"
		if res.SignatureStatus == SignatureUnknown {
			msg = "signature present but no --public-key was given to check it"
		}
		return fail(exitcode.VerifyFailedf("%s: %s; --require-signature needs a signature that verifies with --public-key", path, msg))
	}
	res.OK = true
	return p, res, nil
}

// RunpackFromPack returns the runpack bytes a pack carries. A run pack
// returns its embedded source/runpack.zip unchanged. A job pack becomes a
// runpack whose steps are the job's events in revision order (tool
// "job.<event type>", args the revision and reason code), so a job's history
// can be replayed and graded like a run. Other pack types are refused (exit 6).
func RunpackFromPack(path string) ([]byte, error) {
	p, err := OpenPack(path)
	if err != nil {
		return nil, err
	}
	switch p.Manifest.PackType {
	case PackTypeRun:
		return p.files[FileSourceRunpack], nil
	case PackTypeJob:
		rec, err := jobRunRecord(p)
		if err != nil {
			return nil, exitcode.Wrap(exitcode.Of(err), fmt.Errorf("%s: %w", path, err))
		}
		rp, err := Build(rec, RecordOptions{})
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := rp.Write(&buf); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	return nil, exitcode.Invalidf("%s: a %s pack holds no runpack; pass a run or job pack", path, p.Manifest.PackType)
}

var runIDUnsafe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9_-]`) })

// jobRunRecord turns a job pack's events into a run record.
func jobRunRecord(p *Pack) (*RunRecord, error) {
	var jp JobPayload
	if err := json.Unmarshal(p.files[FileJobPayload], &jp); err != nil {
		return nil, fmt.Errorf("%s: %w", FileJobPayload, err)
	}
	runID := "run_" + runIDUnsafe().ReplaceAllString(jp.JobID, "_")
	rec := &RunRecord{Run: Run{CreatedAt: jp.CreatedAt, ProducerVersion: "0.0.0-dev", RunID: runID}}
	rec.Refs = Refs{CreatedAt: jp.CreatedAt, ProducerVersion: "0.0.0-dev"}
	for _, line := range splitLines(p.files[FileJobEvents]) {
		var ev struct {
			CreatedAt  string         `json:"created_at"`
			Revision   int64          `json:"revision"`
			Type       string         `json:"type"`
			ReasonCode string         `json:"reason_code"`
			Payload    map[string]any `json:"payload"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			return nil, fmt.Errorf("%s: %w", FileJobEvents, err)
		}
		id := fmt.Sprintf("intent_%d", ev.Revision)
		args := map[string]any{"revision": ev.Revision, "reason_code": ev.ReasonCode}
		if t, ok := ev.Payload["checkpoint_type"]; ok {
			args["checkpoint_type"] = t
		}
		ab, _ := json.Marshal(args)
		rb, _ := json.Marshal(map[string]any{"reason_code": ev.ReasonCode, "status": jp.Status})
		rec.Intents = append(rec.Intents, Intent{IntentID: id, ToolName: "job." + ev.Type, Args: ab, CreatedAt: ev.CreatedAt})
		rec.Results = append(rec.Results, Result{IntentID: id, Status: "ok", Result: rb, CreatedAt: ev.CreatedAt})
	}
	return rec, nil
}
