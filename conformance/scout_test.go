package conformance_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gait-dev/gait/schemas"
)

// scoutRepo writes a small repository whose tools both detectors find the
// same way: every function of the Python files is a decorated tool (v1
// counts every def of a file with @tool), names whose risk both rate alike,
// and MCP servers in the client configurations v1 also reads.
func scoutRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"agents/support.py":          "from langchain_core.tools import tool\n\n\n@tool\ndef delete_user(user_id: str) -> str:\n    return user_id\n\n\n@tool\ndef send_email(to: str) -> str:\n    return to\n\n\n@tool\ndef search_docs(q: str) -> str:\n    return q\n",
		"agents/reports.py":          "from agents import function_tool\n\n\n@function_tool\ndef write_report(text: str) -> str:\n    return text\n",
		".mcp.json":                  `{"mcpServers": {"github": {"command": "npx"}, "drop-tables": {"command": "db"}}}`,
		".cursor/mcp.json":           `{"mcpServers": {"browser": {"url": "https://mcp.example.com/sse"}}}`,
		".vscode/mcp.json":           `{"servers": {"docs": {"command": "docs-mcp"}}}`,
		"claude_desktop_config.json": `{"mcpServers": {"filesystem": {"command": "npx"}}}`,
		"policy.yaml":                "schema_id: gait.gate.policy\nschema_version: 1.0.0\ndefault_verdict: block\nrules:\n  - name: gated\n    effect: require_approval\n    match:\n      tool_names: [search_docs, github, send_email]\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// scoutItem is the part of an inventory item both versions must agree on.
type scoutItem struct {
	ID           string          `json:"id"`
	Kind         string          `json:"kind"`
	Name         string          `json:"name"`
	Locator      string          `json:"locator"`
	RiskLevel    string          `json:"risk_level"`
	Tags         []string        `json:"tags"`
	Relationship json.RawMessage `json:"relationship"`
}

type scoutSnapshot struct {
	SchemaID      string      `json:"schema_id"`
	SchemaVersion string      `json:"schema_version"`
	SnapshotID    string      `json:"snapshot_id"`
	Workspace     string      `json:"workspace"`
	Items         []scoutItem `json:"items"`
}

// relationshipShape drops the snapshot id (each version derives its own)
// from an item's relationship.
func relationshipShape(t *testing.T, raw json.RawMessage, snapID string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), snapID, "SNAP")
}

// TestScoutSnapshotMatchesReference snapshots the same repository with
// both binaries: the same items (id, kind, name, file, risk, tags and the
// relationship block), the same coverage numbers and policy digest.
func TestScoutSnapshotMatchesReference(t *testing.T) {
	ref := referenceBin(t)
	dir := scoutRepo(t)
	mustRun(t, dir, ref, "scout", "snapshot", "--policy", "policy.yaml", "--out", "v1.json", "--coverage-out", "v1_cov.json", "--json")
	mustRun(t, dir, gaitBin, "scout", "snapshot", "--policy", "policy.yaml", "--out", "ours.json", "--coverage-out", "ours_cov.json", "--json")
	var v1, ours scoutSnapshot
	readJSON(t, filepath.Join(dir, "v1.json"), &v1)
	readJSON(t, filepath.Join(dir, "ours.json"), &ours)
	if v1.SchemaID != ours.SchemaID || v1.SchemaVersion != ours.SchemaVersion || v1.Workspace != ours.Workspace {
		t.Errorf("header: v1 %s %s %q, ours %s %s %q", v1.SchemaID, v1.SchemaVersion, v1.Workspace, ours.SchemaID, ours.SchemaVersion, ours.Workspace)
	}
	if len(ours.Items) != 9 {
		t.Errorf("%d items, want 9", len(ours.Items))
	}
	if len(v1.Items) != len(ours.Items) {
		t.Fatalf("v1 found %d items, ours %d:\nv1   %+v\nours %+v", len(v1.Items), len(ours.Items), v1.Items, ours.Items)
	}
	for i := range v1.Items {
		a, b := v1.Items[i], ours.Items[i]
		ra, rb := relationshipShape(t, a.Relationship, v1.SnapshotID), relationshipShape(t, b.Relationship, ours.SnapshotID)
		a.Relationship, b.Relationship = nil, nil
		if !reflect.DeepEqual(a, b) {
			t.Errorf("item %d:\nv1   %+v\nours %+v", i, a, b)
		}
		if ra != rb {
			t.Errorf("item %d relationship:\nv1   %s\nours %s", i, ra, rb)
		}
	}

	type coverage struct {
		DiscoveredTools        int      `json:"discovered_tools"`
		GatedTools             int      `json:"gated_tools"`
		HighRiskUngatedTools   int      `json:"high_risk_ungated_tools"`
		CoveragePercent        float64  `json:"coverage_percent"`
		PolicyDigests          []string `json:"policy_digests"`
		DiscoveredToolNames    []string `json:"discovered_tool_names"`
		GatedToolNames         []string `json:"gated_tool_names"`
		HighRiskUngatedToolIDs []string `json:"high_risk_ungated_tool_ids"`
	}
	var c1, c2 coverage
	readJSON(t, filepath.Join(dir, "v1_cov.json"), &c1)
	readJSON(t, filepath.Join(dir, "ours_cov.json"), &c2)
	if !reflect.DeepEqual(c1, c2) {
		t.Errorf("coverage:\nv1   %+v\nours %+v", c1, c2)
	}
	if c2.HighRiskUngatedTools == 0 {
		t.Error("the fixture should leave a high-risk tool ungated")
	}
}

// TestScoutDiffMatchesReference: each binary diffs the other's snapshots,
// with the same counts and exit codes (0 same, 2 drift, 6 bad input).
func TestScoutDiffMatchesReference(t *testing.T) {
	ref := referenceBin(t)
	dir := scoutRepo(t)
	mustRun(t, dir, ref, "scout", "snapshot", "--out", "v1_before.json")
	mustRun(t, dir, gaitBin, "scout", "snapshot", "--out", "ours_before.json")
	if err := os.Remove(filepath.Join(dir, ".cursor", "mcp.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "agents", "more.py"), []byte("@tool\ndef transfer_funds(n):\n    return n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, ref, "scout", "snapshot", "--out", "v1_after.json")
	mustRun(t, dir, gaitBin, "scout", "snapshot", "--out", "ours_after.json")

	type counts struct {
		Added   int `json:"added_count"`
		Removed int `json:"removed_count"`
		Changed int `json:"changed_count"`
	}
	diff := func(bin, left, right string) (counts, int) {
		t.Helper()
		out, code := runIn(t, dir, bin, "scout", "diff", left, right, "--json")
		var res struct {
			Diff counts `json:"diff"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		return res.Diff, code
	}
	for _, pair := range [][2]string{{"v1_before.json", "v1_after.json"}, {"ours_before.json", "ours_after.json"}, {"v1_before.json", "v1_before.json"}, {"ours_after.json", "ours_after.json"}} {
		c1, code1 := diff(ref, pair[0], pair[1])
		c2, code2 := diff(gaitBin, pair[0], pair[1])
		if c1 != c2 || code1 != code2 {
			t.Errorf("diff %v: v1 %+v exit %d, ours %+v exit %d", pair, c1, code1, c2, code2)
		}
	}
	if c, code := diff(gaitBin, "ours_before.json", "ours_after.json"); code != 2 || c.Added != 1 || c.Removed != 1 {
		t.Errorf("drift: %+v exit %d, want one added, one removed, exit 2", c, code)
	}
	for _, args := range [][]string{
		{"scout", "diff", "v1_before.json"},
		{"scout", "diff", "v1_before.json", "missing.json"},
		{"scout", "diff", "v1_before.json", "policy.yaml"},
		{"scout", "snapshot", "--roots", "missing"},
		{"scout", "snapshot", "--policy", "missing.yaml"},
		{"scout", "signal"},
		{"doctor", "adoption"},
		{"doctor", "adoption", "--from", "missing.jsonl"},
	} {
		_, code1 := runIn(t, dir, ref, args...)
		_, code2 := runIn(t, dir, gaitBin, args...)
		if code1 != code2 {
			t.Errorf("%v: v1 exit %d, ours %d", args, code1, code2)
		}
	}
}

// TestScoutSignalMatchesReference fingerprints the same runpacks (recorded
// by v1) with both binaries: the same fingerprints, families, severities,
// drivers and ranking.
func TestScoutSignalMatchesReference(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	type call struct{ tool, status string }
	runs := map[string][]call{
		"run_a": {{"tool.delete", "error"}, {"tool.write", "ok"}},
		"run_b": {{"tool.delete", "error"}, {"tool.write", "ok"}},
		"run_c": {{"tool.read", "ok"}, {"tool.send", "ok"}, {"tool.exec", "ok"}},
		"run_d": {{"tool.read", "blocked"}},
		"run_e": {{"tool.search", "ok"}, {"tool.fetch", "timeout"}},
	}
	var zips []string
	for _, id := range slices.Sorted(maps.Keys(runs)) {
		rec := map[string]any{
			"run":  map[string]any{"run_id": id, "created_at": "2026-01-01T00:00:00Z", "producer_version": "t", "env": map[string]any{"os": "linux"}, "timeline": []any{}},
			"refs": map[string]any{"receipts": []any{}},
		}
		var intents, results []any
		for i, c := range runs[id] {
			iid := "intent_" + string(rune('1'+i))
			intents = append(intents, map[string]any{"intent_id": iid, "tool_name": c.tool, "args": map[string]any{"i": i}, "created_at": "2026-01-01T00:00:00Z"})
			results = append(results, map[string]any{"intent_id": iid, "status": c.status, "result": map[string]any{"ok": c.status == "ok"}, "created_at": "2026-01-01T00:00:00Z"})
		}
		rec["intents"], rec["results"] = intents, results
		data, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, id+".json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		mustRun(t, dir, ref, "run", "record", "--input", id+".json", "--out-dir", ".")
		zips = append(zips, "runpack_"+id+".zip")
	}
	csv := strings.Join(zips, ",")
	mustRun(t, dir, ref, "scout", "signal", "--runs", csv, "--out", "v1.json")
	mustRun(t, dir, gaitBin, "scout", "signal", "--runs", csv, "--out", "ours.json")

	type family struct {
		FamilyID         string   `json:"family_id"`
		Fingerprint      string   `json:"fingerprint"`
		Count            int      `json:"count"`
		RunIDs           []string `json:"run_ids"`
		CanonicalRunID   string   `json:"canonical_run_id"`
		TopFailureReason string   `json:"top_failure_reason"`
		Drivers          []string `json:"drivers"`
		SeverityScore    int      `json:"severity_score"`
		SeverityLevel    string   `json:"severity_level"`
		ArtifactPointers []string `json:"artifact_pointers"`
		Suggestions      []struct {
			Kind string `json:"kind"`
		} `json:"suggestions"`
	}
	type fingerprint struct {
		RunID             string   `json:"run_id"`
		Fingerprint       string   `json:"fingerprint"`
		ActionSequence    []string `json:"action_sequence"`
		ToolClasses       []string `json:"tool_classes"`
		TargetSystems     []string `json:"target_systems"`
		ReasonCodeVector  []string `json:"reason_code_vector"`
		RefReceiptDigests []string `json:"ref_receipt_digests"`
		SourceRunpack     string   `json:"source_runpack"`
	}
	type report struct {
		SchemaID     string        `json:"schema_id"`
		CreatedAt    string        `json:"created_at"`
		RunCount     int           `json:"run_count"`
		FamilyCount  int           `json:"family_count"`
		Fingerprints []fingerprint `json:"fingerprints"`
		Families     []family      `json:"families"`
		TopIssues    []struct {
			Rank     int    `json:"rank"`
			FamilyID string `json:"family_id"`
		} `json:"top_issues"`
	}
	var v1, ours report
	readJSON(t, filepath.Join(dir, "v1.json"), &v1)
	readJSON(t, filepath.Join(dir, "ours.json"), &ours)
	if ours.FamilyCount != 4 {
		t.Errorf("%d families, want 4", ours.FamilyCount)
	}
	if !reflect.DeepEqual(v1, ours) {
		a, _ := json.MarshalIndent(v1, "", " ")
		b, _ := json.MarshalIndent(ours, "", " ")
		t.Errorf("signal reports differ:\nv1   %s\nours %s", a, b)
	}
}

// TestAdoptionLogInterchange: each binary's doctor adoption reads the
// other's log and both summarise a first run the same way.
func TestAdoptionLogInterchange(t *testing.T) {
	ref := referenceBin(t)
	type summary struct {
		TotalEvents        int  `json:"total_events"`
		SuccessEvents      int  `json:"success_events"`
		FailedEvents       int  `json:"failed_events"`
		ActivationComplete bool `json:"activation_complete"`
		Commands           []struct {
			Command string `json:"command"`
			Total   int    `json:"total"`
			Success int    `json:"success"`
			Failure int    `json:"failure"`
		} `json:"commands"`
		Milestones []struct {
			Name     string `json:"name"`
			Achieved bool   `json:"achieved"`
		} `json:"milestones"`
		Blockers       []string `json:"blockers"`
		SkillWorkflows []struct {
			Workflow string `json:"workflow"`
			Total    int    `json:"total"`
			Success  int    `json:"success"`
			Failure  int    `json:"failure"`
		} `json:"skill_workflows"`
	}
	logs := map[string]string{}
	for name, bin := range map[string]string{"v1": ref, "ours": gaitBin} {
		dir := t.TempDir()
		log := filepath.Join(dir, "adoption.jsonl")
		t.Setenv("GAIT_ADOPTION_LOG", log)
		mustRun(t, dir, bin, "demo")
		mustRun(t, dir, bin, "verify", "run_demo")
		if _, code := runIn(t, dir, bin, "verify", "run_missing"); code != 6 {
			t.Errorf("%s: verify of a missing run exits %d with the log on, want 6", name, code)
		}
		mustRun(t, dir, bin, "regress", "init", "--from", "run_demo")
		t.Setenv("GAIT_ADOPTION_LOG", "")
		logs[name] = log
	}
	for _, log := range logs {
		var got []summary
		for _, bin := range []string{ref, gaitBin} {
			out := mustRun(t, t.TempDir(), bin, "doctor", "adoption", "--from", log, "--json")
			var res struct {
				Report summary `json:"report"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			got = append(got, res.Report)
		}
		if !reflect.DeepEqual(got[0], got[1]) {
			t.Errorf("%s summarised differently:\nv1   %+v\nours %+v", log, got[0], got[1])
		}
		if got[1].TotalEvents != 4 || got[1].ActivationComplete {
			t.Errorf("%s: %+v", log, got[1])
		}
	}
}

// TestScoutSchemasAcceptReference validates what the reference writes for
// every scout artifact against the project's schemas (the corpus holds
// none): snapshot, coverage, diff, signal report, adoption log and report.
func TestScoutSchemasAcceptReference(t *testing.T) {
	ref := referenceBin(t)
	dir := scoutRepo(t)
	t.Setenv("GAIT_ADOPTION_LOG", filepath.Join(dir, "adoption.jsonl"))
	mustRun(t, dir, ref, "scout", "snapshot", "--policy", "policy.yaml", "--out", "snap.json", "--coverage-out", "cov.json")
	mustRun(t, dir, ref, "demo")
	mustRun(t, dir, ref, "verify", "run_demo")
	t.Setenv("GAIT_ADOPTION_LOG", "")
	if err := os.Remove(filepath.Join(dir, ".mcp.json")); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, ref, "scout", "snapshot", "--out", "snap2.json")
	if _, code := runIn(t, dir, ref, "scout", "diff", "snap.json", "snap2.json", "--out", "diff.json"); code != 2 {
		t.Fatalf("reference scout diff exit %d, want 2", code)
	}
	mustRun(t, dir, ref, "scout", "signal", "--runs", "gait-out/runpack_run_demo.zip", "--out", "signal.json")
	out := mustRun(t, dir, ref, "doctor", "adoption", "--from", "adoption.jsonl", "--json")
	var res struct {
		Report json.RawMessage `json:"report"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ schema, file string }{
		{"scout/inventory_snapshot", "snap.json"}, {"scout/inventory_coverage", "cov.json"}, {"scout/inventory_diff", "diff.json"},
		{"scout/signal_report", "signal.json"}, {"scout/adoption_event", "adoption.jsonl"},
	} {
		data, err := os.ReadFile(filepath.Join(dir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(c.file, ".jsonl") {
			err = schemas.ValidateLines(c.schema, data)
		} else {
			err = schemas.Validate(c.schema, data)
		}
		if err != nil {
			t.Errorf("schemas/%s rejects the reference's %s: %v", c.schema, c.file, err)
		}
	}
	if err := schemas.Validate("doctor/adoption_report", res.Report); err != nil {
		t.Errorf("schemas/doctor/adoption_report rejects the reference's report: %v", err)
	}
}
