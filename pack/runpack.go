// Package pack reads, writes and checks runpacks: deterministic zips of an
// agent run's intents (tool calls it meant to make), results and reference
// receipts, described by a digest-bearing manifest that may be signed.
package pack

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gait-dev/gait/internal/keys"
)

// Schema ids and the one major version this code reads and writes.
const (
	SchemaManifest = "gait.runpack.manifest"
	SchemaRun      = "gait.runpack.run"
	SchemaIntent   = "gait.runpack.intent"
	SchemaResult   = "gait.runpack.result"
	SchemaRefs     = "gait.runpack.refs"
	SchemaVersion  = "1.0.0"
)

// Entry names inside a runpack.
const (
	FileManifest = "manifest.json"
	FileRun      = "run.json"
	FileIntents  = "intents.jsonl"
	FileResults  = "results.jsonl"
	FileRefs     = "refs.json"
)

// PayloadFiles are the files a runpack manifest declares, in manifest order.
var PayloadFiles = []string{FileIntents, FileRefs, FileResults, FileRun}

// Capture modes.
const (
	CaptureReference = "reference"
	CaptureRaw       = "raw"
)

// Header is the set of fields every runpack document carries. Fields are
// declared in sorted order so encoding/json emits canonical key order.
type Header struct {
	CreatedAt       string `json:"created_at"`
	ProducerVersion string `json:"producer_version"`
	RunID           string `json:"run_id"`
	SchemaID        string `json:"schema_id"`
	SchemaVersion   string `json:"schema_version"`
}

// Run is run.json: where and when the run happened.
type Run struct {
	CreatedAt       string          `json:"created_at"`
	Env             json.RawMessage `json:"env,omitempty"`
	ProducerVersion string          `json:"producer_version"`
	RunID           string          `json:"run_id"`
	SchemaID        string          `json:"schema_id"`
	SchemaVersion   string          `json:"schema_version"`
	Timeline        json.RawMessage `json:"timeline,omitempty"`
}

// Intent is one line of intents.jsonl: a tool call the agent meant to make.
type Intent struct {
	Args            json.RawMessage `json:"args,omitempty"`
	ArgsDigest      string          `json:"args_digest"`
	CreatedAt       string          `json:"created_at"`
	IntentID        string          `json:"intent_id"`
	ProducerVersion string          `json:"producer_version"`
	RunID           string          `json:"run_id"`
	SchemaID        string          `json:"schema_id"`
	SchemaVersion   string          `json:"schema_version"`
	ToolName        string          `json:"tool_name"`
}

// Result is one line of results.jsonl: what came back for an intent.
type Result struct {
	CreatedAt       string          `json:"created_at"`
	IntentID        string          `json:"intent_id"`
	ProducerVersion string          `json:"producer_version"`
	Result          json.RawMessage `json:"result,omitempty"`
	ResultDigest    string          `json:"result_digest"`
	RunID           string          `json:"run_id"`
	SchemaID        string          `json:"schema_id"`
	SchemaVersion   string          `json:"schema_version"`
	Status          string          `json:"status"`
	// Verdict is the string under the result payload's "verdict" key, kept
	// by readers even when they drop the payload.
	Verdict string `json:"-"`
}

// Refs is refs.json: the reference receipts of a run. Receipts stay raw so
// optional receipt fields survive a rewrite.
type Refs struct {
	ContextEvidenceMode string            `json:"context_evidence_mode,omitempty"`
	ContextRefCount     int               `json:"context_ref_count,omitempty"`
	ContextSetDigest    string            `json:"context_set_digest,omitempty"`
	CreatedAt           string            `json:"created_at"`
	ProducerVersion     string            `json:"producer_version"`
	Receipts            []json.RawMessage `json:"receipts"`
	RunID               string            `json:"run_id"`
	SchemaID            string            `json:"schema_id"`
	SchemaVersion       string            `json:"schema_version"`
}

// FileDigest names a payload file and its SHA-256.
type FileDigest struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Signature is an ed25519 signature over the manifest.
type Signature = keys.Signature

// Manifest is manifest.json.
type Manifest struct {
	CaptureMode     string       `json:"capture_mode"`
	CreatedAt       string       `json:"created_at"`
	Files           []FileDigest `json:"files"`
	ManifestDigest  string       `json:"manifest_digest"`
	ProducerVersion string       `json:"producer_version"`
	RunID           string       `json:"run_id"`
	SchemaID        string       `json:"schema_id"`
	SchemaVersion   string       `json:"schema_version"`
	Signatures      []Signature  `json:"signatures,omitempty"`
}

// checkSchema accepts any 1.x.y version of the expected schema id and
// rejects other ids and unknown major versions.
func checkSchema(file, gotID, gotVersion, wantID string) error {
	if gotID != wantID {
		return fmt.Errorf("%s: schema_id %q, want %q", file, gotID, wantID)
	}
	major, _, _ := strings.Cut(gotVersion, ".")
	if major != "1" {
		return fmt.Errorf("%s: schema_version %q has an unknown major version (this gait reads 1.x)", file, gotVersion)
	}
	return nil
}
