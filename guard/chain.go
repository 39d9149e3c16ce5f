package guard

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
)

// ChainOptions name the artifacts of one incident and how strictly to check
// them.
type ChainOptions struct {
	Run, Trace, Pack string // runpack (required), gate trace and evidence pack paths
	PublicKey        ed25519.PublicKey
	RequireSignature bool // every artifact given must carry a signature that verifies
}

// TraceResult is what the chain found about the trace.
type TraceResult struct {
	OK              bool   `json:"ok"`
	Path            string `json:"path"`
	TraceID         string `json:"trace_id,omitempty"`
	Verdict         string `json:"verdict,omitempty"`
	PolicyDigest    string `json:"policy_digest,omitempty"`
	SignatureStatus string `json:"signature_status"`
}

// ChainResult is one verdict over a run, its trace and its evidence pack.
type ChainResult struct {
	OK       bool              `json:"ok"`
	Run      pack.VerifyResult `json:"run"`
	Trace    *TraceResult      `json:"trace,omitempty"`
	Pack     *VerifyResult     `json:"pack,omitempty"`
	Links    []string          `json:"links_checked,omitempty"`
	Problems []string          `json:"problems,omitempty"`
}

// VerifyChain verifies each artifact on its own (the runpack with
// pack.Verify, the trace's schema and signature, the evidence pack with
// Verify), then the links between them: the pack's run_id and runpack
// summary name this run and its manifest digest, and a pack that summarises
// traces lists the given trace. Any failure is exit 2, all of them listed;
// a missing or wrong kind of file is exit 6.
func VerifyChain(opts ChainOptions) (ChainResult, error) {
	var res ChainResult
	problem := func(format string, args ...any) { res.Problems = append(res.Problems, fmt.Sprintf(format, args...)) }
	run, err := pack.Verify(opts.Run, pack.VerifyOptions{PublicKey: opts.PublicKey, RequireSignature: opts.RequireSignature})
	res.Run = run
	if err != nil {
		if exitcode.Of(err) != exitcode.VerifyFailed {
			return res, err
		}
		problem("run: %s", oneLine(err))
	}
	if opts.Trace != "" {
		tr, err := VerifyTrace(opts.Trace, opts.PublicKey, opts.RequireSignature)
		res.Trace = &tr
		if err != nil {
			if exitcode.Of(err) != exitcode.VerifyFailed {
				return res, err
			}
			problem("trace: %s", oneLine(err))
		}
	}
	if opts.Pack != "" {
		pr, err := Verify(opts.Pack, VerifyOptions{PublicKey: opts.PublicKey, RequireSignature: opts.RequireSignature})
		res.Pack = &pr
		if err != nil {
			if exitcode.Of(err) != exitcode.VerifyFailed {
				return res, err
			}
			problem("pack: %s", oneLine(err))
		} else {
			res.linkPack(opts, problem)
		}
	}
	if len(res.Problems) > 0 {
		return res, exitcode.VerifyFailedf("chain broken: %s", strings.Join(res.Problems, "; "))
	}
	res.OK = true
	return res, nil
}

// linkPack checks that the evidence pack is about this run (and trace).
func (res *ChainResult) linkPack(opts ChainOptions, problem func(string, ...any)) {
	_, _, files, err := open(opts.Pack)
	if err != nil {
		problem("pack: %s", oneLine(err))
		return
	}
	res.Links = append(res.Links, "pack.run_id=run.run_id")
	if res.Pack.RunID != res.Run.RunID {
		problem("pack %s is for run %s, not %s", opts.Pack, res.Pack.RunID, res.Run.RunID)
	}
	if b, ok := files[FileRunpackSummary]; ok {
		var s struct {
			ManifestDigest string `json:"manifest_digest"`
		}
		res.Links = append(res.Links, "pack.runpack_summary.manifest_digest=run.manifest_digest")
		if json.Unmarshal(b, &s) != nil || s.ManifestDigest != res.Run.ManifestDigest {
			problem("pack %s summarises runpack manifest %s, the run's is %s", opts.Pack, s.ManifestDigest, res.Run.ManifestDigest)
		}
	}
	if b, ok := files[FileTraceSummary]; ok && res.Trace != nil && res.Trace.TraceID != "" {
		var s struct {
			Traces []traceLine `json:"traces"`
		}
		res.Links = append(res.Links, "pack.trace_summary contains trace.trace_id")
		if json.Unmarshal(b, &s) != nil || !slices.ContainsFunc(s.Traces, func(t traceLine) bool { return t.TraceID == res.Trace.TraceID }) {
			problem("pack %s does not list trace %s", opts.Pack, res.Trace.TraceID)
		}
	}
}

// VerifyTrace checks a gate trace: its schema and, with key, its ed25519
// signature over the canonical document without "signature". With require,
// a trace without a signature that verifies fails. Exit 2 for a failed
// check, 6 for a file that is not a trace.
func VerifyTrace(path string, key ed25519.PublicKey, require bool) (TraceResult, error) {
	res := TraceResult{Path: path, SignatureStatus: SignatureMissing}
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return res, exitcode.Invalidf("%s: no such trace; pass the file `gait gate eval --trace-out` wrote", path)
		}
		return res, exitcode.Invalidf("%s: %v", path, unwrapPathErr(err))
	}
	var tr gate.Trace
	if err := json.Unmarshal(b, &tr); err != nil {
		return res, exitcode.Invalidf("%s: not a gate trace: %v; pass the file `gait gate eval --trace-out` wrote", path, err)
	}
	if tr.SchemaID != schemaTrace {
		return res, exitcode.Invalidf("%s: schema_id %q, want %s; pass a gate trace", path, tr.SchemaID, schemaTrace)
	}
	res.TraceID, res.Verdict, res.PolicyDigest = tr.TraceID, string(tr.Verdict), tr.PolicyDigest
	if tr.Signature != nil {
		res.SignatureStatus = SignatureUnknown
		if key != nil {
			if err := gate.VerifyTrace(b, key); err != nil {
				res.SignatureStatus = "failed"
				return res, exitcode.VerifyFailedf("%s: signature does not verify: %v", path, err)
			}
			res.SignatureStatus = SignatureVerified
		}
	}
	if require && res.SignatureStatus != SignatureVerified {
		return res, exitcode.VerifyFailedf("%s: trace signature %s; a verified signature is required (pass --public-key)", path, res.SignatureStatus)
	}
	res.OK = true
	return res, nil
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}
