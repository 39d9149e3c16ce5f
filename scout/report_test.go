package scout

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/pack/packtest"
)

func fixtureSnapshot(t *testing.T) *Snapshot {
	t.Helper()
	t.Chdir(filepath.Join("testdata", "repo"))
	snap, err := Take(SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestCoverage(t *testing.T) {
	pol, err := gate.LoadPolicy(filepath.Join("testdata", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	snap := fixtureSnapshot(t)
	cov := BuildCoverage(snap, []*gate.Policy{pol, pol})
	if want := []string{"github", "read_file", "search_orders", "send_email"}; !slices.Equal(cov.GatedToolNames, want) {
		t.Errorf("gated = %v, want %v", cov.GatedToolNames, want)
	}
	if len(cov.PolicyDigests) != 1 || cov.PolicyDigests[0] != pol.Digest() {
		t.Errorf("policy digests = %v", cov.PolicyDigests)
	}
	var wantUngated []string
	for _, it := range snap.Items {
		if IsHighRisk(it.RiskLevel) && it.Name != "send_email" {
			wantUngated = append(wantUngated, it.ID)
		}
	}
	if !slices.Equal(cov.HighRiskUngatedToolIDs, wantUngated) || cov.HighRiskUngatedTools != len(wantUngated) {
		t.Errorf("high-risk ungated = %v, want %v", cov.HighRiskUngatedToolIDs, wantUngated)
	}
	if cov.DiscoveredTools != len(snap.Items) {
		t.Errorf("discovered = %d, want %d", cov.DiscoveredTools, len(snap.Items))
	}
	want := float64(int(4*10000/float64(len(snap.Items))+0.5)) / 100
	if cov.CoveragePercent != want {
		t.Errorf("coverage = %v, want %v", cov.CoveragePercent, want)
	}
	if empty := BuildCoverage(&Snapshot{}, nil); empty.CoveragePercent != 0 || empty.DiscoveredToolNames == nil {
		t.Errorf("empty coverage: %+v", empty)
	}
}

func TestDiff(t *testing.T) {
	left := fixtureSnapshot(t)
	data, err := json.Marshal(left)
	if err != nil {
		t.Fatal(err)
	}
	right, err := ParseSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	if d := DiffSnapshots(left, right); d.Drift() {
		t.Fatalf("a snapshot differs from itself: %+v", d)
	}
	removed := right.Items[0]
	right.Items = right.Items[1:]
	right.Items[0].RiskLevel = RiskCritical
	right.Items[1].Tags = []string{"x"}
	right.Items = append(right.Items, Item{ID: "tool:framework:x:new", Kind: KindTool, Name: "new", Locator: "n.py", RiskLevel: RiskLow})
	d := DiffSnapshots(left, right)
	if !d.Drift() || d.AddedCount != 1 || d.RemovedCount != 1 || d.ChangedCount != 2 {
		t.Fatalf("diff = %+v", d)
	}
	if d.Removed[0].ID != removed.ID || d.Added[0].ID != "tool:framework:x:new" || d.Changed[0].AfterRiskLevel != RiskCritical {
		t.Errorf("diff = %+v", d)
	}
}

func TestReadSnapshotBadInput(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"not json":     "nope",
		"no schema":    "{}",
		"other schema": `{"schema_id":"gait.runpack.run"}`,
		"item no id":   `{"schema_id":"gait.scout.inventory_snapshot","items":[{"name":"x"}]}`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadSnapshot(p)
		if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err = %v, want a user error naming the file", name, err)
		}
	}
	if _, err := ReadSnapshot(filepath.Join(dir, "missing.json")); exitcode.Of(err) != exitcode.InvalidInput {
		t.Errorf("missing file: %v", err)
	}
}

// writeRun writes the demo run with its run id and tool calls replaced;
// statuses default to ok.
func writeRun(t *testing.T, dir, id string, tools []string, statuses ...string) string {
	t.Helper()
	p := filepath.Join(dir, "runpack_"+id+".zip")
	packtest.Write(t, p, func(rec *pack.RunRecord) {
		rec.Run.RunID = id
		tmpl, res := rec.Intents[0], rec.Results[0]
		rec.Intents, rec.Results, rec.Refs.Receipts = nil, nil, nil
		for i, tool := range tools {
			in, r := tmpl, res
			in.IntentID, r.IntentID = fmt.Sprintf("intent_%d", i+1), fmt.Sprintf("intent_%d", i+1)
			in.ToolName = tool
			if i < len(statuses) {
				r.Status = statuses[i]
			}
			rec.Intents, rec.Results = append(rec.Intents, in), append(rec.Results, r)
		}
	})
	return p
}

func TestSignalDemoMatchesV1(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "runpack_run_demo.zip")
	packtest.Write(t, p, nil)
	rep, err := BuildSignal(SignalOptions{Runs: []string{p}, ProducerVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	// The fingerprint, score and level v1 gives the demo run.
	fam := rep.Families[0]
	if fam.Fingerprint != "fc2118d76b8a1f629dc13367e1ab2304f6dd3362071e30fd1b07d3b795e9474f" || fam.FamilyID != "fam_fc2118d76b8a" {
		t.Errorf("fingerprint = %s", fam.Fingerprint)
	}
	if fam.SeverityScore != 76 || fam.SeverityLevel != SeverityMedium || !slices.Equal(fam.Drivers, []string{DriverConfiguration}) {
		t.Errorf("family = %+v", fam)
	}
	fp := rep.Fingerprints[0]
	if want := []string{"demo:tool_fetch", "demo:tool_search", "demo:tool_summarize"}; !slices.Equal(fp.TargetSystems, want) {
		t.Errorf("targets = %v", fp.TargetSystems)
	}
	if want := []string{"execute", "read"}; !slices.Equal(fp.ToolClasses, want) {
		t.Errorf("classes = %v", fp.ToolClasses)
	}
}

func TestSignalFamilies(t *testing.T) {
	dir := t.TempDir()
	runs := []string{
		writeRun(t, dir, "run_b", []string{"tool.delete", "tool.write"}, "error", "ok"),
		writeRun(t, dir, "run_a", []string{"tool.delete", "tool.write"}, "error", "ok"),
		writeRun(t, dir, "run_c", []string{"tool.read"}),
		writeRun(t, dir, "run_d", []string{"tool.write", "tool.read"}, "blocked", "error"),
	}
	rep, err := BuildSignal(SignalOptions{Runs: runs})
	if err != nil {
		t.Fatal(err)
	}
	type fam struct {
		runs   string
		score  int
		level  string
		reason string
		driver string
	}
	var got []fam
	for _, f := range rep.Families {
		got = append(got, fam{strings.Join(f.RunIDs, ","), f.SeverityScore, f.SeverityLevel, f.TopFailureReason, strings.Join(f.Drivers, ",")})
	}
	// Scores as v1 computes them for the same runs.
	want := []fam{
		{"run_a,run_b", 138, SeverityHigh, "result_status_error", DriverResultShape},
		{"run_d", 128, SeverityHigh, "result_status_blocked", DriverPolicy + "," + DriverResultShape},
		{"run_c", 46, SeverityLow, "", DriverConfiguration},
	}
	if !slices.Equal(got, want) {
		t.Errorf("families:\ngot  %+v\nwant %+v", got, want)
	}
	if rep.RunCount != 4 || rep.FamilyCount != 3 || len(rep.TopIssues) != 3 || rep.TopIssues[0].Rank != 1 {
		t.Errorf("counts: runs=%d families=%d issues=%d", rep.RunCount, rep.FamilyCount, len(rep.TopIssues))
	}
	if rep.Fingerprints[0].RunID != "run_a" || rep.Families[0].CanonicalRunID != "run_a" {
		t.Error("fingerprints are not sorted by run id")
	}
	reversed := slices.Clone(runs)
	slices.Reverse(reversed)
	again, err := BuildSignal(SignalOptions{Runs: reversed})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(rep)
	b, _ := json.Marshal(again)
	if string(a) != string(b) {
		t.Error("the report depends on the order of --runs")
	}
}

func TestSignalBadInput(t *testing.T) {
	if _, err := BuildSignal(SignalOptions{}); exitcode.Of(err) != exitcode.InvalidInput {
		t.Errorf("no runs: %v", err)
	}
	p := filepath.Join(t.TempDir(), "not.zip")
	if err := os.WriteFile(p, []byte("not a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := BuildSignal(SignalOptions{Runs: []string{p}}); exitcode.Of(err) != exitcode.InvalidInput {
		t.Errorf("not a runpack: %v", err)
	}
}

func TestAdoptionLogConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "adoption.jsonl")
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			ev := NewAdoptionEvent(fmt.Sprintf("cmd %d", i), "", 0, start, time.Millisecond, "test")
			if err := AppendAdoptionEvent(path, ev); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	events, err := ReadAdoptionEvents(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 20 {
		t.Fatalf("%d events, want 20", len(events))
	}
}

func TestAdoptionReport(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev := func(ms int, command string, code int, elapsed int, workflow string) AdoptionEvent {
		return NewAdoptionEvent(command, workflow, code, t0.Add(time.Duration(ms)*time.Millisecond), time.Duration(elapsed)*time.Millisecond, "test")
	}
	events := []AdoptionEvent{
		ev(0, "version", 0, 0, ""),
		ev(34, "demo", 0, 7, ""),
		ev(60, "verify", 0, 1, ""),
		ev(70, "scout diff", 6, 0, ""),
		ev(185, "regress init", 0, 7, ""),
		ev(200, "demo", 0, 9, ""),
		ev(218, "regress run", 0, 7, ""),
		ev(230, "policy test", 3, 4, "gait-policy-test-rollout"),
		ev(240, "verify", 0, 2, "my-own-flow"),
	}
	rep := BuildAdoptionReport("log.jsonl", events, "test")
	if !rep.ActivationComplete || len(rep.Blockers) != 0 {
		t.Errorf("activation: complete=%t blockers=%v", rep.ActivationComplete, rep.Blockers)
	}
	if want := map[string]int64{"A1": 34, "A2": 60, "A3": 185, "A4": 218}; !maps.Equal(rep.ActivationTiming, want) {
		t.Errorf("timing = %v, want %v", rep.ActivationTiming, want)
	}
	if want := map[string]int64{"m1_demo_elapsed_ms": 8, "m2_regress_run_elapsed_ms": 7}; !maps.Equal(rep.ActivationMedians, want) {
		t.Errorf("medians = %v, want %v", rep.ActivationMedians, want)
	}
	if rep.TotalEvents != 9 || rep.SuccessEvents != 7 || rep.FailedEvents != 2 {
		t.Errorf("counts: %d %d %d", rep.TotalEvents, rep.SuccessEvents, rep.FailedEvents)
	}
	var wf []string
	for _, w := range rep.SkillWorkflows {
		wf = append(wf, fmt.Sprintf("%s %d/%d %d %d", w.Workflow, w.Success, w.Total, w.MedianRuntimeMS, w.MostCommonFailureCode))
	}
	want := []string{"gait-capture-runpack 1/1 1 0", "gait-incident-to-regression 2/2 7 0", "gait-policy-test-rollout 0/1 4 3"}
	if !slices.Equal(wf, want) {
		t.Errorf("workflows = %v, want %v", wf, want)
	}
	if rep.CreatedAt != events[len(events)-1].CreatedAt || rep.FirstEventAt != events[0].CreatedAt {
		t.Errorf("times: created=%s first=%s", rep.CreatedAt, rep.FirstEventAt)
	}
	empty := BuildAdoptionReport("e", nil, "test")
	if empty.ActivationComplete || len(empty.Blockers) != 4 || empty.CreatedAt != CreatedAt || len(empty.Milestones) != 7 {
		t.Errorf("empty report: %+v", empty)
	}
}

func TestAdoptionMilestonesOnlyOnSuccess(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if ev := NewAdoptionEvent("demo", "", 1, now, 0, "t"); len(ev.Milestones) != 0 || ev.Success {
		t.Errorf("failed demo: %+v", ev)
	}
	if ev := NewAdoptionEvent("regress bootstrap", "", 0, now, 0, "t"); !slices.Equal(ev.Milestones, []string{"A3", "A4"}) {
		t.Errorf("bootstrap milestones = %v", ev.Milestones)
	}
}

func TestReadAdoptionEventsBadInput(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"garbage":      "garbage\n",
		"other schema": `{"schema_id":"other","created_at":"2026-01-01T00:00:00Z"}` + "\n",
		"bad time":     `{"schema_id":"gait.scout.adoption_event","created_at":"yesterday"}` + "\n",
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadAdoptionEvents(p); exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzParseAdoptionEvents(f *testing.F) {
	ev := NewAdoptionEvent("demo", "", 0, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Millisecond, "t")
	line, _ := json.Marshal(ev)
	f.Add(append(line, '\n'))
	f.Add([]byte("\n\n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := ParseAdoptionEvents(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		rep := BuildAdoptionReport("f", events, "t")
		if rep.TotalEvents != len(events) || rep.SuccessEvents+rep.FailedEvents != rep.TotalEvents {
			t.Fatalf("counts do not add up: %+v", rep)
		}
	})
}

func FuzzParseSnapshot(f *testing.F) {
	f.Add([]byte(`{"schema_id":"gait.scout.inventory_snapshot","items":[{"id":"a","risk_level":"low"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, err := ParseSnapshot(data)
		if err != nil {
			return
		}
		if d := DiffSnapshots(snap, snap); d.Drift() {
			t.Fatalf("a snapshot differs from itself: %+v", d)
		}
	})
}
