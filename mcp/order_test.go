package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// reverseUpstream serves tool "step" whose n-th call (arg n of 1..3) answers
// only after call n+1 has answered, so answers come back 3, 2, 1.
func reverseUpstream(t *testing.T) sdk.Transport {
	t.Helper()
	answered := map[int]chan struct{}{1: make(chan struct{}), 2: make(chan struct{}), 3: make(chan struct{})}
	srv := sdk.NewServer(&sdk.Implementation{Name: "reverse", Version: "1"}, nil)
	type in struct {
		N int `json:"n"`
	}
	sdk.AddTool(srv, &sdk.Tool{Name: "step"}, func(ctx context.Context, _ *sdk.CallToolRequest, a in) (*sdk.CallToolResult, any, error) {
		if next, ok := answered[a.N+1]; ok {
			select {
			case <-next:
			case <-time.After(5 * time.Second):
				return nil, nil, fmt.Errorf("call %d never came", a.N+1)
			}
		}
		defer close(answered[a.N])
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: fmt.Sprint("done ", a.N)}}}, nil, nil
	})
	st, ct := sdk.NewInMemoryTransports()
	ss, err := srv.Connect(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	return ct
}

// TestProxyRecordsPipelinedCallsInIssueOrder pipelines three calls over one
// connection; the upstream answers them in reverse, and the recording still
// lists them in the order the agent issued them.
func TestProxyRecordsPipelinedCallsInIssueOrder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rec, err := NewRecorder(RecorderOptions{Dir: dir, RunID: "run_order", Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewProxy(ctx, reverseUpstream(t), ProxyOptions{Recorder: rec, Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	st, ct := sdk.NewInMemoryTransports()
	ss, err := p.Server().Connect(ctx, p.Transport(st), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	conn, err := ct.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	write := func(id int64, method string, params any) {
		t.Helper()
		b, _ := json.Marshal(params)
		var msg jsonrpc.Message
		if id == 0 {
			msg = &jsonrpc.Request{Method: method, Params: b}
		} else {
			rid, _ := jsonrpc.MakeID(float64(id))
			msg = &jsonrpc.Request{ID: rid, Method: method, Params: b}
		}
		if err := conn.Write(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	read := func() *jsonrpc.Response {
		t.Helper()
		for {
			msg, err := conn.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r, ok := msg.(*jsonrpc.Response); ok {
				return r
			}
		}
	}
	write(100, "initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "agent", "version": "1"}})
	read()
	write(0, "notifications/initialized", map[string]any{})
	for n := 1; n <= 3; n++ {
		write(int64(n), "tools/call", map[string]any{"name": "step", "arguments": map[string]any{"n": n}})
	}
	var answers []string
	for range 3 {
		r := read()
		if r.Error != nil {
			t.Fatalf("call %v: %v", r.ID, r.Error)
		}
		answers = append(answers, fmt.Sprint(r.ID.Raw()))
	}
	if fmt.Sprint(answers) != "[3 2 1]" {
		t.Logf("answers came back %v (the upstream answers in reverse)", answers)
	}
	if err := p.FlushRecording(); err != nil {
		t.Fatal(err)
	}
	path, err := rec.Close()
	if err != nil {
		t.Fatal(err)
	}
	rp, err := OpenRecording(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range rp.Intents {
		got = append(got, string(in.Args))
	}
	want := []string{`{"n":1}`, `{"n":2}`, `{"n":3}`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("recorded args %v, want issue order %v", got, want)
	}
	for i, r := range rp.Results {
		if r.IntentID != rp.Intents[i].IntentID {
			t.Fatalf("result %d belongs to %s, want %s", i, r.IntentID, rp.Intents[i].IntentID)
		}
	}
}
