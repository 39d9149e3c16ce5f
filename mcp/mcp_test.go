package mcp

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/pack"
)

// bins holds the test binaries built once for the package.
var bins struct {
	dir        string
	testserver string
	gait       string
	agent      string
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gait-mcp-test")
	if err != nil {
		panic(err)
	}
	bins.dir = dir
	bins.testserver = filepath.Join(dir, "testserver")
	bins.gait = filepath.Join(dir, "gait")
	bins.agent = filepath.Join(dir, "agent")
	for _, b := range [][2]string{{bins.testserver, "./internal/testserver"}, {bins.gait, "../cmd/gait"}, {bins.agent, "../examples/agents/scripted"}} {
		out, err := exec.Command("go", "build", "-o", b[0], b[1]).CombinedOutput()
		if err != nil {
			os.RemoveAll(dir)
			panic(string(out))
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fixedClock returns a clock that starts at 2026-03-01T10:00:00Z and moves
// one second per reading; concurrent calls (pipelined requests) may read it.
func fixedClock() func() time.Time {
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var readings atomic.Int64
	return func() time.Time {
		return start.Add(time.Duration(readings.Add(1)) * time.Second)
	}
}

func loadPolicy(t testing.TB) *gate.Policy {
	t.Helper()
	p, err := gate.LoadPolicy(filepath.Join("testdata", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startProxy starts the test upstream behind a proxy and returns a client
// session connected to the proxy in memory.
func startProxy(t testing.TB, opts ProxyOptions, logPath string) (*Proxy, *sdk.ClientSession) {
	t.Helper()
	ctx := context.Background()
	up := &sdk.CommandTransport{Command: exec.Command(bins.testserver, "-log", logPath)}
	p, err := NewProxy(ctx, up, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, connectInMemory(t, p.Server(), "test-agent")
}

// connectInMemory connects a client named name to server over in-memory
// transports; both ends close when the test ends.
func connectInMemory(t testing.TB, server *sdk.Server, name string) *sdk.ClientSession {
	t.Helper()
	ctx := context.Background()
	st, ct := sdk.NewInMemoryTransports()
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := sdk.NewClient(&sdk.Implementation{Name: name, Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func callText(t testing.TB, cs *sdk.ClientSession, tool string, args any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

func TestProxyGatesRecordsAndNeverForwardsBlocked(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "upstream.log")
	paths, err := ParsePaths([]string{"$.api_token"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := NewRecorder(RecorderOptions{Dir: dir, RunID: "run_proxy_test", Redact: paths, Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	p, cs := startProxy(t, ProxyOptions{Policy: loadPolicy(t), Recorder: rec, Now: fixedClock()}, logPath)

	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tools.Tools) != 4 {
		t.Fatalf("tools/list passed %d tools, want 4", len(tools.Tools))
	}
	if txt, isErr := callText(t, cs, "lookup_order", map[string]any{"order_id": "A1"}); isErr || !strings.Contains(txt, "delivered") {
		t.Fatalf("lookup_order: %q %v", txt, isErr)
	}
	if txt, isErr := callText(t, cs, "refund", map[string]any{"order_id": "A1", "amount": 42.5, "api_token": "sk-secret"}); isErr || !strings.Contains(txt, "refunded 42.50") {
		t.Fatalf("refund: %q %v", txt, isErr)
	}
	txt, isErr := callText(t, cs, "delete_account", map[string]any{"customer": "c-9"})
	if !isErr || !strings.Contains(txt, "verdict=block") || !strings.Contains(txt, "destructive_tool_blocked") {
		t.Fatalf("delete_account answer %q (error %v), want a tool error naming verdict and reason codes", txt, isErr)
	}
	if got := p.Stats(); got.Forwarded != 2 || got.Withheld != 1 {
		t.Fatalf("stats %+v", got)
	}
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(log), "delete_account") {
		t.Fatalf("blocked call reached the upstream:\n%s", log)
	}
	if n := strings.Count(string(log), "\n"); n != 2 {
		t.Fatalf("upstream ran %d calls, want 2:\n%s", n, log)
	}

	path, err := rec.Close()
	if err != nil {
		t.Fatal(err)
	}
	rp, err := pack.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rp.ToolSequence(), ","); got != "lookup_order,refund,delete_account" {
		t.Fatalf("recorded %s", got)
	}
	if rp.Run.CreatedAt != "2026-03-01T10:00:01Z" {
		t.Fatalf("created_at %s, want the first call's time", rp.Run.CreatedAt)
	}
	if strings.Contains(string(rp.Intents[1].Args), "sk-secret") || !strings.Contains(string(rp.Intents[1].Args), Redacted) {
		t.Fatalf("token not redacted: %s", rp.Intents[1].Args)
	}
	var blocked map[string]any
	res, _ := rp.ResultFor(rp.Intents[2].IntentID)
	if err := json.Unmarshal(res.Result, &blocked); err != nil || blocked["verdict"] != "block" || res.Status != "error" {
		t.Fatalf("blocked result %s (%s)", res.Result, res.Status)
	}
	journal, err := os.ReadFile(filepath.Join(dir, "runpack_run_proxy_test.journal.jsonl"))
	if err != nil || strings.Count(string(journal), "\n") != 3 || strings.Contains(string(journal), "sk-secret") {
		t.Fatalf("journal: %v\n%s", err, journal)
	}
}
