package mcp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gait-dev/gait/gate"
)

const servicePolicy = `default_verdict: allow
rules:
  - name: block-drop
    priority: 1
    effect: block
    match: {tool_names: [db.drop]}
    reason_codes: [no_drop]
  - name: approve-send
    priority: 2
    effect: require_approval
    match: {tool_names: [email.send]}
    reason_codes: [needs_ok]
`

func newTestService(t *testing.T, mod func(*ServiceOptions)) *Service {
	t.Helper()
	p, err := gate.ParsePolicy([]byte(servicePolicy))
	if err != nil {
		t.Fatal(err)
	}
	o := ServiceOptions{Policy: p, Now: func() time.Time { return time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC) }}
	if mod != nil {
		mod(&o)
	}
	s, err := NewService(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func post(t *testing.T, h http.Handler, path, ctype, body string, hdr ...string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var m map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &m)
	return w, m
}

func TestServiceVerdictsAndStatuses(t *testing.T) {
	for _, strict := range []bool{false, true} {
		h := newTestService(t, func(o *ServiceOptions) { o.StrictStatus = strict }).Handler()
		for tool, want := range map[string]struct {
			verdict      string
			code, strict int
		}{"fs.read": {"allow", 0, 200}, "db.drop": {"block", 3, 403}, "email.send": {"require_approval", 4, 409}} {
			w, m := post(t, h, "/v1/evaluate", "application/json", `{"call":{"name":"`+tool+`","args":{"q":"x"}}}`)
			status := 200
			if strict {
				status = want.strict
			}
			if w.Code != status || m["verdict"] != want.verdict || m["exit_code"] != float64(want.code) || m["executed"] != false {
				t.Errorf("strict=%v %s: %d %v", strict, tool, w.Code, m)
			}
		}
	}
}

func TestServiceTransports(t *testing.T) {
	h := newTestService(t, nil).Handler()
	w, _ := post(t, h, "/v1/evaluate/sse", "application/json", `{"call":{"name":"db.drop"}}`)
	if ct := w.Header().Get("Content-Type"); ct != "text/event-stream" || !strings.HasPrefix(w.Body.String(), "event: evaluate\ndata: {") || !strings.HasSuffix(w.Body.String(), "}\n\n") {
		t.Errorf("sse: %s %q", ct, w.Body.String())
	}
	w, _ = post(t, h, "/v1/evaluate/stream", "application/json", `{"call":{"name":"db.drop"}}`)
	if ct := w.Header().Get("Content-Type"); ct != "application/x-ndjson" || strings.Count(w.Body.String(), "\n") != 1 {
		t.Errorf("ndjson: %s %q", ct, w.Body.String())
	}
	req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, req)
	if rw.Code != 200 || !strings.Contains(rw.Body.String(), `"service":"gait.mcp.serve"`) {
		t.Errorf("healthz: %d %s", rw.Code, rw.Body.String())
	}
}

// TestServiceRefusals: everything the service must refuse, with its status.
func TestServiceRefusals(t *testing.T) {
	h := newTestService(t, func(o *ServiceOptions) { o.MaxRequestBytes = 256; o.AuthToken = "s3cret" }).Handler()
	auth := []string{"Authorization", "Bearer s3cret"}
	cases := []struct {
		name, path, ctype, body string
		hdr                     []string
		status                  int
		msg                     string
	}{
		{"no token", "/v1/evaluate", "application/json", `{"call":{"name":"a"}}`, nil, 401, "missing bearer"},
		{"wrong token", "/v1/evaluate", "application/json", `{"call":{"name":"a"}}`, []string{"Authorization", "Bearer s3creT"}, 401, "invalid bearer"},
		{"not json type", "/v1/evaluate", "text/plain", `{"call":{"name":"a"}}`, auth, 415, "application/json"},
		{"not json body", "/v1/evaluate", "application/json", `call=a`, auth, 400, "decode request"},
		{"unknown field", "/v1/evaluate", "application/json", `{"call":{"name":"a"},"policy":"x"}`, auth, 400, "unknown field"},
		{"two objects", "/v1/evaluate", "application/json", `{"call":{"name":"a"}} {}`, auth, 400, "single JSON object"},
		{"no call", "/v1/evaluate", "application/json", `{}`, auth, 400, "request.call is required"},
		{"no tool", "/v1/evaluate", "application/json", `{"call":{"arguments":{}}}`, auth, 400, "tool call name"},
		{"oversize", "/v1/evaluate", "application/json", `{"call":{"name":"a","args":{"x":"` + strings.Repeat("a", 400) + `"}}}`, auth, 413, "max-request-bytes"},
		{"client trace path", "/v1/evaluate", "application/json", `{"call":{"name":"a"},"trace_path":"t.json"}`, auth, 400, "not allowed"},
		{"client runpack path", "/v1/evaluate", "application/json", `{"call":{"name":"a"},"runpack_out":"r.zip"}`, auth, 400, "not allowed"},
		{"emit pack without dir", "/v1/evaluate", "application/json", `{"call":{"name":"a"},"emit_pack":true}`, auth, 400, "--pack-dir"},
		{"bad adapter", "/v1/evaluate", "application/json", `{"call":{"name":"a"},"adapter":"cobol"}`, auth, 400, "unsupported adapter"},
	}
	for _, c := range cases {
		w, m := post(t, h, c.path, c.ctype, c.body, c.hdr...)
		if w.Code != c.status || m["ok"] != false || !strings.Contains(m["error"].(string), c.msg) {
			t.Errorf("%s: %d %v", c.name, w.Code, m)
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/v1/evaluate", nil)
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, req)
	if rw.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET evaluate: %d", rw.Code)
	}
}

func TestServiceClientPathsWhenAllowed(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	h := newTestService(t, func(o *ServiceOptions) { o.AllowClientArtifactPaths = true }).Handler()
	w, m := post(t, h, "/v1/evaluate", "application/json", `{"call":{"name":"a"},"trace_path":"../escape.json"}`)
	if w.Code != 400 {
		t.Fatalf("escaping path accepted: %d %v", w.Code, m)
	}
	w, m = post(t, h, "/v1/evaluate", "application/json", `{"call":{"name":"a"},"trace_path":"out/t.json","runpack_out":"out/r.zip"}`)
	if w.Code != 200 || m["trace_path"] != "out/t.json" || m["runpack_path"] != "out/r.zip" {
		t.Fatalf("%d %v", w.Code, m)
	}
	for _, f := range []string{"out/t.json", "out/r.zip"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestServiceArtifactsAndRetention(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	s := newTestService(t, func(o *ServiceOptions) {
		o.TraceDir, o.RunpackDir, o.PackDir, o.SessionDir = filepath.Join(dir, "t"), filepath.Join(dir, "r"), filepath.Join(dir, "p"), filepath.Join(dir, "s")
		o.TraceRetention = Retention{MaxCount: 2}
		o.Now = func() time.Time { now = now.Add(2 * time.Second); return now }
	})
	for i := 0; i < 4; i++ {
		res, err := s.Evaluate(EvaluateRequest{Call: json.RawMessage(`{"name":"fs.read","args":{"i":` + string(rune('0'+i)) + `}}`),
			EmitRunpack: true, EmitPack: true, SessionID: "sess-1"})
		if err != nil {
			t.Fatal(err)
		}
		if res.TracePath == "" || res.RunpackPath == "" || res.PackPath == "" || res.SessionJournal == "" {
			t.Fatalf("artifacts missing: %+v", res)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ents, _ := os.ReadDir(filepath.Join(dir, "t"))
		if len(ents) <= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace retention kept %d files", len(ents))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServiceMCPTrust(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "snap.json")
	if err := os.WriteFile(snap, []byte(`{"entries":[{"server_id":"good"},{"server_id":"bad","status":"revoked"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := gate.ParsePolicy([]byte("default_verdict: allow\nmcp_trust: {enabled: true, snapshot: " + snap + "}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewService(ServiceOptions{Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	for server, want := range map[string]gate.Verdict{"good": gate.Allow, "bad": gate.Block, "nobody": gate.Block} {
		res, err := s.Evaluate(EvaluateRequest{Call: json.RawMessage(`{"name":"a","server":{"server_id":"` + server + `"},"context":{"risk_class":"high"}}`)})
		if err != nil || res.Verdict != want || res.MCPTrust == nil {
			t.Errorf("%s: %v %+v", server, err, res)
		}
	}
	// Not required for a low-risk call: reported, not enforced.
	res, _ := s.Evaluate(EvaluateRequest{Call: json.RawMessage(`{"name":"a","server":{"server_id":"bad"},"context":{"risk_class":"low"}}`)})
	if res.Verdict != gate.Allow || res.MCPTrust.Enforced {
		t.Errorf("low risk: %+v", res)
	}
}

func TestCheckListen(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:8787": true, "localhost:1": true, "[::1]:9": true, "0.0.0.0:8787": false, ":8787": false, "10.0.0.1:80": false, "": false} {
		if err := CheckListen(addr, false); (err == nil) != ok {
			t.Errorf("%q: %v", addr, err)
		}
	}
	if err := CheckListen("0.0.0.0:8787", true); err != nil {
		t.Errorf("token-protected listen refused: %v", err)
	}
}

func TestAdapters(t *testing.T) {
	for adapter, call := range map[string]string{
		"mcp":         `{"name":"t","args":{"a":1}}`,
		"openai":      `{"type":"function","function":{"name":"t","arguments":"{\"a\":1}"}}`,
		"anthropic":   `{"type":"tool_use","name":"t","input":{"a":1}}`,
		"langchain":   `{"tool":"t","tool_input":{"a":1}}`,
		"claude_code": `{"hook_event_name":"PreToolUse","tool_name":"t","tool_input":{"a":1}}`,
	} {
		c, err := ParseAdapterCall(adapter, []byte(call))
		if err != nil || !bytes.Equal(c.Canonical, []byte(`{"a":1}`)) {
			t.Errorf("%s: %v %+v", adapter, err, c)
		}
	}
	if c, _ := ParseAdapterCall("claude_code", []byte(`{"tool_name":"Bash","tool_input":{}}`)); c.Tool != "tool.exec" {
		t.Errorf("claude_code Bash: %q", c.Tool)
	}
}

// FuzzDecodeEvaluateRequest: no body panics the decoder or the evaluation
// behind it, and every refusal is a RequestError with a 4xx status.
func FuzzDecodeEvaluateRequest(f *testing.F) {
	for _, seed := range []string{`{"call":{"name":"a","args":{"x":1}}}`, `{"call":{"function":{"name":"a","arguments":"{}"}},"adapter":"openai"}`,
		`{"call":{"name":"a"},"run_id":"r1","session_id":"s","emit_runpack":false}`, `{"call":null}`, `[]`, `{"call":{"name":"a","arguments":[1]}}`, "{\"call\":{\"name\":\"\\u0000\"}}"} {
		f.Add([]byte(seed))
	}
	p, err := gate.ParsePolicy([]byte(servicePolicy))
	if err != nil {
		f.Fatal(err)
	}
	s, err := NewService(ServiceOptions{Policy: p})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeEvaluateRequest(data)
		if err != nil {
			if re, ok := err.(*RequestError); !ok || re.Status < 400 || re.Status > 499 { //nolint:errorlint // the decoder returns the type itself
				t.Fatalf("refusal %T %v", err, err)
			}
			return
		}
		req.EmitRunpack, req.EmitPack, req.SessionID, req.TracePath, req.RunpackOut, req.PackOut, req.SessionJournal = false, false, "", "", "", "", ""
		res, err := s.Evaluate(req)
		if err == nil && !res.Verdict.Valid() {
			t.Fatalf("invalid verdict %q", res.Verdict)
		}
	})
}
