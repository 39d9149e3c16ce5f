package conformance_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestRegressDifferential generates run records from a seed and checks that
// the reference binary and Gait agree on everything Gait v1 defines:
// `run record` manifest digests, `regress init` fixture.json, and
// `regress run` exit code, --json fields and regress_result.json graders, in
// all four combinations (fixture written by either, run by either).
//
// GAIT_DIFF_SEED (default 1) and GAIT_DIFF_CASES (default 200) choose the
// cases; every disagreement names the seed that reproduces it alone:
//
//	GAIT_DIFF_SEED=<seed> GAIT_DIFF_CASES=1 make conformance
func TestRegressDifferential(t *testing.T) {
	ref := referenceBin(t)
	first := envInt(t, "GAIT_DIFF_SEED", 1)
	n := envInt(t, "GAIT_DIFF_CASES", 200)
	for seed := first; seed < first+n; seed++ {
		t.Run(fmt.Sprintf("seed_%d", seed), func(t *testing.T) {
			t.Parallel()
			c := newDiffCase(uint64(seed))
			c.check(t, ref)
		})
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q is not a number", name, v)
	}
	return n
}

// diffCase is one generated scenario: a run, maybe a candidate run, the
// edits made to the fixture after init, and the flags of regress run.
type diffCase struct {
	seed      uint64
	run       map[string]any
	candidate map[string]any // nil when the fixture has no candidate
	second    bool           // the candidate is also added as a second fixture
	reorder   bool           // gait.yaml lists the fixtures in reverse name order
	output    string         // --output, when not the default
	edits     []fixtureEdit
	broken    string // how the fixture is broken ("" when it is not)
	flags     []string
}

type fixtureEdit struct {
	what string
	do   func(f map[string]any)
}

var (
	diffTools = []string{
		"tool.search", "tool.fetch", "http.get", "tool.write", "db.query", "queue.publish", "tool.summarize",
		"tool.delete", "tool.email.send", "tool.crm.lookup", " tool.padded ", "tool.été", "outil.straße", "kafka.emit",
		"tool.readfile", "sql", "tool.database", "pubsub", "tool.url_builder",
	}
	diffStatuses = []string{
		"ok", "ok", "ok", "error", "blocked", "block", "deny", "Denied", "dry_run", "dry-run", "DRY-RUN", "Dry Run",
		"simulate", "require_approval", "approval_required", "needs_approval", "needs-approval", "Pass", "SUCCESS",
		"passed ", "allow", "weird", "", "stubbed",
	}
	diffVerdicts = []any{"deny", "Allow", "dry-run", "Needs Approval", "error", "bogus", "block", "OK", "simulated", 7, map[string]any{"v": 1}, ""}
	diffWords    = []string{"alpha", "beta", "é", "日本", "ß", "🙂", "a\"b", "line\nbreak", "tab\t", "<&>", ""}
)

func newDiffCase(seed uint64) *diffCase {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	c := &diffCase{seed: seed}
	c.run = genRun(r, runID(r, "run"))
	if r.IntN(4) == 0 {
		c.candidate = mutateRun(r, c.run)
		c.second = r.IntN(3) == 0
		c.reorder = c.second && r.IntN(2) == 0
	}
	if r.IntN(8) == 0 {
		c.output = "out.json"
	}
	c.edits = genEdits(r, c.candidate != nil)
	if r.IntN(12) == 0 {
		c.broken = []string{"bad_verdict", "negative_exit", "name_mismatch", "run_id_mismatch", "no_fixture_json",
			"not_a_zip", "digest", "no_runpack", "no_fixtures", "bad_context"}[r.IntN(10)]
	}
	if r.IntN(5) == 0 {
		c.flags = append(c.flags, "--context-conformance")
	}
	if r.IntN(6) == 0 {
		c.flags = append(c.flags, "--allow-context-runtime-drift")
	}
	if r.IntN(6) == 0 {
		c.flags = append(c.flags, "--allow-nondeterministic")
	}
	if r.IntN(4) == 0 {
		c.flags = append(c.flags, "--junit", "junit.xml")
	}
	return c
}

func runID(r *rand.Rand, prefix string) string {
	ids := []string{prefix + "_%d", "Run_Upper_%d", "RUN-%d", prefix + "-mixed_Case%d"}
	return fmt.Sprintf(ids[r.IntN(len(ids))], r.IntN(1000))
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func genValue(r *rand.Rand, depth int) any {
	switch r.IntN(6) {
	case 0:
		return r.IntN(1000) - 500
	case 1:
		return diffWords[r.IntN(len(diffWords))]
	case 2:
		return r.IntN(2) == 0
	case 3:
		if depth > 1 {
			return nil
		}
		return []any{genValue(r, depth+1), genValue(r, depth+1)}
	case 4:
		if depth > 1 {
			return "x"
		}
		return genObject(r, depth+1)
	default:
		return float64(r.IntN(1000)) / 8
	}
}

func genObject(r *rand.Rand, depth int) map[string]any {
	m := map[string]any{}
	for range r.IntN(4) {
		m[diffWords[r.IntN(len(diffWords))]+strconv.Itoa(r.IntN(9))] = genValue(r, depth)
	}
	return m
}

// genRun generates a run record: mostly a handful of steps, sometimes none,
// now and then hundreds.
func genRun(r *rand.Rand, id string) map[string]any {
	n := r.IntN(7)
	switch r.IntN(30) {
	case 0, 1:
		n = 0
	case 2:
		n = 100 + r.IntN(200)
	}
	created := fmt.Sprintf("2026-%02d-%02dT%02d:00:00Z", 1+r.IntN(12), 1+r.IntN(28), r.IntN(24))
	var intents, results []any
	for i := range n {
		iid := fmt.Sprintf("intent_%d", i)
		in := map[string]any{"intent_id": iid, "tool_name": diffTools[r.IntN(len(diffTools))], "args": genObject(r, 0)}
		intents = append(intents, in)
		if r.IntN(6) == 0 {
			continue // no result
		}
		res := map[string]any{"intent_id": iid, "status": diffStatuses[r.IntN(len(diffStatuses))], "result": genObject(r, 0)}
		if r.IntN(3) == 0 {
			res["result"].(map[string]any)["verdict"] = diffVerdicts[r.IntN(len(diffVerdicts))]
		}
		results = append(results, res)
		if r.IntN(25) == 0 {
			dup := map[string]any{"intent_id": iid, "status": diffStatuses[r.IntN(len(diffStatuses))], "result": map[string]any{"again": true}}
			results = append(results, dup)
		}
	}
	if r.IntN(15) == 0 {
		results = append(results, map[string]any{"intent_id": "intent_unknown", "status": "ok", "result": map[string]any{"orphan": 1}})
	}
	if r.IntN(4) == 0 {
		r.Shuffle(len(results), func(i, j int) { results[i], results[j] = results[j], results[i] })
	}
	refs := map[string]any{"receipts": []any{}}
	if r.IntN(4) == 0 {
		d := sha(fmt.Sprint(r.IntN(3)))
		refs["context_set_digest"] = d
		refs["receipts"] = []any{map[string]any{"ref_id": "ref_1", "source_type": "doc", "source_locator": "kb://a",
			"query_digest": sha("q"), "content_digest": d, "retrieved_at": created, "redaction_mode": "reference"}}
	}
	rec := map[string]any{
		"run": map[string]any{"run_id": id, "created_at": created, "producer_version": "0.0.0-diff",
			"env": map[string]any{"os": "linux", "arch": "amd64", "runtime": "python"}, "timeline": []any{map[string]any{"event": "start", "ts": created}}},
		"intents": nonNilList(intents), "results": nonNilList(results), "refs": refs,
	}
	if r.IntN(8) == 0 {
		rec["capture_mode"] = "raw"
	}
	return rec
}

func nonNilList(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

// clone deep-copies a JSON value.
func clone(v map[string]any) map[string]any {
	b, _ := json.Marshal(v)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// mutateRun derives a candidate run: the same run under a new id with one
// change in behaviour, or none.
func mutateRun(r *rand.Rand, base map[string]any) map[string]any {
	c := clone(base)
	c["run"].(map[string]any)["run_id"] = runID(r, "cand")
	intents := c["intents"].([]any)
	results := c["results"].([]any)
	switch r.IntN(8) {
	case 0: // unchanged behaviour
	case 1:
		if len(intents) > 0 {
			intents[r.IntN(len(intents))].(map[string]any)["tool_name"] = diffTools[r.IntN(len(diffTools))]
		}
	case 2:
		if len(results) > 0 {
			results[r.IntN(len(results))].(map[string]any)["status"] = diffStatuses[r.IntN(len(diffStatuses))]
		}
	case 3:
		if len(results) > 0 {
			c["results"] = results[:len(results)-1]
		}
	case 4:
		r.Shuffle(len(results), func(i, j int) { results[i], results[j] = results[j], results[i] })
	case 5:
		c["refs"] = map[string]any{"receipts": []any{}}
		if r.IntN(2) == 0 {
			d := sha("other")
			c["refs"] = map[string]any{"context_set_digest": d, "receipts": []any{map[string]any{"ref_id": "ref_1", "source_type": "doc",
				"source_locator": "kb://a", "query_digest": sha("q"), "content_digest": d, "retrieved_at": "2026-01-01T00:00:00Z", "redaction_mode": "reference"}}}
		}
	case 6:
		if len(intents) > 0 {
			intents[0].(map[string]any)["args"] = map[string]any{"changed": r.IntN(100)}
		}
	case 7:
		c["capture_mode"] = "raw"
	}
	return c
}

var diffFiles = []string{"intents.jsonl", "results.jsonl", "refs.json", "manifest.json", "run.json"}

func genEdits(r *rand.Rand, candidate bool) []fixtureEdit {
	var edits []fixtureEdit
	add := func(what string, do func(map[string]any)) { edits = append(edits, fixtureEdit{what, do}) }
	switch r.IntN(10) {
	case 0:
		add("older fixture without sequences", func(f map[string]any) {
			delete(f, "expected_tool_sequence")
			delete(f, "expected_verdict_sequence")
		})
	case 1:
		add("tool sequence only", func(f map[string]any) { delete(f, "expected_verdict_sequence") })
	case 2:
		add("verdict aliases", func(f map[string]any) {
			alias := map[string]string{"allow": "OK", "block": "Deny", "dry_run": "Dry Run", "require_approval": "needs-approval", "error": " ERROR "}
			vs, _ := f["expected_verdict_sequence"].([]any)
			for i, v := range vs {
				if a, ok := alias[fmt.Sprint(v)]; ok && i%2 == 0 {
					vs[i] = a
				}
			}
		})
	case 3:
		add("expected exit 2", func(f map[string]any) { f["expected_replay_exit_code"] = 2 })
	case 4:
		add("tool drift in the fixture", func(f map[string]any) {
			f["expected_tool_sequence"] = append([]any{" tool.search ", ""}, anyList(f["expected_tool_sequence"])...)
		})
	case 5:
		add("context required", func(f map[string]any) { f["context_conformance"] = "required" })
	case 6:
		add("verdict dropped", func(f map[string]any) {
			if vs := anyList(f["expected_verdict_sequence"]); len(vs) > 0 {
				f["expected_verdict_sequence"] = vs[1:]
			}
		})
	}
	if candidate {
		add("candidate", func(f map[string]any) { f["candidate_runpack"] = "candidate.zip" })
		if r.IntN(2) == 0 {
			var allowed []any
			for _, name := range diffFiles {
				if r.IntN(2) == 0 {
					allowed = append(allowed, name)
				}
			}
			add(fmt.Sprintf("allow %v", allowed), func(f map[string]any) { f["diff_allow_changed_files"] = allowed })
		}
	}
	return edits
}

func anyList(v any) []any {
	l, _ := v.([]any)
	return l
}

// binary names one side of the comparison.
type binary struct{ name, path string }

// exe runs bin in dir and returns its exit code, stdout and stderr.
func exe(t *testing.T, bin, dir string, args ...string) (int, []byte, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", bin, err)
	}
	return code, out.Bytes(), errb.String()
}

func writeJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readJSONFile(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// gaitOnlyFixtureKeys are the fixture.json fields Gait adds beside v1's.
var gaitOnlyFixtureKeys = []string{"policy", "expected_gate_verdicts", "expected_result_digests"}

func (c *diffCase) check(t *testing.T, refPath string) {
	bins := []binary{{"reference", refPath}, {"gait", gaitBin}}
	tmp := t.TempDir()
	if keep := os.Getenv("GAIT_DIFF_KEEP"); keep != "" {
		// Keep the case's files to look at: GAIT_DIFF_KEEP=/tmp/cases.
		tmp = filepath.Join(keep, fmt.Sprintf("seed_%d", c.seed))
		if err := os.RemoveAll(tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("seed %d (GAIT_DIFF_SEED=%d GAIT_DIFF_CASES=1): %s", c.seed, c.seed, fmt.Sprintf(format, args...))
	}
	writeJSONFile(t, filepath.Join(tmp, "run.json"), c.run)
	if c.candidate != nil {
		writeJSONFile(t, filepath.Join(tmp, "candidate.json"), c.candidate)
	}
	// 1. run record: same manifest digest.
	runpack := map[string]string{}
	candpack := map[string]string{}
	digests := map[string][2]string{}
	for _, b := range bins {
		out := filepath.Join(tmp, "out-"+b.name)
		var pair [2]string
		for i, in := range []string{"run.json", "candidate.json"} {
			if in == "candidate.json" && c.candidate == nil {
				continue
			}
			code, stdout, stderr := exe(t, b.path, tmp, "run", "record", "--input", in, "--out-dir", out, "--json")
			var res struct {
				ManifestDigest string `json:"manifest_digest"`
				Bundle         string `json:"bundle"`
			}
			_ = json.Unmarshal(stdout, &res)
			if code != 0 {
				fail("%s run record %s: exit %d: %s%s", b.name, in, code, stdout, stderr)
				return
			}
			pair[i] = res.ManifestDigest
			p := res.Bundle
			if !filepath.IsAbs(p) {
				p = filepath.Join(tmp, p)
			}
			if i == 0 {
				runpack[b.name] = p
			} else {
				candpack[b.name] = p
			}
		}
		digests[b.name] = pair
	}
	if digests["reference"] != digests["gait"] {
		fail("run record manifest digests differ: reference %v, gait %v", digests["reference"], digests["gait"])
		return
	}
	// 2. regress init (and add): same fixture.json on v1's fields.
	repos := map[string]string{}
	for _, b := range bins {
		dir := filepath.Join(tmp, "repo-"+b.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := exe(t, b.path, dir, "regress", "init", "--from", runpack[b.name], "--json")
		if code != 0 {
			fail("%s regress init: exit %d: %s%s", b.name, code, stdout, stderr)
			return
		}
		if c.second {
			if code, stdout, stderr := exe(t, b.path, dir, "regress", "add", "--from", candpack[b.name], "--json"); code != 0 {
				fail("%s regress add: exit %d: %s%s", b.name, code, stdout, stderr)
				return
			}
		}
		repos[b.name] = dir
	}
	name := strings.ToLower(c.run["run"].(map[string]any)["run_id"].(string))
	names := []string{name}
	if c.second {
		names = append(names, strings.ToLower(c.candidate["run"].(map[string]any)["run_id"].(string)))
	}
	for _, n := range names {
		fr := readJSONFile(t, filepath.Join(repos["reference"], "fixtures", n, "fixture.json"))
		fg := readJSONFile(t, filepath.Join(repos["gait"], "fixtures", n, "fixture.json"))
		for _, k := range gaitOnlyFixtureKeys {
			delete(fg, k)
		}
		if !reflect.DeepEqual(fr, fg) {
			fail("regress init fixture.json of %s differs:\nreference %v\ngait      %v", n, fr, fg)
		}
	}
	// 3. edit the fixtures the same way, then grade in all four
	// combinations.
	for _, b := range bins {
		c.prepare(t, repos[b.name], name, candpack[b.name])
	}
	type outcome struct {
		code   int
		fields map[string]any
		doc    []map[string]any
	}
	results := map[[2]string]outcome{}
	for _, writer := range bins {
		for _, runner := range bins {
			dir := filepath.Join(tmp, "grade-"+writer.name+"-"+runner.name)
			if err := os.CopyFS(dir, os.DirFS(repos[writer.name])); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"regress", "run", "--json"}, c.flags...)
			result := "regress_result.json"
			if c.output != "" {
				args, result = append(args, "--output", c.output), c.output
			}
			code, stdout, stderr := exe(t, runner.path, dir, args...)
			var fields map[string]any
			if err := json.Unmarshal(stdout, &fields); err != nil {
				fail("%s regress run on %s's fixtures: stdout is not JSON (%v): %s%s", runner.name, writer.name, err, stdout, stderr)
				return
			}
			o := outcome{code: code, fields: v1RunFields(fields)}
			if code == 0 || code == 5 {
				o.doc = v1Graders(readJSONFile(t, filepath.Join(dir, result)))
				if runner.name == "gait" {
					if err := validateResult(t, filepath.Join(dir, result)); err != nil {
						fail("%s regress_result.json is not valid against v1's schema: %v", runner.name, err)
					}
				}
			}
			results[[2]string{writer.name, runner.name}] = o
		}
	}
	want := results[[2]string{"reference", "reference"}]
	if c.broken != "" && want.code != 6 {
		fail("broken fixture (%s) gives exit %d under the reference, want 6", c.broken, want.code)
	}
	for key, got := range results {
		if key == [2]string{"reference", "reference"} {
			continue
		}
		what := fmt.Sprintf("fixtures by %s, run by %s (edits %s, broken %q, flags %v, reordered %v)", key[0], key[1], c.editNames(), c.broken, c.flags, c.reorder)
		if got.code != want.code {
			fail("%s: exit %d, reference %d; gait fields %v", what, got.code, want.code, got.fields)
			continue
		}
		if !reflect.DeepEqual(got.fields, want.fields) {
			fail("%s: --json fields differ:\nreference %v\ngot       %v", what, want.fields, got.fields)
		}
		if d := docDifference(want.doc, got.doc); d != "" {
			fail("%s: regress_result.json differs: %s", what, d)
		}
	}
}

func (c *diffCase) editNames() string {
	var names []string
	for _, e := range c.edits {
		names = append(names, e.what)
	}
	return strings.Join(names, ", ")
}

// prepare applies the case's edits (and breakage) to a repository.
func (c *diffCase) prepare(t *testing.T, dir, name, candidate string) {
	fdir := filepath.Join(dir, "fixtures", name)
	fpath := filepath.Join(fdir, "fixture.json")
	f := readJSONFile(t, fpath)
	for _, e := range c.edits {
		e.do(f)
	}
	if c.candidate != nil {
		data, err := os.ReadFile(candidate)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(fdir, "candidate.zip"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	switch c.broken {
	case "bad_verdict":
		f["expected_verdict_sequence"] = []any{"maybe"}
	case "negative_exit":
		f["expected_replay_exit_code"] = -1
	case "name_mismatch":
		f["name"] = "other_name"
	case "run_id_mismatch":
		f["run_id"] = "run_other"
	case "bad_context":
		f["context_conformance"] = "sometimes"
	}
	writeJSONFile(t, fpath, f)
	rp := filepath.Join(fdir, "runpack.zip")
	switch c.broken {
	case "no_fixture_json":
		_ = os.Remove(fpath)
	case "not_a_zip":
		_ = os.WriteFile(rp, []byte("not a zip"), 0o644)
	case "no_runpack":
		_ = os.Remove(rp)
	case "digest":
		// Rewrite intents.jsonl inside the zip without updating the
		// manifest: the archive is valid, its digests are not.
		tamper(t, rp)
	case "no_fixtures":
		cfg := readJSONFile(t, filepath.Join(dir, "gait.yaml"))
		cfg["fixtures"] = []any{}
		writeJSONFile(t, filepath.Join(dir, "gait.yaml"), cfg)
	}
	if c.reorder {
		cfg := readJSONFile(t, filepath.Join(dir, "gait.yaml"))
		fixtures := anyList(cfg["fixtures"])
		slices.Reverse(fixtures)
		writeJSONFile(t, filepath.Join(dir, "gait.yaml"), cfg)
	}
}

// v1RunFields keeps the fields of `regress run --json` (or its error
// envelope) that v1 defines and whose values do not depend on the
// implementation's wording.
func v1RunFields(m map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range []string{"ok", "status", "fixture_set", "graders", "failed", "top_failure_reason", "next_command",
		"artifact_paths", "output", "junit", "error_code", "error_category", "retryable"} {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

// v1Graders keeps the regress_result.json graders v1 writes, with v1's
// fields and details keys (Gait's graders carry details.grader_set).
func v1Graders(doc map[string]any) []map[string]any {
	var out []map[string]any
	for _, g := range anyList(doc["graders"]) {
		gm := g.(map[string]any)
		details, _ := gm["details"].(map[string]any)
		if details["grader_set"] == "gait" {
			continue
		}
		kept := map[string]any{"name": gm["name"], "status": gm["status"], "reason_codes": gm["reason_codes"], "context_conformance": gm["context_conformance"]}
		d := map[string]any{}
		for k, v := range details {
			if !slices.Contains([]string{"message", "diff", "first_differing_step", "fixture_file", "ticket_footer"}, k) {
				d[k] = v
			}
		}
		kept["details"] = d
		out = append(out, kept)
	}
	out = append(out, map[string]any{"created_at": doc["created_at"], "fixture_set": doc["fixture_set"], "status": doc["status"]})
	return out
}

// docDifference describes the first grader whose v1 fields differ, naming
// only the fields that differ, or "".
func docDifference(want, got []map[string]any) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d graders, reference %d: %s vs %s", len(got), len(want), graderNames(got), graderNames(want))
	}
	for i := range want {
		if reflect.DeepEqual(want[i], got[i]) {
			continue
		}
		var diffs []string
		for _, k := range sortedKeys(want[i], got[i]) {
			w, g := want[i][k], got[i][k]
			if k == "details" {
				wd, _ := w.(map[string]any)
				gd, _ := g.(map[string]any)
				for _, dk := range sortedKeys(wd, gd) {
					if !reflect.DeepEqual(wd[dk], gd[dk]) {
						diffs = append(diffs, fmt.Sprintf("details.%s: reference %s, got %s", dk, short(wd[dk]), short(gd[dk])))
					}
				}
				continue
			}
			if !reflect.DeepEqual(w, g) {
				diffs = append(diffs, fmt.Sprintf("%s: reference %s, got %s", k, short(w), short(g)))
			}
		}
		return fmt.Sprintf("grader %v: %s", want[i]["name"], strings.Join(diffs, "; "))
	}
	return ""
}

func graderNames(doc []map[string]any) string {
	var names []string
	for _, g := range doc {
		names = append(names, fmt.Sprint(g["name"]))
	}
	return strings.Join(names, ",")
}

func sortedKeys(a, b map[string]any) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// short renders a value for a report, cut to a readable length.
func short(v any) string {
	s := mustJSON(v)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

var (
	resultSchemaOnce sync.Once
	resultSchema     *jsonschema.Schema
	resultSchemaErr  error
)

// validateResult checks a regress_result.json against v1's schema.
func validateResult(t *testing.T, path string) error {
	resultSchemaOnce.Do(func() {
		resultSchema, resultSchemaErr = jsonschema.NewCompiler().Compile(need(t, "conformance/gait-v1/schemas/regress/regress_result.schema.json"))
	})
	if resultSchemaErr != nil {
		t.Fatal(resultSchemaErr)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	v, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return err
	}
	return resultSchema.Validate(v)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// tamper rewrites a runpack with one payload byte changed and its manifest
// left as it was.
func tamper(t *testing.T, path string) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "run.json" {
			data = bytes.Replace(data, []byte(`"producer_version":"`), []byte(`"producer_version":"x`), 1)
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	zr.Close()
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRegressInitFromChainMatchesReference: a fixture made from a session
// chain checkpoint carries v1's fields (session_chain, checkpoint_index)
// as the reference writes them.
func TestRegressInitFromChainMatchesReference(t *testing.T) {
	sessions := need(t, "conformance/gait-v1/artifacts/sessions")
	for _, checkpoint := range []string{"latest", "1"} {
		fixtures := map[string]map[string]any{}
		for _, b := range []binary{{"reference", referenceBin(t)}, {"gait", gaitBin}} {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(sessions)); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := exe(t, b.path, dir, "regress", "init", "--from", "./demo.journal_chain.json", "--checkpoint", checkpoint, "--json")
			if code != 0 {
				t.Fatalf("%s regress init --checkpoint %s: exit %d: %s%s", b.name, checkpoint, code, stdout, stderr)
			}
			var res struct {
				FixtureDir string `json:"fixture_dir"`
			}
			if err := json.Unmarshal(stdout, &res); err != nil {
				t.Fatal(err)
			}
			f := readJSONFile(t, filepath.Join(dir, res.FixtureDir, "fixture.json"))
			for _, k := range gaitOnlyFixtureKeys {
				delete(f, k)
			}
			fixtures[b.name] = f
		}
		if !reflect.DeepEqual(fixtures["reference"], fixtures["gait"]) {
			t.Errorf("checkpoint %s: fixture.json differs:\nreference %v\ngait      %v", checkpoint, fixtures["reference"], fixtures["gait"])
		}
	}
}
