package guard

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
)

// Incident selects the evidence of an incident: the gate traces, regress
// results, approval audits and credential records in the runpack's folder
// whose created_at lies within window of the run's created_at (bounds
// included), and returns Options that build its incident pack.
func Incident(runPath string, window time.Duration, opts Options) (Options, error) {
	if window <= 0 {
		return opts, exitcode.Invalidf("--window %s is not a positive duration; pass e.g. --window 24h", window)
	}
	rp, err := pack.Open(runPath)
	if err != nil {
		return opts, err
	}
	anchor, err := time.Parse(time.RFC3339Nano, rp.Run.CreatedAt)
	if err != nil {
		return opts, exitcode.Invalidf("%s: run.created_at %q is not an RFC 3339 time; re-record the run", runPath, rp.Run.CreatedAt)
	}
	from, to := anchor.Add(-window), anchor.Add(window)
	opts.Window = &Window{From: from.UTC().Format(time.RFC3339), SelectionAnchor: rp.Manifest.RunID, To: to.UTC().Format(time.RFC3339), WindowSeconds: int64(window / time.Second)}

	dir := filepath.Dir(runPath)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return opts, exitcode.Invalidf("%s: %v; pass a runpack in a readable folder", dir, unwrapPathErr(err))
	}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var head struct {
			SchemaID  string `json:"schema_id"`
			CreatedAt string `json:"created_at"`
		}
		if json.Unmarshal(b, &head) != nil {
			continue // not evidence: the folder holds other files too
		}
		at, err := time.Parse(time.RFC3339Nano, head.CreatedAt)
		if err != nil || at.Before(from) || at.After(to) {
			continue
		}
		switch head.SchemaID {
		case schemaTrace:
			opts.Traces = append(opts.Traces, path)
		case schemaRegress:
			opts.Regress = append(opts.Regress, path)
		case schemaApprovalAudit:
			opts.ApprovalAudits = append(opts.ApprovalAudits, path)
		case schemaCredential:
			opts.CredentialRecords = append(opts.CredentialRecords, path)
		}
	}
	return opts, nil
}

// policyDigests lists the distinct policy digests of the traces, sorted.
func policyDigests(traces []string) ([]string, error) {
	out := []string{}
	for _, p := range traces {
		b, _, err := readJSON(p, "--trace")
		if err != nil {
			return nil, err
		}
		var t struct {
			PolicyDigest string `json:"policy_digest"`
		}
		if err := json.Unmarshal(b, &t); err != nil {
			return nil, exitcode.Invalidf("%s: not a gate trace: %v", p, err)
		}
		if t.PolicyDigest != "" && !slices.Contains(out, t.PolicyDigest) {
			out = append(out, t.PolicyDigest)
		}
	}
	slices.Sort(out)
	return out, nil
}
