package mcp

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/pack"
)

func digestOf(b []byte) string { return digest.Bytes(b) }

func recording(t testing.TB) *pack.Runpack {
	t.Helper()
	text := func(s string) json.RawMessage {
		return json.RawMessage(`{"content":[{"type":"text","text":"` + s + `"}]}`)
	}
	rec := &pack.RunRecord{
		Run: pack.Run{RunID: "run_replay", CreatedAt: "2026-03-01T10:00:00Z", ProducerVersion: "test",
			Env: json.RawMessage(`{"arch":"x","os":"x","runtime":"go"}`), Timeline: json.RawMessage(`[]`)},
		Intents: []pack.Intent{
			{IntentID: "i1", ToolName: "poll", Args: json.RawMessage(`{"job":"j1"}`)},
			{IntentID: "i2", ToolName: "poll", Args: json.RawMessage(`{"job":"j1"}`)},
			{IntentID: "i3", ToolName: "pay", Args: json.RawMessage(`{"amount":5,"token":"[redacted]"}`)},
		},
		Results: []pack.Result{
			{IntentID: "i1", Status: "ok", Result: text("pending")},
			{IntentID: "i2", Status: "ok", Result: text("done")},
			{IntentID: "i3", Status: "ok", Result: text("paid")},
		},
	}
	rp, err := pack.Build(rec, pack.RecordOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rp
}

func connectReplay(t testing.TB, r *Replay) *sdk.ClientSession {
	t.Helper()
	return connectInMemory(t, r.Server(), "candidate")
}

func TestReplayAnswersInOrderAndRecordsUnexpected(t *testing.T) {
	r := NewReplay(recording(t), ReplayOptions{})
	cs := connectReplay(t, r)
	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil || len(tools.Tools) != 2 {
		t.Fatalf("tools/list: %v %d", err, len(tools.Tools))
	}
	for i, want := range []string{"pending", "done"} {
		if got, isErr := callText(t, cs, "poll", map[string]any{"job": "j1"}); got != want || isErr {
			t.Fatalf("poll #%d: %q, want %q", i+1, got, want)
		}
	}
	if got, isErr := callText(t, cs, "poll", map[string]any{"job": "j1"}); !isErr || !strings.Contains(got, "unexpected") {
		t.Fatalf("third poll: %q", got)
	}
	if got, isErr := callText(t, cs, "nope", nil); !isErr || !strings.Contains(got, "no recorded answer") {
		t.Fatalf("unknown tool: %q", got)
	}
	calls := r.Calls()
	if len(calls) != 4 || calls[0].Step != 1 || calls[1].Step != 2 || calls[2].Step != 0 || calls[3].Step != 0 {
		t.Fatalf("calls %+v", calls)
	}
	if u := r.Unused(); len(u) != 1 || u[0] != 3 {
		t.Fatalf("unused %v", u)
	}
	// A redacted recorded value matches whatever the candidate sends.
	if got, isErr := callText(t, cs, "pay", map[string]any{"amount": 5, "token": "sk-anything"}); got != "paid" || isErr {
		t.Fatalf("pay: %q", got)
	}
}

func TestMatchModes(t *testing.T) {
	rec := map[string]any{"a": json.Number("1"), "req": "r1", "nested": map[string]any{"ts": "t1", "k": "v"}}
	for _, c := range []struct {
		mode string
		args string
		want bool
	}{
		{"exact", `{"a":1,"req":"r1","nested":{"ts":"t1","k":"v"}}`, true},
		{"exact", `{"a":1.0,"req":"r1","nested":{"k":"v","ts":"t1"}}`, true},
		{"exact", `{"a":2,"req":"r1","nested":{"ts":"t1","k":"v"}}`, false},
		{"ignore-args:$.req,$.nested.ts", `{"a":1,"req":"r2","nested":{"ts":"t2","k":"v"}}`, true},
		{"ignore-args:$.req", `{"a":1,"req":"r2","nested":{"ts":"t2","k":"v"}}`, false},
		{"tool-name", `{}`, true},
	} {
		m, err := ParseMatch(c.mode)
		if err != nil {
			t.Fatal(err)
		}
		args, canon, err := ParseArgs(json.RawMessage(c.args))
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Matches("t", clone(rec), "", "t", args, canon); got != c.want {
			t.Errorf("%s %s: %v, want %v", c.mode, c.args, got, c.want)
		}
	}
	for _, bad := range []string{"fuzzy", "ignore-args:", "ignore-args:$.a[x]"} {
		if _, err := ParseMatch(bad); err == nil {
			t.Errorf("ParseMatch(%q) accepted", bad)
		}
	}
}

func TestRedactPaths(t *testing.T) {
	paths, err := ParsePaths([]string{"$.card.number,$.items[*].token", "secret"})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := decodeJSON([]byte(`{"card":{"number":"4111","exp":"12/30"},"items":[{"token":"a"},{"token":"b","x":1}],"secret":"s","keep":"k"}`))
	if !redact(v, paths) {
		t.Fatal("nothing redacted")
	}
	got := string(canonical(v))
	want := `{"card":{"exp":"12/30","number":"[redacted]"},"items":[{"token":"[redacted]"},{"token":"[redacted]","x":1}],"keep":"k","secret":"[redacted]"}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestRecorderReferenceModeKeepsUnredactedDigest(t *testing.T) {
	dir := t.TempDir()
	paths, _ := ParsePaths([]string{"$.token"})
	for _, mode := range []string{pack.CaptureReference, pack.CaptureRaw} {
		rec, err := NewRecorder(RecorderOptions{Dir: dir, RunID: "run_" + mode, CaptureMode: mode, Redact: paths, Now: fixedClock()})
		if err != nil {
			t.Fatal(err)
		}
		args := json.RawMessage(`{"token":"sk-1","x":1}`)
		if err := rec.Add(Call{Tool: "t", Args: args, Result: json.RawMessage(`{"content":[]}`)}); err != nil {
			t.Fatal(err)
		}
		path, err := rec.Close()
		if err != nil {
			t.Fatal(err)
		}
		rp, err := pack.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		in := rp.Intents[0]
		if strings.Contains(string(in.Args), "sk-1") {
			t.Fatalf("%s: secret stored: %s", mode, in.Args)
		}
		_, canon, _ := ParseArgs(args)
		wantDigest := digestOf(canon)
		if mode == pack.CaptureRaw {
			wantDigest = digestOf(in.Args)
		}
		if in.ArgsDigest != wantDigest {
			t.Fatalf("%s: args_digest %s, want %s", mode, in.ArgsDigest, wantDigest)
		}
	}
}
