package regress

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/pack/packtest"
)

// failingReport runs a config with a passing and a failing fixture.
func failingReport(t *testing.T) *Report {
	t.Helper()
	cfg := newRepo(t, "alpha", "beta")
	packtest.Write(t, filepath.Join(filepath.Dir(cfg), "fixtures", "beta", "runpack.zip"), func(r *pack.RunRecord) { r.Intents[1].ToolName = "tool.delete" })
	rep, err := Run(cfg, RunOptions{ProducerVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 1 {
		t.Fatalf("%+v", rep)
	}
	return rep
}

func encodeDoc(t *testing.T, doc ResultDocument) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestReadResultRoundTrip reads a written document back into the report
// the comment is rendered from, and writes the same document again.
func TestReadResultRoundTrip(t *testing.T) {
	rep := failingReport(t)
	data := encodeDoc(t, rep.Document())
	got, err := ReadResult(bytes.NewReader(data), "regress_result.json")
	if err != nil {
		t.Fatal(err)
	}
	if again := encodeDoc(t, got.Document()); !bytes.Equal(again, data) {
		t.Errorf("read→write differs:\n%s\nwant:\n%s", again, data)
	}
	if got.Total != 2 || got.Passed != 1 || got.Failed != 1 || got.Status != StatusFail || got.FixtureSet != rep.FixtureSet {
		t.Fatalf("counts %+v", got)
	}
	beta, want := got.Fixtures[1], rep.Fixtures[1]
	if beta.Name != "beta" || beta.FixtureFile != want.FixtureFile || beta.TicketFooter != want.TicketFooter || beta.RunID != want.RunID {
		t.Errorf("fixture %+v, want %+v", beta, want)
	}
	noDetails := func(gs []GraderResult) []GraderResult {
		for i := range gs {
			gs[i].Details = nil
		}
		return gs
	}
	if !reflect.DeepEqual(noDetails(want.Failed()), noDetails(beta.Failed())) {
		t.Errorf("failing graders %+v, want %+v", beta.Failed(), want.Failed())
	}
}

// TestReadResultV1 reads a document with only the fields v1 writes: the
// fixture and its run come from each grader's details.
func TestReadResultV1(t *testing.T) {
	doc := `{"schema_id":"gait.regress.result","schema_version":"1.0.0","created_at":"2026-03-01T00:00:00Z",
	 "producer_version":"0.0.0-dev","fixture_set":"default","status":"pass","graders":[
	 {"name":"run_x/expected_exit_code","status":"pass","reason_codes":[],
	  "details":{"actual_exit_code":0,"expected_exit_code":0,"fixture":"run_x","run_id":"run_x"}},
	 {"name":"run_x/trajectory","status":"pass","reason_codes":["trajectory_match"],
	  "details":{"fixture":"run_x","run_id":"run_x","actual_tool_sequence":["tool.a"],"expected_tool_sequence":["tool.a"]}}]}`
	path := filepath.Join(t.TempDir(), "regress_result.json")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := ReadResultFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 1 || rep.Passed != 1 || rep.Fixtures[0].Name != "run_x" || rep.Fixtures[0].RunID != "run_x" {
		t.Fatalf("%+v", rep)
	}
}

func TestReadResultRefuses(t *testing.T) {
	good := encodeDoc(t, failingReport(t).Document())
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		out, _ := json.Marshal(m)
		return out
	}
	grader := func(m map[string]any, i int) map[string]any { return m["graders"].([]any)[i].(map[string]any) }
	failing := func(m map[string]any) map[string]any {
		for _, g := range m["graders"].([]any) {
			if g.(map[string]any)["status"] == "fail" {
				return g.(map[string]any)
			}
		}
		t.Fatal("no failing grader")
		return nil
	}
	huge := append([]byte(`{"schema_id":"gait.regress.result","pad":"`), bytes.Repeat([]byte("x"), MaxResultBytes)...)
	tests := []struct {
		name, want string
		data       []byte
	}{
		{"empty", "malformed JSON", nil},
		{"not JSON", "malformed JSON", []byte("<html>")},
		{"truncated", "malformed JSON", good[:len(good)/2]},
		{"two values", "more than one value", append(append([]byte{}, good...), good...)},
		{"too large", "larger than 8 MiB", huge},
		{"unknown key", `"extra"`, edit(func(m map[string]any) { m["extra"] = 1 })},
		{"other schema", `schema_id "gait.regress.config"`, edit(func(m map[string]any) { m["schema_id"] = "gait.regress.config" })},
		{"no schema", `schema_id ""`, edit(func(m map[string]any) { delete(m, "schema_id") })},
		{"major version", "unknown major version", edit(func(m map[string]any) { m["schema_version"] = "2.0.0" })},
		{"status", `status "ok"`, edit(func(m map[string]any) { m["status"] = "ok" })},
		{"no graders", "graders is missing", edit(func(m map[string]any) { delete(m, "graders") })},
		{"status disagrees", "the document was edited", edit(func(m map[string]any) { m["status"] = "pass" })},
		{"grader name", "is not <fixture>/<grader>", edit(func(m map[string]any) { grader(m, 0)["name"] = "alpha" })},
		{"fixture name", "is not <fixture>/<grader>", edit(func(m map[string]any) {
			g := grader(m, 0)
			g["name"], g["details"].(map[string]any)["fixture"] = "../x/diff", "../x"
		})},
		{"grader status", `status "error"`, edit(func(m map[string]any) { grader(m, 0)["status"] = "error" })},
		{"no reason codes", "no reason_codes", edit(func(m map[string]any) { delete(grader(m, 0), "reason_codes") })},
		{"step", "first_differing_step has the wrong type", edit(func(m map[string]any) {
			failing(m)["details"].(map[string]any)["first_differing_step"] = 1.5
		})},
		{"fixture file outside", "is not a relative path inside the repository", edit(func(m map[string]any) {
			failing(m)["details"].(map[string]any)["fixture_file"] = "../../etc/fixture.json"
		})},
		{"fixture file URL", "is not a relative path inside the repository", edit(func(m map[string]any) {
			failing(m)["details"].(map[string]any)["fixture_file"] = "https://evil.example/fixture.json"
		})},
		{"split fixture", "are not together", edit(func(m map[string]any) {
			gs := m["graders"].([]any)
			gs[0], gs[len(gs)-1] = gs[len(gs)-1], gs[0]
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadResult(bytes.NewReader(tt.data), "out/regress_result.json")
			if exitcode.Of(err) != exitcode.InvalidInput || !strings.HasPrefix(err.Error(), "out/regress_result.json: ") ||
				!strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err %v (exit %d), want one line with %q", err, exitcode.Of(err), tt.want)
			}
		})
	}
	if _, err := ReadResultFile(filepath.Join(t.TempDir(), "missing.json")); exitcode.Of(err) != exitcode.InvalidInput ||
		!strings.Contains(err.Error(), "missing.json: cannot read the result document: no such file or directory") {
		t.Fatalf("missing file: %v", err)
	}
}

// FuzzReadResult checks that any input is read or refused as bad input,
// and that what is read writes a document that reads back the same.
func FuzzReadResult(f *testing.F) {
	f.Add([]byte(`{"schema_id":"gait.regress.result","schema_version":"1.0.0","status":"pass","graders":[]}`))
	f.Add([]byte(`{"schema_id":"gait.regress.result","schema_version":"1.0.0","status":"fail","graders":[{"name":"a/b","status":"fail","reason_codes":["x"],"details":{"diff":"-a\n+b","first_differing_step":2,"fixture_file":"fixtures/a/fixture.json"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := ReadResult(bytes.NewReader(data), "r.json")
		if err != nil {
			if exitcode.Of(err) != exitcode.InvalidInput {
				t.Fatalf("exit %d: %v", exitcode.Of(err), err)
			}
			return
		}
		once, _ := json.Marshal(rep.Document())
		again, err := ReadResult(bytes.NewReader(once), "r.json")
		if err != nil {
			t.Fatalf("re-read: %v\n%s", err, once)
		}
		twice, _ := json.Marshal(again.Document())
		if !bytes.Equal(once, twice) {
			t.Fatalf("not stable:\n%s\n%s", once, twice)
		}
	})
}
