// Package capture pins the evidence of an incident: it resolves a run id,
// runpack, gate trace or session chain (at one checkpoint) to the artifact it
// names and records that choice in a capture receipt (gait.capture.receipt),
// so later commands such as `gait regress add` import exactly that artifact.
package capture

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/job"
	"github.com/gait-dev/gait/pack"
)

// Schema of a capture receipt, and the artifact kinds it names.
const (
	SchemaReceipt   = "gait.capture.receipt"
	SchemaVersion   = "1.0.0"
	ArtifactRunpack = "runpack"
	ArtifactTrace   = "trace"
	schemaTrace     = "gait.gate.trace"
)

// DefaultOut is where `gait capture` writes its receipt.
const DefaultOut = "gait-out/capture.json"

// Receipt is a capture receipt. The fields v1 defines come first; Gait adds
// the checkpoint it chose and the digests that pin the artifact's content.
type Receipt struct {
	SchemaID         string `json:"schema_id"`
	SchemaVersion    string `json:"schema_version"`
	OK               bool   `json:"ok"`
	From             string `json:"from"`
	ArtifactType     string `json:"artifact_type"`
	ArtifactPath     string `json:"artifact_path"`
	SessionChainPath string `json:"session_chain_path,omitempty"`
	RunID            string `json:"run_id,omitempty"`
	OutputPath       string `json:"output_path"`
	CheckpointIndex  int64  `json:"checkpoint_index,omitempty"`
	ManifestDigest   string `json:"manifest_digest,omitempty"`
	TraceID          string `json:"trace_id,omitempty"`
}

// Target is what a capture source resolves to.
type Target struct {
	ArtifactType    string // runpack or trace
	Path            string // the runpack or trace file
	RunID           string
	ManifestDigest  string // of the runpack
	ChainPath       string // the session chain it came from, if any
	CheckpointIndex int64  // the chosen checkpoint of that chain, if any
	TraceID         string
}

// Resolve turns a capture source into the artifact it names: a run id
// (looked up in outDir), a runpack, a gate trace, a session chain at
// checkpoint ("latest", "" or an index from 1), or a capture receipt, which
// resolves to exactly the artifact and checkpoint it recorded (a different
// --checkpoint is refused). A runpack is opened, so its digests hold.
func Resolve(from, checkpoint, outDir string) (Target, error) {
	if from == "" {
		return Target{}, exitcode.Invalidf("no source given; pass --from <run_id|runpack.zip|trace.json|session_chain.json>")
	}
	if _, err := os.Stat(from); err != nil {
		path := pack.Resolve(from, outDir)
		if path == from {
			return Target{}, exitcode.Invalidf("%s: no such file and not a run id; pass a run id from %s, a runpack, a trace or a session chain", from, outDir)
		}
		if _, err := os.Stat(path); err != nil {
			return Target{}, exitcode.Invalidf("%s: no runpack %s for this run id; record it with `gait run record` or pass a path", from, path)
		}
		from = path
	}
	b, err := os.ReadFile(from)
	if err != nil {
		return Target{}, exitcode.Invalidf("%s: %v; pass a readable file", from, unwrapPathErr(err))
	}
	if bytes.HasPrefix(b, []byte("PK")) {
		if checkpoint != "" && checkpoint != "latest" {
			return Target{}, exitcode.Invalidf("%s: --checkpoint applies only to a session chain; drop it or pass the chain", from)
		}
		return runpackTarget(from)
	}
	var head struct {
		SchemaID string `json:"schema_id"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return Target{}, exitcode.Invalidf("%s: neither a runpack zip nor a gait JSON file (%v); pass a runpack, a trace or a session chain", from, err)
	}
	switch head.SchemaID {
	case job.SchemaSessionChain:
		return chainTarget(from, checkpoint)
	case schemaTrace:
		if checkpoint != "" && checkpoint != "latest" {
			return Target{}, exitcode.Invalidf("%s: --checkpoint applies only to a session chain; drop it or pass the chain", from)
		}
		return traceTarget(from, b)
	case SchemaReceipt:
		return receiptTarget(from, checkpoint)
	}
	return Target{}, exitcode.Invalidf("%s: schema_id %q is not a runpack, trace, session chain or capture receipt; pass one of those", from, head.SchemaID)
}

func runpackTarget(path string) (Target, error) {
	rp, err := pack.Open(path)
	if err != nil {
		return Target{}, err
	}
	return Target{ArtifactType: ArtifactRunpack, Path: path, RunID: rp.Manifest.RunID, ManifestDigest: rp.Manifest.ManifestDigest}, nil
}

func traceTarget(path string, b []byte) (Target, error) {
	var t struct {
		SchemaVersion string `json:"schema_version"`
		TraceID       string `json:"trace_id"`
		Verdict       string `json:"verdict"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return Target{}, exitcode.Invalidf("%s: not a gate trace: %v; pass the trace written by `gait gate eval`", path, err)
	}
	if major, _, _ := strings.Cut(t.SchemaVersion, "."); major != "1" {
		return Target{}, exitcode.Invalidf("%s: schema_version %q has an unknown major version; upgrade gait to read it", path, t.SchemaVersion)
	}
	if t.TraceID == "" || t.Verdict == "" {
		return Target{}, exitcode.Invalidf("%s: the trace has no trace_id or verdict; pass the trace written by `gait gate eval`", path)
	}
	return Target{ArtifactType: ArtifactTrace, Path: path, TraceID: t.TraceID}, nil
}

// chainTarget picks one checkpoint of a session chain, verifying the whole
// chain (links, checkpoint runpacks and their manifest digests) first.
func chainTarget(chainPath, checkpoint string) (Target, error) {
	c, err := job.ReadChain(chainPath)
	if err != nil {
		return Target{}, err
	}
	pos := len(c.Checkpoints)
	if checkpoint != "" && checkpoint != "latest" {
		n, err := strconv.ParseInt(checkpoint, 10, 64)
		if err != nil || n < 1 {
			return Target{}, exitcode.Invalidf("--checkpoint %q is not a checkpoint; pass latest or an index from 1", checkpoint)
		}
		pos = slices.IndexFunc(c.Checkpoints, func(cp job.SessionCheckpoint) bool { return cp.CheckpointIndex == n }) + 1
		if pos == 0 {
			return Target{}, exitcode.Invalidf("%s: checkpoint %d not found; the chain has checkpoints %d to %d", chainPath, n,
				c.Checkpoints[0].CheckpointIndex, c.Checkpoints[len(c.Checkpoints)-1].CheckpointIndex)
		}
	}
	path, err := job.RunpackFromChain(chainPath, strconv.Itoa(pos))
	if err != nil {
		return Target{}, err
	}
	t, err := runpackTarget(path)
	if err != nil {
		return Target{}, err
	}
	t.ChainPath, t.CheckpointIndex, t.RunID = chainPath, c.Checkpoints[pos-1].CheckpointIndex, c.RunID
	return t, nil
}

// receiptTarget follows a capture receipt to the artifact it pinned,
// refusing one whose content changed since.
func receiptTarget(path, checkpoint string) (Target, error) {
	r, err := Read(path)
	if err != nil {
		return Target{}, err
	}
	if checkpoint != "" && checkpoint != "latest" && checkpoint != strconv.FormatInt(r.CheckpointIndex, 10) {
		return Target{}, exitcode.Invalidf("%s: the receipt pins checkpoint %d, not %s; drop --checkpoint or capture again", path, r.CheckpointIndex, checkpoint)
	}
	switch r.ArtifactType {
	case ArtifactTrace:
		b, err := os.ReadFile(r.ArtifactPath)
		if err != nil {
			return Target{}, exitcode.Invalidf("%s: trace %s: %v; capture again from an existing trace", path, r.ArtifactPath, unwrapPathErr(err))
		}
		return traceTarget(r.ArtifactPath, b)
	case ArtifactRunpack:
	default:
		return Target{}, exitcode.Invalidf("%s: artifact_type %q is not runpack or trace; capture again", path, r.ArtifactType)
	}
	if _, err := os.Stat(r.ArtifactPath); err != nil {
		return Target{}, exitcode.Invalidf("%s: runpack %s: %v; capture again from an existing run", path, r.ArtifactPath, unwrapPathErr(err))
	}
	t, err := runpackTarget(r.ArtifactPath)
	if err != nil {
		return Target{}, err
	}
	if r.ManifestDigest != "" && r.ManifestDigest != t.ManifestDigest {
		return Target{}, exitcode.VerifyFailedf("%s: runpack %s has manifest %s, the receipt pinned %s; the runpack changed since capture",
			path, r.ArtifactPath, t.ManifestDigest, r.ManifestDigest)
	}
	t.ChainPath, t.CheckpointIndex = r.SessionChainPath, r.CheckpointIndex
	if r.RunID != "" {
		t.RunID = r.RunID
	}
	return t, nil
}

// Read parses a capture receipt (exit 6 when the file is not one).
func Read(path string) (Receipt, error) {
	var r Receipt
	b, err := os.ReadFile(path)
	if err != nil {
		return r, exitcode.Invalidf("%s: %v; pass the receipt written by `gait capture`", path, unwrapPathErr(err))
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, exitcode.Invalidf("%s: not a capture receipt: %v; pass the receipt written by `gait capture`", path, err)
	}
	if r.SchemaID != SchemaReceipt {
		return r, exitcode.Invalidf("%s: schema_id %q, want %q; pass the receipt written by `gait capture`", path, r.SchemaID, SchemaReceipt)
	}
	if major, _, _ := strings.Cut(r.SchemaVersion, "."); major != "1" {
		return r, exitcode.Invalidf("%s: schema_version %q has an unknown major version; upgrade gait to read it", path, r.SchemaVersion)
	}
	if !r.OK || r.ArtifactPath == "" {
		return r, exitcode.Invalidf("%s: the receipt records no captured artifact; capture again", path)
	}
	return r, nil
}

// Capture resolves from at checkpoint and writes the receipt to out.
func Capture(from, checkpoint, outDir, out string) (Receipt, error) {
	t, err := Resolve(from, checkpoint, outDir)
	if err != nil {
		return Receipt{}, err
	}
	if out == "" {
		out = DefaultOut
	}
	r := Receipt{
		SchemaID: SchemaReceipt, SchemaVersion: SchemaVersion, OK: true, From: from,
		ArtifactType: t.ArtifactType, ArtifactPath: t.Path, SessionChainPath: t.ChainPath, RunID: t.RunID,
		OutputPath: out, CheckpointIndex: t.CheckpointIndex, ManifestDigest: t.ManifestDigest, TraceID: t.TraceID,
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return Receipt{}, err
	}
	if err := atomicfile.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		return Receipt{}, exitcode.Invalidf("%s: cannot write the receipt: %v; pass a writable --out", out, unwrapPathErr(err))
	}
	return r, nil
}

func unwrapPathErr(err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return pe.Err
	}
	return err
}
