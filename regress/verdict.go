package regress

import (
	"encoding/json"
	"strings"

	"github.com/gait-dev/gait/pack"
)

// The verdicts a fixture's expected_verdict_sequence names.
const (
	VerdictAllow           = "allow"
	VerdictBlock           = "block"
	VerdictRequireApproval = "require_approval"
	VerdictDryRun          = "dry_run"
	VerdictError           = "error"
)

// verdictAliases maps a normalized verdict name to its verdict.
var verdictAliases = map[string]string{
	"allow": VerdictAllow, "ok": VerdictAllow, "pass": VerdictAllow, "passed": VerdictAllow, "success": VerdictAllow,
	"block": VerdictBlock, "blocked": VerdictBlock, "deny": VerdictBlock, "denied": VerdictBlock,
	"require_approval": VerdictRequireApproval, "approval_required": VerdictRequireApproval, "needs_approval": VerdictRequireApproval,
	"dry_run": VerdictDryRun, "dryrun": VerdictDryRun, "simulate": VerdictDryRun, "simulated": VerdictDryRun,
	"error": VerdictError,
}

// statusAliases maps a trimmed, lower-cased result status to its verdict;
// any other status is an error.
var statusAliases = map[string]string{
	"ok": VerdictAllow, "pass": VerdictAllow, "passed": VerdictAllow, "success": VerdictAllow,
	"block": VerdictBlock, "blocked": VerdictBlock, "deny": VerdictBlock, "denied": VerdictBlock,
	"require_approval": VerdictRequireApproval, "approval_required": VerdictRequireApproval, "needs_approval": VerdictRequireApproval,
	"dry_run": VerdictDryRun, "dry-run": VerdictDryRun, "dryrun": VerdictDryRun, "simulate": VerdictDryRun, "simulated": VerdictDryRun,
}

// NormalizeVerdict reads a verdict as a fixture or a result's
// result.verdict spells it: case, surrounding space, '-' and inner spaces
// do not matter, and aliases name their verdict ("OK" and "Pass" are
// allow, "deny" is block). ok is false for an empty or unknown name.
func NormalizeVerdict(s string) (verdict string, ok bool) {
	key := strings.ToLower(strings.TrimSpace(s))
	key = strings.NewReplacer("-", "_", " ", "_").Replace(key)
	v, ok := verdictAliases[key]
	return v, ok
}

// statusVerdict reads a result status as a verdict: known statuses name
// their verdict, anything else (including "error" and "allow") is error.
func statusVerdict(status string) string {
	if v, ok := statusAliases[strings.ToLower(strings.TrimSpace(status))]; ok {
		return v
	}
	return VerdictError
}

// ResultVerdict is the verdict one recorded result stands for: its
// result.verdict when that names a verdict, else its status.
func ResultVerdict(r pack.Result) string {
	// A runpack read back keeps the verdict even when it drops the payload.
	if v, ok := NormalizeVerdict(r.Verdict); ok && r.Verdict != "" {
		return v
	}
	// A map, not a struct: the key is "verdict" exactly, not "Verdict".
	var body map[string]json.RawMessage
	if len(r.Result) > 0 && json.Unmarshal(r.Result, &body) == nil && len(body["verdict"]) > 0 {
		var s string
		if json.Unmarshal(body["verdict"], &s) == nil {
			if v, ok := NormalizeVerdict(s); ok {
				return v
			}
		}
	}
	return statusVerdict(r.Status)
}

// VerdictSequence is a run's verdict sequence as Gait v1 derives it: one
// verdict per recorded result, in the order the results were recorded.
func VerdictSequence(rp *pack.Runpack) []string {
	out := make([]string, len(rp.Results))
	for i, r := range rp.Results {
		out[i] = ResultVerdict(r)
	}
	return out
}

// ToolSequence is a run's tool sequence: each intent's tool name, trimmed,
// in intent order, leaving out empty names.
func ToolSequence(rp *pack.Runpack) []string {
	return cleanTools(rp.ToolSequence())
}

// cleanTools trims tool names and drops empty ones.
func cleanTools(in []string) []string {
	out := make([]string, 0, len(in))
	for _, t := range in {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
