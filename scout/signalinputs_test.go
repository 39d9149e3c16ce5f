package scout

import (
	"bytes"
	"cmp"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/regress"
)

// writeJSON writes v as JSON to dir/name and returns the path.
func writeJSON(t *testing.T, dir, name string, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func trace(traceID, correlationID, verdict string, violations ...string) map[string]any {
	return map[string]any{"schema_id": "gait.gate.trace", "schema_version": "1.0.0", "trace_id": traceID,
		"correlation_id": correlationID, "verdict": verdict, "violations": violations, "tool_name": "tool.x"}
}

// grader is one grader of a regress result document: fixture/name, run id
// (omitted when empty), status and reason codes.
type grader struct{ fixture, name, run, status string }

func regressDoc(graders []grader, codes ...[]string) map[string]any {
	status := regress.StatusPass
	var gs []any
	for i, g := range graders {
		details := map[string]any{"fixture": g.fixture}
		if g.run != "" {
			details["run_id"] = g.run
		}
		rc := []string{}
		if i < len(codes) && codes[i] != nil {
			rc = codes[i]
		}
		if g.status == regress.StatusFail {
			status = regress.StatusFail
		}
		gs = append(gs, map[string]any{"name": g.fixture + "/" + g.name, "status": g.status, "reason_codes": rc, "details": details})
	}
	return map[string]any{"schema_id": regress.SchemaResult, "schema_version": "1.0.0", "created_at": "2026-01-01T00:00:00Z",
		"producer_version": "t", "fixture_set": "default", "status": status, "graders": gs}
}

// TestSignalTracesAndRegress: the reason codes, drivers and scores gate
// traces and regress results add to their runs, as v1 gives them for the
// same inputs.
func TestSignalTracesAndRegress(t *testing.T) {
	dir := t.TempDir()
	runs := []string{
		writeRun(t, dir, "run_a", []string{"tool.read"}),
		writeRun(t, dir, "run_b", []string{"tool.read"}),
		writeRun(t, dir, "run_c", []string{"tool.read"}),
		writeRun(t, dir, "run_d", []string{"tool.read"}),
	}
	traces := []string{
		// correlation_id first, the run id found inside it
		writeJSON(t, dir, "t1.json", trace("run_b", "session:run_a/1", "block", "No Search", "")),
		// allow adds no code, but the trace still counts
		writeJSON(t, dir, "t2.json", trace("run_a", "", "Allow")),
		// a run that is not given
		writeJSON(t, dir, "t3.json", trace("run_zz", "", "block")),
		// the first run id found decides, even when no run has it
		writeJSON(t, dir, "t4.json", trace("run_c", "run_zz", "block")),
		writeJSON(t, dir, "t5.json", trace("run_c", "", "require_approval")),
	}
	results := []string{
		writeJSON(t, dir, "r1.json", regressDoc([]grader{
			{"run_c", "trajectory", "", regress.StatusFail},              // fixture name as run
			{"fix_d", "expected_exit_code", "run_d", regress.StatusFail}, // details.run_id
			{"fix_d", "diff", "run_d", regress.StatusPass},
		}, []string{"unexpected_tool_sequence"}, nil, []string{"ignored_pass"})),
	}
	rep, err := BuildSignal(SignalOptions{Runs: runs, Traces: traces, Regress: results})
	if err != nil {
		t.Fatal(err)
	}
	type fp struct {
		codes   string
		traces  int
		regress bool
	}
	got := map[string]fp{}
	for _, f := range rep.Fingerprints {
		got[f.RunID] = fp{strings.Join(f.ReasonCodeVector, ","), f.TraceCount, f.RegressEvidenceSeen}
	}
	want := map[string]fp{
		"run_a": {"trace_verdict_block,violation_e3b0c44298fc1c14,violation_no_search", 2, false},
		"run_b": {"", 0, false},
		"run_c": {"trace_verdict_require_approval,unexpected_tool_sequence", 1, true},
		"run_d": {"regress_failure", 0, true},
	}
	if !maps.Equal(got, want) {
		t.Errorf("fingerprints:\ngot  %+v\nwant %+v", got, want)
	}
	type fam struct {
		runs    string
		drivers string
		score   int
	}
	var fams []fam
	for _, f := range rep.Families {
		fams = append(fams, fam{strings.Join(f.RunIDs, ","), strings.Join(f.Drivers, ","), f.SeverityScore})
	}
	wantFams := []fam{
		{"run_c", DriverPolicy, 45 + 1 + 2 + 20},
		{"run_a", DriverPolicy, 45 + 1 + 3},
		{"run_d", DriverConfiguration, 45 + 1 + 1},
		{"run_b", DriverConfiguration, 45 + 1},
	}
	if !slices.Equal(fams, wantFams) {
		t.Errorf("families:\ngot  %+v\nwant %+v", fams, wantFams)
	}
}

// TestSignalScoreCaps: at most 10 runs and 9 reason codes count; 150 is
// critical.
func TestSignalScoreCaps(t *testing.T) {
	dir := t.TempDir()
	var runs []string
	var graders []grader
	var codes [][]string
	for i := range 12 {
		id := "run_m" + string(rune('a'+i))
		runs = append(runs, writeRun(t, dir, id, []string{"tool.delete"}))
		graders = append(graders, grader{id, "trajectory", id, regress.StatusFail})
		codes = append(codes, []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10"})
	}
	res := writeJSON(t, dir, "r.json", regressDoc(graders, codes...))
	rep, err := BuildSignal(SignalOptions{Runs: runs, Regress: []string{res}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Families) != 1 || rep.Families[0].SeverityScore != 135+10+9 || rep.Families[0].SeverityLevel != SeverityCritical {
		t.Errorf("families = %+v, want one critical scored 154", rep.Families)
	}
}

func TestDriverOf(t *testing.T) {
	for code, want := range map[string]struct {
		driver string
		bonus  bool
	}{
		"result_status_blocked":          {DriverPolicy, true},
		"result_status_require_approval": {DriverPolicy, true},
		"xpolicyx":                       {DriverPolicy, true},
		"broker_credential_missing":      {DriverPolicy, true},
		"violation_no_search":            {DriverPolicy, false},
		"violation_diff":                 {DriverPolicy, false},
		"result_status_error":            {DriverResultShape, false},
		"unexpected_exit_code":           {DriverResultShape, false},
		"unexpected_diff":                {DriverResultShape, false},
		"schema_validation_failed":       {DriverResultShape, false},
		"grader_error":                   {DriverResultShape, false},
		"diff_ref":                       {DriverResultShape, false},
		"missing_reference":              {DriverReference, false},
		"source_changed":                 {DriverReference, false},
		"receipt_count":                  {DriverReference, false},
		"retrieval_params":               {DriverReference, false},
		"unexpected_tool_sequence":       {"", false},
		"trace_verdict_block":            {"", false},
		"regress_failure":                {"", false},
	} {
		d, b := driverOf(code)
		if d != want.driver || b != want.bonus {
			t.Errorf("driverOf(%q) = %q, %v; want %q, %v", code, d, b, want.driver, want.bonus)
		}
	}
}

func TestSignalCode(t *testing.T) {
	for in, want := range map[string]string{
		"Block":   "block",
		" OK ":    "ok",
		"A b-C":   "a_b_c",
		"a  b":    "a__b",
		"_x_":     "x",
		"Ünï":     "n",
		"":        "e3b0c44298fc1c14",
		"  ":      "e3b0c44298fc1c14",
		" --- ":   "cb3f91d54eee30e5",
		"é":       "4a99557e4033c353",
		"9Z":      "9z",
		"al low":  "al_low",
		"-allow-": "allow",
	} {
		if got := signalCode(in); got != want {
			t.Errorf("signalCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSignalInputsBadInput(t *testing.T) {
	dir := t.TempDir()
	run := writeRun(t, dir, "run_a", []string{"tool.read"})
	bad := map[string]string{
		"malformed":        `{"trace_id":`,
		"array":            `[]`,
		"null":             `null`,
		"two values":       `{"schema_id":"gait.gate.trace"} {}`,
		"trailing":         `{"schema_id":"gait.gate.trace"}x`,
		"wrong schema":     `{"schema_id":"gait.regress.result"}`,
		"no schema":        `{"trace_id":"run_a","verdict":"block"}`,
		"major version":    `{"schema_id":"gait.gate.trace","schema_version":"2.0.0"}`,
		"number id":        `{"schema_id":"gait.gate.trace","trace_id":5}`,
		"string violation": `{"schema_id":"gait.gate.trace","violations":"x"}`,
		"empty":            ``,
	}
	for name, body := range bad {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := BuildSignal(SignalOptions{Runs: []string{run}, Traces: []string{p}})
		if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), "\n") {
			t.Errorf("trace %s: err = %v, want one line naming the file", name, err)
		}
		_, err = BuildSignal(SignalOptions{Runs: []string{run}, Regress: []string{p}})
		if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), p) {
			t.Errorf("regress %s: err = %v, want a user error naming the file", name, err)
		}
	}
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, append([]byte(`{"schema_id":"gait.gate.trace","x":"`), bytes.Repeat([]byte("a"), MaxTraceBytes)...), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []SignalOptions{
		{Runs: []string{run}, Traces: []string{filepath.Join(dir, "missing.json")}},
		{Runs: []string{run}, Regress: []string{filepath.Join(dir, "missing.json")}},
		{Runs: []string{run}, Traces: []string{dir}},
		{Runs: []string{run}, Regress: []string{dir}},
		{Runs: []string{run}, Traces: []string{big}},
	} {
		if _, err := BuildSignal(opts); exitcode.Of(err) != exitcode.InvalidInput {
			t.Errorf("%+v: err = %v, want invalid input", opts, err)
		}
	}
}

// FuzzParseTrace: a trace that parses gives reason codes with a non-empty
// word after their prefix, and a run id (when it names one) that starts
// with run_.
func FuzzParseTrace(f *testing.F) {
	f.Add([]byte(`{"schema_id":"gait.gate.trace","schema_version":"1.0.0","trace_id":"run_a","correlation_id":"x run_b","verdict":"block","violations":["a b",""]}`))
	f.Add([]byte(`{"schema_id":"gait.gate.trace","verdict":"allow","violations":null}`))
	f.Add([]byte(`{"schema_id":"gait.gate.trace","trace_id":"run_","verdict":"---"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := parseTrace(data)
		if err != nil {
			return
		}
		for _, c := range tr.codes() {
			_, word, ok := strings.Cut(c, "_")
			if !ok || word == "" || strings.ContainsFunc(word, func(r rune) bool { return !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
				t.Fatalf("code %q", c)
			}
		}
		if run, _ := tr.runFor(nil); run != "" && !strings.HasPrefix(run, "run_") {
			t.Fatalf("run %q", run)
		}
	})
}

// FuzzFailureCodes: every failing grader of a result document that reads
// gives its run at least one reason code, and passing graders none.
func FuzzFailureCodes(f *testing.F) {
	seed, _ := json.Marshal(regressDoc([]grader{{"run_a", "trajectory", "run_a", regress.StatusFail}, {"fix_b", "diff", "", regress.StatusPass}}, []string{"Unexpected Diff"}))
	f.Add(seed)
	f.Add([]byte(`{"schema_id":"gait.regress.result","schema_version":"1.0.0","status":"pass","graders":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := regress.ReadResult(bytes.NewReader(data), "f.json")
		if err != nil {
			return
		}
		codes := failureCodes(rep)
		for _, fx := range rep.Fixtures {
			run := cmp.Or(strings.TrimSpace(fx.RunID), strings.TrimSpace(fx.Name))
			if len(fx.Failed()) > 0 && len(codes[run]) == 0 {
				t.Fatalf("fixture %q fails but run %q has no codes", fx.Name, run)
			}
		}
	})
}
