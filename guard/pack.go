// Package guard builds and checks evidence packs (gait.guard.pack_manifest):
// a run's summary and reference receipts plus the gate traces, regress
// results, approval audits and credential evidence that go with it, indexed
// by the controls of a compliance template and optionally signed.
package guard

import (
	"cmp"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/jcs"
	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/internal/safezip"
	"github.com/gait-dev/gait/pack"
)

// Schema and file names of an evidence pack.
const (
	SchemaPackManifest  = "gait.guard.pack_manifest"
	SchemaVersion       = "1.0.0"
	FileManifest        = "pack_manifest.json"
	FileControlIndex    = "control_index.json"
	FilePointers        = "evidence_pointers.json"
	FileReferenced      = "referenced_runpacks.json"
	FileRunpackSummary  = "runpack_summary.json"
	FileTraceSummary    = "trace_summary.json"
	FileRegressSummary  = "regress_summary.json"
	FilePolicyDigests   = "policy_digests.json"
	prefixApproval      = "approval_audit_"
	FileSummaryPDF      = "summary.pdf"
	prefixInventory     = "inventory_snapshot_"
	prefixCredential    = "credential_evidence_" //nolint:gosec // a file name prefix, not a credential
	schemaTrace         = "gait.gate.trace"
	schemaRegress       = "gait.regress.result"
	schemaApprovalAudit = "gait.gate.approval_audit_record"
	schemaCredential    = "gait.gate.broker_credential_record"
)

// Templates lists the compliance templates, each a set of controls.
var Templates = []string{"incident_response", "pci", "soc2"}

// evidence kinds a control can draw on.
const (
	kindAccess  = "access" // approval audits, credential evidence, referenced receipts
	kindRunpack = "runpack"
	kindTrace   = "trace"
	kindRegress = "regress"
)

type controlDef struct {
	id, title string
	kinds     []string
}

var templates = map[string][]controlDef{
	"soc2": {
		{"CC6.6", "Change Management Evidence", []string{kindAccess, kindTrace}},
		{"CC7.2", "Operational Monitoring", []string{kindRegress, kindTrace}},
		{"CC8.1", "Incident Evidence Integrity", []string{kindAccess, kindRunpack}},
	},
	"pci": {
		{"PCI-10", "Audit Trail and Monitoring", []string{kindRegress, kindTrace}},
		{"PCI-7", "Access and Approval Controls", []string{kindAccess}},
		{"PCI-12", "Incident Handling Evidence", []string{kindRegress, kindRunpack}},
	},
	"incident_response": {
		{"IR-CHAIN", "Reconstruction Chain", []string{kindAccess, kindRunpack, kindTrace}},
		{"IR-ROOTCAUSE", "Root Cause and Regression", []string{kindRegress}},
	},
}

// Entry is one file of a pack, as the manifest declares it.
type Entry struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Type   string `json:"type"`
}

// Control is one control of the template and the files that evidence it.
type Control struct {
	ControlID     string   `json:"control_id"`
	EvidencePaths []string `json:"evidence_paths"`
	Title         string   `json:"title"`
}

// Pointer points at one evidence file.
type Pointer struct {
	Path      string `json:"path"`
	PointerID string `json:"pointer_id"`
	SHA256    string `json:"sha256"`
	Type      string `json:"type"`
}

// Manifest is pack_manifest.json.
type Manifest struct {
	CaseID           string           `json:"case_id,omitempty"`
	Contents         []Entry          `json:"contents"`
	ControlIndex     []Control        `json:"control_index"`
	CreatedAt        string           `json:"created_at"`
	EvidencePointers []Pointer        `json:"evidence_pointers"`
	GeneratedAt      string           `json:"generated_at"`
	PackID           string           `json:"pack_id"`
	ProducerVersion  string           `json:"producer_version"`
	RunID            string           `json:"run_id"`
	SchemaID         string           `json:"schema_id"`
	SchemaVersion    string           `json:"schema_version"`
	Signatures       []keys.Signature `json:"signatures,omitempty"`
	TemplateID       string           `json:"template_id"`
	IncidentWindow   *Window          `json:"incident_window,omitempty"`
}

// Window is the time window an incident pack collected evidence from:
// WindowSeconds either side of the run's created_at, bounds included.
type Window struct {
	From            string `json:"from"`
	SelectionAnchor string `json:"selection_anchor"`
	To              string `json:"to"`
	WindowSeconds   int64  `json:"window_seconds"`
}

// inventorySnapshot reads an inventory snapshot for a pack, keeping the
// fields v1 keeps (and v1's zero values for those missing).
func inventorySnapshot(path string) (any, error) {
	b, _, err := readJSON(path, "--inventory")
	if err != nil {
		return nil, err
	}
	type item struct {
		ID        string   `json:"id"`
		Kind      string   `json:"kind"`
		Locator   string   `json:"locator"`
		Name      string   `json:"name"`
		RiskLevel string   `json:"risk_level,omitempty"`
		Tags      []string `json:"tags,omitempty"`
	}
	var snap struct {
		CreatedAt       string `json:"created_at"`
		Items           []item `json:"items"`
		ProducerVersion string `json:"producer_version"`
		SchemaID        string `json:"schema_id"`
		SchemaVersion   string `json:"schema_version"`
		SnapshotID      string `json:"snapshot_id"`
	}
	if err := json.Unmarshal(b, &snap); err != nil {
		return nil, exitcode.Invalidf("--inventory %s: not an inventory snapshot: %v; pass the JSON snapshot file", path, err)
	}
	snap.CreatedAt = cmp.Or(snap.CreatedAt, "0001-01-01T00:00:00Z")
	return snap, nil
}

// Options say what goes into a pack.
type Options struct {
	Template          string // soc2 (default), pci or incident_response
	CaseID            string
	Traces            []string // gate trace files
	Regress           []string // regress result files
	ApprovalAudits    []string
	CredentialRecords []string
	Inventory         []string           // inventory snapshots (gait.scout snapshots)
	RenderPDF         bool               // add summary.pdf, a one-page summary
	PrivateKey        ed25519.PrivateKey // signs the manifest when set
	ProducerVersion   string
	// Window makes an incident pack: it is recorded in the manifest, with
	// policy_digests.json listing the policies of the traces.
	Window *Window
}

// Pack is a built evidence pack.
type Pack struct {
	Manifest Manifest
	files    []safezip.File
}

// CheckTemplate refuses a template Gait does not define (v1 silently
// substituted soc2).
func CheckTemplate(t string) error {
	if !slices.Contains(Templates, t) {
		return exitcode.Invalidf("template %q is unknown; pass --template %s", t, strings.Join(Templates, ", "))
	}
	return nil
}

// Build assembles an evidence pack for the runpack at runPath.
func Build(runPath string, opts Options) (*Pack, error) {
	opts.Template = cmp.Or(opts.Template, "soc2")
	if err := CheckTemplate(opts.Template); err != nil {
		return nil, err
	}
	rp, err := pack.Open(runPath)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	types := map[string]string{}
	kinds := map[string][]string{} // evidence kind → paths
	put := func(name, typ string, v any, kind ...string) error {
		b, err := jcs.Marshal(v)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		files[name], types[name] = b, typ
		for _, k := range kind {
			kinds[k] = append(kinds[k], name)
		}
		return nil
	}

	type receipt struct {
		ContentDigest string `json:"content_digest"`
		RefID         string `json:"ref_id"`
		RetrievedAt   string `json:"retrieved_at"`
		SourceLocator string `json:"source_locator"`
		SourceType    string `json:"source_type"`
	}
	refs := []receipt{}
	for _, raw := range rp.Refs.Receipts {
		var r receipt
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, exitcode.Wrap(exitcode.VerifyFailed, fmt.Errorf("%s: refs.json: %w", runPath, err))
		}
		refs = append(refs, r)
	}
	if err := put(FileReferenced, "evidence", map[string]any{"receipts": refs, "references": len(refs), "run_id": rp.Manifest.RunID}, kindAccess); err != nil {
		return nil, err
	}
	if err := put(FileRunpackSummary, "runpack", map[string]any{
		"capture_mode": rp.Manifest.CaptureMode, "intent_count": len(rp.Intents), "manifest_digest": rp.Manifest.ManifestDigest,
		"receipt_count": len(rp.Refs.Receipts), "result_count": len(rp.Results), "run_id": rp.Manifest.RunID,
	}, kindRunpack); err != nil {
		return nil, err
	}
	if len(opts.Traces) > 0 {
		sum, err := traceSummary(opts.Traces)
		if err != nil {
			return nil, err
		}
		if err := put(FileTraceSummary, "trace", sum, kindTrace); err != nil {
			return nil, err
		}
	}
	if opts.Window != nil {
		digests, err := policyDigests(opts.Traces)
		if err != nil {
			return nil, err
		}
		if err := put(FilePolicyDigests, "report", map[string]any{"policy_digests": digests, "run_id": rp.Manifest.RunID,
			"window_from": opts.Window.From, "window_to": opts.Window.To}, kindRegress); err != nil {
			return nil, err
		}
	}
	if len(opts.Regress) > 0 {
		sum, err := regressSummary(opts.Regress)
		if err != nil {
			return nil, err
		}
		if err := put(FileRegressSummary, "report", sum, kindRegress); err != nil {
			return nil, err
		}
	}
	for i, p := range opts.ApprovalAudits {
		doc, err := readRecord(p, schemaApprovalAudit, "--approval-audit")
		if err != nil {
			return nil, err
		}
		if err := put(fmt.Sprintf("%s%02d.json", prefixApproval, i+1), "evidence", doc, kindAccess); err != nil {
			return nil, err
		}
	}
	for i, p := range opts.CredentialRecords {
		doc, err := readRecord(p, schemaCredential, "--credential-evidence")
		if err != nil {
			return nil, err
		}
		if err := put(fmt.Sprintf("%s%02d.json", prefixCredential, i+1), "evidence", doc, kindAccess); err != nil {
			return nil, err
		}
	}

	for i, p := range opts.Inventory {
		doc, err := inventorySnapshot(p)
		if err != nil {
			return nil, err
		}
		if err := put(fmt.Sprintf("%s%02d.json", prefixInventory, i+1), "evidence", doc, kindAccess); err != nil {
			return nil, err
		}
	}
	if opts.RenderPDF {
		evidence := make([]string, 0, len(files))
		for name := range files {
			evidence = append(evidence, name)
		}
		slices.Sort(evidence)
		files[FileSummaryPDF], types[FileSummaryPDF] = summaryPDF(rp.Manifest.RunID, opts.CaseID, opts.Template, rp.Run.CreatedAt, evidence), "report"
		kinds[kindRegress] = append(kinds[kindRegress], FileSummaryPDF)
	}

	var controls []Control
	for _, c := range templates[opts.Template] {
		paths := []string{}
		for _, k := range c.kinds {
			paths = append(paths, kinds[k]...)
		}
		slices.Sort(paths)
		controls = append(controls, Control{ControlID: c.id, EvidencePaths: paths, Title: c.title})
	}
	evidence := make([]string, 0, len(files))
	for name := range files {
		evidence = append(evidence, name)
	}
	slices.Sort(evidence)
	pointers := make([]Pointer, 0, len(evidence))
	for i, name := range evidence {
		pointers = append(pointers, Pointer{Path: name, PointerID: fmt.Sprintf("ev_%03d", i+1), SHA256: digest.Bytes(files[name]), Type: types[name]})
	}
	if err := put(FileControlIndex, "report", controls); err != nil {
		return nil, err
	}
	if err := put(FilePointers, "report", pointers); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	m := Manifest{
		CaseID: opts.CaseID, ControlIndex: controls, CreatedAt: rp.Run.CreatedAt, EvidencePointers: pointers,
		GeneratedAt: rp.Run.CreatedAt, ProducerVersion: cmp.Or(opts.ProducerVersion, rp.Run.ProducerVersion), RunID: rp.Manifest.RunID,
		SchemaID: SchemaPackManifest, SchemaVersion: SchemaVersion, TemplateID: opts.Template, IncidentWindow: opts.Window,
	}
	out := make([]safezip.File, 0, len(names)+1)
	for _, name := range names {
		m.Contents = append(m.Contents, Entry{Path: name, SHA256: digest.Bytes(files[name]), Type: types[name]})
		out = append(out, safezip.File{Name: name, Data: files[name]})
	}
	if m.PackID, err = packID(m.Contents, m.RunID); err != nil {
		return nil, err
	}
	if opts.PrivateKey != nil {
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		sd, err := signedDigest(raw, "signatures")
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
	out = append(out, safezip.File{Name: FileManifest, Data: mb})
	slices.SortFunc(out, func(a, b safezip.File) int { return strings.Compare(a.Name, b.Name) })
	return &Pack{Manifest: m, files: out}, nil
}

// packID is pack_ and the first 16 hex digits of the SHA-256 of the
// canonical {contents, run_id}, as v1 derives it.
func packID(contents []Entry, runID string) (string, error) {
	b, err := jcs.Marshal(map[string]any{"contents": contents, "run_id": runID})
	if err != nil {
		return "", err
	}
	return "pack_" + digest.Bytes(b)[:16], nil
}

// signedDigest is the SHA-256 of the canonical document without its
// signature field ("signatures" in a manifest, "signature" in a trace). It
// works on the raw document, so fields this version does not know are
// covered too.
func signedDigest(raw []byte, sigField string) (string, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", err
	}
	delete(m, sigField)
	b, err := jcs.Marshal(m)
	if err != nil {
		return "", err
	}
	return digest.Bytes(b), nil
}

// WriteFile writes the pack as a deterministic zip, atomically.
func (p *Pack) WriteFile(path string) error {
	b, err := safezip.Bytes(p.files)
	if err != nil {
		return err
	}
	return writeAtomic(path, b)
}

// DefaultPath is where a pack goes when no --out is given.
func DefaultPath(outDir, packID string) string {
	return outDir + "/evidence_pack_" + packID + ".zip"
}

func readJSON(path, flag string) ([]byte, map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, exitcode.Invalidf("%s: %v; pass an existing file to %s", path, unwrapPathErr(err), flag)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, exitcode.Invalidf("%s: not a JSON object (%v); pass the file gait wrote to %s", path, err, flag)
	}
	return b, doc, nil
}

func readRecord(path, schema, flag string) (map[string]any, error) {
	_, doc, err := readJSON(path, flag)
	if err != nil {
		return nil, err
	}
	if doc["schema_id"] != schema {
		return nil, exitcode.Invalidf("%s: schema_id %v, want %s; pass a %s record to %s", path, doc["schema_id"], schema, schema, flag)
	}
	return doc, nil
}

type traceLine struct {
	ToolName string `json:"tool_name"`
	TraceID  string `json:"trace_id"`
	Verdict  string `json:"verdict"`
}

func traceSummary(paths []string) (map[string]any, error) {
	var traces []traceLine
	counts := map[string]int{}
	for _, p := range paths {
		b, _, err := readJSON(p, "--trace")
		if err != nil {
			return nil, err
		}
		var t struct {
			SchemaID string `json:"schema_id"`
			traceLine
		}
		if err := json.Unmarshal(b, &t); err != nil || t.SchemaID != schemaTrace || t.TraceID == "" {
			return nil, exitcode.Invalidf("%s: not a gate trace; pass the trace written by `gait gate eval --trace-out`", p)
		}
		traces = append(traces, t.traceLine)
		counts[t.Verdict]++
	}
	slices.SortFunc(traces, func(a, b traceLine) int { return cmp.Compare(a.TraceID, b.TraceID) })
	return map[string]any{"total": len(traces), "traces": traces, "verdict_counts": counts}, nil
}

func regressSummary(paths []string) (map[string]any, error) {
	type line struct {
		FixtureSet string `json:"fixture_set"`
		Graders    int    `json:"graders"`
		Status     string `json:"status"`
	}
	var results []line
	counts := map[string]int{}
	for _, p := range paths {
		b, _, err := readJSON(p, "--regress")
		if err != nil {
			return nil, err
		}
		var r struct {
			SchemaID   string            `json:"schema_id"`
			FixtureSet string            `json:"fixture_set"`
			Status     string            `json:"status"`
			Graders    []json.RawMessage `json:"graders"`
		}
		if err := json.Unmarshal(b, &r); err != nil || r.SchemaID != schemaRegress {
			return nil, exitcode.Invalidf("%s: not a regress result; pass the file `gait regress run --json` wrote", p)
		}
		results = append(results, line{r.FixtureSet, len(r.Graders), r.Status})
		counts[r.Status]++
	}
	return map[string]any{"results": results, "status_counts": counts, "total": len(results)}, nil
}
