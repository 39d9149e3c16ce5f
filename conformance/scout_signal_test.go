package conformance_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestScoutSignalInputsMatchReference generates runs, gate traces and
// regress results from a seed and checks that `scout signal --runs
// --traces --regress` writes the same report under both binaries, byte for
// byte once both are compacted, except for the producer version and the
// suggestions' wording (see docs/scout.md). The traces are written by both
// binaries' `gate eval` (some relinked to a run through their
// correlation_id) and generated; the results by both binaries' `regress
// run` and generated.
//
// GAIT_SIGNAL_SEED (default 1) and GAIT_SIGNAL_CASES (default 12) choose
// the cases.
func TestScoutSignalInputsMatchReference(t *testing.T) {
	ref := referenceBin(t)
	policy := need(t, "conformance/gait-v1/inputs/policy/base_high_risk.yaml")
	intents := []string{
		need(t, "conformance/gait-v1/inputs/policy/intents/intent_delete.json"),
		need(t, "conformance/gait-v1/inputs/policy/intents/intent_read.json"),
		need(t, "conformance/gait-v1/inputs/policy/intents/intent_write.json"),
	}
	first := envInt(t, "GAIT_SIGNAL_SEED", 1)
	n := envInt(t, "GAIT_SIGNAL_CASES", 12)
	for seed := first; seed < first+n; seed++ {
		t.Run(fmt.Sprintf("seed_%d", seed), func(t *testing.T) {
			t.Parallel()
			c := signalCase{r: rand.New(rand.NewPCG(uint64(seed), 7)), dir: t.TempDir(), ref: ref}
			c.runs(t)
			c.realTraces(t, policy, intents)
			c.genTraces(t)
			c.realResults(t)
			c.genResults(t)
			c.compare(t)
		})
	}
}

// signalCase is one generated set of scout signal inputs in dir.
type signalCase struct {
	r               *rand.Rand
	dir, ref        string
	ids, zips       []string
	traces, results []string
	fixtureRun      string // the run the real regress results grade
}

var (
	signalTools    = []string{"tool.read", "tool.search", "tool.fetch", "tool.write", "tool.send", "tool.delete", "tool.exec"}
	signalStatuses = []string{"ok", "ok", "ok", " OK", "error", "blocked", "timeout", "Require Approval", "denied", "---", ""}
	signalSources  = []string{"web", "Docs API", "kb", "---", ""}
	signalVerdicts = []string{"allow", "Allow", "block", "BLOCKED", "require_approval", "dry_run", ""}
	signalWords    = []string{"destructive_operation", "Needs Review", "policy_scope", "approval_missing", "credential_expired",
		"source_missing", "receipt_gap", "diff_seen", "schema_invalid", "grader_error", "unexpected_exit_code",
		"unexpected_tool_sequence", "context_drift", "result_status_odd", "", "  ", "---"}
)

func (c *signalCase) pick(list []string) string { return list[c.r.IntN(len(list))] }

// runs records 4 to 12 runs with the reference; runs share one of up to
// three behaviours so that families form (of more than 10 runs too).
func (c *signalCase) runs(t *testing.T) {
	type call struct{ tool, status string }
	var behaviours [][]call
	var receipts [][]any
	for range 1 + c.r.IntN(3) {
		var calls []call
		for range 1 + c.r.IntN(4) {
			calls = append(calls, call{c.pick(signalTools), c.pick(signalStatuses)})
		}
		behaviours = append(behaviours, calls)
		var rs []any
		for i := range c.r.IntN(3) {
			rs = append(rs, map[string]any{"ref_id": fmt.Sprintf("ref_%d", i), "source_type": c.pick(signalSources),
				"source_locator": c.pick([]string{"https://docs.example/a", "Ticket 7", ""}), "query_digest": sha(fmt.Sprint("q", i)),
				"content_digest": sha(fmt.Sprint("c", c.r.IntN(3))), "retrieved_at": "2026-01-01T00:00:00Z", "redaction_mode": "reference"})
		}
		receipts = append(receipts, rs)
	}
	for i := range 4 + c.r.IntN(9) {
		id := fmt.Sprintf("run_s%02d", i)
		b := c.r.IntN(len(behaviours))
		rec := map[string]any{
			"run":  map[string]any{"run_id": id, "created_at": "2026-01-01T00:00:00Z", "producer_version": "t", "env": map[string]any{"os": "linux"}, "timeline": []any{}},
			"refs": map[string]any{"receipts": nonNilList(receipts[b])},
		}
		var ins, outs []any
		for j, cl := range behaviours[b] {
			iid := fmt.Sprintf("intent_%d", j+1)
			ins = append(ins, map[string]any{"intent_id": iid, "tool_name": cl.tool, "args": map[string]any{"i": j}, "created_at": "2026-01-01T00:00:00Z"})
			outs = append(outs, map[string]any{"intent_id": iid, "status": cl.status, "result": map[string]any{"n": j}, "created_at": "2026-01-01T00:00:00Z"})
		}
		rec["intents"], rec["results"] = ins, outs
		writeJSONFile(t, filepath.Join(c.dir, id+".json"), rec)
		mustRun(t, c.dir, c.ref, "run", "record", "--input", id+".json", "--out-dir", ".")
		c.ids, c.zips = append(c.ids, id), append(c.zips, "runpack_"+id+".zip")
	}
}

// realTraces writes traces with both binaries' gate eval, and copies of
// them relinked to a run through correlation_id.
func (c *signalCase) realTraces(t *testing.T, policy string, intents []string) {
	for i, bin := range []string{c.ref, gaitBin} {
		name := fmt.Sprintf("trace_eval_%d.json", i)
		exe(t, bin, c.dir, "gate", "eval", "--policy", policy, "--intent", c.pick(intents), "--trace-out", name)
		c.traces = append(c.traces, name)
		tr := readJSONFile(t, filepath.Join(c.dir, name))
		tr["correlation_id"] = "session:" + c.pick(c.ids) + "/step"
		linked := fmt.Sprintf("trace_linked_%d.json", i)
		writeJSONFile(t, filepath.Join(c.dir, linked), tr)
		c.traces = append(c.traces, linked)
	}
}

// genTraces writes 2 to 7 traces linked to runs in every way v1 links
// them, or to none.
func (c *signalCase) genTraces(t *testing.T) {
	for i := range 2 + c.r.IntN(6) {
		id := c.pick(c.ids)
		links := [][2]string{
			{"", id}, {"corr " + id, "trace_x"}, {id, "run_other"}, {"9f3a", id}, {"run_missing", id},
			{"", "Run_upper"}, {"", "prefix" + id + ".json"}, {"", ""},
		}
		link := links[c.r.IntN(len(links))]
		var violations []string
		for range c.r.IntN(3) {
			violations = append(violations, c.pick(signalWords))
		}
		name := fmt.Sprintf("trace_gen_%d.json", i)
		writeJSONFile(t, filepath.Join(c.dir, name), map[string]any{"schema_id": "gait.gate.trace", "schema_version": "1.0.0",
			"correlation_id": link[0], "trace_id": link[1], "tool_name": c.pick(signalTools), "verdict": c.pick(signalVerdicts),
			"violations": violations})
		c.traces = append(c.traces, name)
	}
}

// realResults grades one run's fixture, edited to fail, with both
// binaries' regress run.
func (c *signalCase) realResults(t *testing.T) {
	c.fixtureRun = c.pick(c.ids)
	mustRun(t, c.dir, c.ref, "regress", "init", "--from", "runpack_"+c.fixtureRun+".zip")
	fx := filepath.Join(c.dir, "fixtures", c.fixtureRun, "fixture.json")
	m := readJSONFile(t, fx)
	m["expected_tool_sequence"] = []string{"tool.other"}
	if c.r.IntN(2) == 0 {
		m["expected_replay_exit_code"] = 3
	}
	writeJSONFile(t, fx, m)
	for i, bin := range []string{c.ref, gaitBin} {
		name := fmt.Sprintf("regress_result_%d.json", i)
		if code, _, stderr := exe(t, bin, c.dir, "regress", "run", "--output", name); code != 5 {
			t.Fatalf("%s regress run: exit %d, want 5\n%s", filepath.Base(bin), code, stderr)
		}
		c.results = append(c.results, name)
	}
}

// genResults writes a result document with failing and passing graders
// for some runs (named by details.run_id or by the fixture's name) and
// for a fixture of no run.
func (c *signalCase) genResults(t *testing.T) {
	var graders []any
	status := "pass"
	for i, id := range append(slices.Clone(c.ids), "run_unknown") {
		if c.r.IntN(3) == 0 {
			continue
		}
		fixture, details := id, map[string]any{}
		if c.r.IntN(2) == 0 {
			fixture = fmt.Sprintf("fix_%d", i)
			details["run_id"] = id
		}
		details["fixture"] = fixture
		for _, name := range []string{"expected_exit_code", "trajectory", "diff"}[:1+c.r.IntN(3)] {
			gs, codes := "pass", []string{}
			if c.r.IntN(2) == 0 {
				gs, status = "fail", "fail"
				n := c.r.IntN(3)
				if c.r.IntN(6) == 0 {
					n = 12 // more than the score counts
				}
				for j := range n {
					codes = append(codes, fmt.Sprintf("%s_%d", c.pick(signalWords), j))
				}
			}
			graders = append(graders, map[string]any{"name": fixture + "/" + name, "status": gs, "reason_codes": codes, "details": details})
		}
	}
	writeJSONFile(t, filepath.Join(c.dir, "regress_gen.json"), map[string]any{"schema_id": "gait.regress.result", "schema_version": "1.0.0",
		"created_at": "2026-01-01T00:00:00Z", "producer_version": "t", "fixture_set": "default", "status": status, "graders": nonNilList(graders)})
	c.results = append(c.results, "regress_gen.json")
}

// maskedSignal matches the values the two binaries may differ in: the
// producer version and the suggestions' words.
var maskedSignal = regexp.MustCompile(`"(producer_version|summary|likely_scope)":"(?:[^"\\]|\\.)*"`)

// compactSignal is the report at path compacted, with maskedSignal's
// values blanked.
func compactSignal(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return maskedSignal.ReplaceAllString(b.String(), `"$1":"-"`)
}

func (c *signalCase) compare(t *testing.T) {
	args := []string{"scout", "signal", "--runs", strings.Join(c.zips, ","), "--traces", strings.Join(c.traces, ","),
		"--regress", strings.Join(c.results, ",")}
	mustRun(t, c.dir, c.ref, append(args, "--out", "v1.json")...)
	out := mustRun(t, c.dir, gaitBin, append(args, "--out", "ours.json", "--json")...)
	v1, ours := compactSignal(t, filepath.Join(c.dir, "v1.json")), compactSignal(t, filepath.Join(c.dir, "ours.json"))
	if v1 != ours {
		i := 0
		for i < min(len(v1), len(ours)) && v1[i] == ours[i] {
			i++
		}
		from := max(0, i-300)
		t.Errorf("signal reports differ at byte %d:\nv1   …%s…\nours …%s…", i, v1[from:min(len(v1), i+200)], ours[from:min(len(ours), i+200)])
	}
	var res struct {
		OK     bool            `json:"ok"`
		Report json.RawMessage `json:"report"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.OK {
		t.Fatalf("--json: %v %s", err, out)
	}
	if !strings.Contains(v1, `"trace_count"`) || !strings.Contains(v1, `"regress_evidence_seen":true`) {
		t.Errorf("the case links no trace or no regress failure to a run: %s", v1)
	}
}

// TestScoutSignalInputErrors: a missing, unreadable or malformed trace or
// result is invalid input (exit 6) under both binaries, with v1's error
// envelope under --json.
func TestScoutSignalInputErrors(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	mustRun(t, dir, ref, "demo")
	for name, body := range map[string]string{"malformed.json": `{"trace_id":`, "array.json": `[]`, "string.json": `"x"`,
		"bad_violations.json": `{"schema_id":"gait.gate.trace","violations":"x"}`, "bad_graders.json": `{"schema_id":"gait.regress.result","schema_version":"1.0.0","status":"pass","graders":{}}`} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	run := "gait-out/runpack_run_demo.zip"
	for _, args := range [][]string{
		{"--traces", "missing.json"}, {"--traces", "malformed.json"}, {"--traces", "array.json"}, {"--traces", "string.json"},
		{"--traces", "bad_violations.json"}, {"--regress", "missing.json"}, {"--regress", "malformed.json"}, {"--regress", "array.json"},
		{"--regress", "bad_graders.json"}, {"--regress", "folder"},
	} {
		full := append([]string{"scout", "signal", "--runs", run, "--out", "x.json", "--json"}, args...)
		var envelopes []map[string]any
		for _, bin := range []string{ref, gaitBin} {
			out, code := runIn(t, dir, bin, full...)
			if code != 6 {
				t.Errorf("%s %v: exit %d, want 6", filepath.Base(bin), args, code)
			}
			var env map[string]any
			if err := json.Unmarshal([]byte(out), &env); err != nil {
				t.Errorf("%s %v: stdout is not one JSON object: %q", filepath.Base(bin), args, out)
			}
			envelopes = append(envelopes, env)
		}
		for _, k := range []string{"ok", "error_code", "error_category", "retryable"} {
			if fmt.Sprint(envelopes[0][k]) != fmt.Sprint(envelopes[1][k]) {
				t.Errorf("%v: %s is %v under v1, %v under gait", args, k, envelopes[0][k], envelopes[1][k])
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.json")); err == nil {
		t.Error("a refused signal left a report behind")
	}
}
