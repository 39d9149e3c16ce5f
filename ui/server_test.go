package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
)

// testServer is a Server over a temporary workspace holding the demo run
// and a run whose tool name carries markup.
func testServer(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	ws := t.TempDir()
	writeRun(t, ws, "gait-out/runpack_run_demo.zip", pack.DemoRecord(), "")
	rec := pack.DemoRecord()
	rec.Intents[0].ToolName = `<script>alert("x")</script>`
	writeRun(t, ws, "gait-out/runpack_run_evil.zip", rec, "run_evil")
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	opts.Workspace = ws
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.ln.Close() })
	return s, ws
}

func writeRun(t *testing.T, ws, rel string, rec *pack.RunRecord, runID string) {
	t.Helper()
	rp, err := pack.Build(rec, pack.RecordOptions{RunID: runID})
	if err != nil {
		t.Fatal(err)
	}
	if err := rp.WriteFile(filepath.Join(ws, filepath.FromSlash(rel))); err != nil {
		t.Fatal(err)
	}
}

// do sends one request to the handler as a browser on the UI's own page
// would, with the changes edit makes.
func do(t *testing.T, s *Server, method, target, body string, edit func(*http.Request)) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Host = strings.TrimPrefix(s.URL(), "http://")
	if edit != nil {
		edit(r)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	return w
}

func TestNewRefusesNonLoopback(t *testing.T) {
	_, err := New(Options{Listen: "0.0.0.0:0", Workspace: t.TempDir()})
	if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(fmt.Sprint(err), "--allow-non-loopback") {
		t.Fatalf("New on 0.0.0.0: %v, want exit 6 naming --allow-non-loopback", err)
	}
	for _, bad := range []string{"127.0.0.1", "nohost:abc:1"} {
		if _, err := New(Options{Listen: bad, Workspace: t.TempDir()}); exitcode.Of(err) != exitcode.InvalidInput {
			t.Errorf("New(--listen %s): %v, want exit 6", bad, err)
		}
	}
	s, err := New(Options{Listen: "0.0.0.0:0", AllowNonLoopback: true, Workspace: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.ln.Close()
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %s, want the loopback address", s.URL())
	}
}

func TestHostAndOriginChecks(t *testing.T) {
	s, _ := testServer(t, Options{})
	tok := func(r *http.Request) { r.Header.Set("X-Gait-Token", s.Token()) }
	cases := []struct {
		name   string
		method string
		target string
		edit   func(*http.Request)
		want   int
	}{
		{"own page", "GET", "/runs", nil, 200},
		{"health", "GET", "/api/health", nil, 200},
		{"rebound host", "GET", "/api/state", func(r *http.Request) { r.Host = "attacker.example:" + port(s) }, http.StatusMisdirectedRequest},
		{"rebound host page", "GET", "/runs", func(r *http.Request) { r.Host = "attacker.example" }, http.StatusMisdirectedRequest},
		{"localhost name", "GET", "/api/health", func(r *http.Request) { r.Host = "localhost:" + port(s) }, 200},
		{"cross-origin read of the API", "GET", "/api/state", func(r *http.Request) { r.Header.Set("Origin", "http://attacker.example") }, 403},
		{"cross-site fetch", "GET", "/api/state", func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, 403},
		{"POST without token", "POST", "/api/exec", nil, 403},
		{"POST with a wrong token", "POST", "/api/exec", func(r *http.Request) { r.Header.Set("X-Gait-Token", "00") }, 403},
		{"POST from another origin with the token", "POST", "/api/exec", func(r *http.Request) {
			tok(r)
			r.Header.Set("Origin", "http://attacker.example")
		}, 403},
		{"POST from a null origin", "POST", "/api/exec", func(r *http.Request) { tok(r); r.Header.Set("Origin", "null") }, 403},
		{"form POST from another origin", "POST", "/guided", func(r *http.Request) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Origin", "http://attacker.example")
		}, 403},
		{"same-origin POST, unknown command", "POST", "/api/exec", func(r *http.Request) {
			tok(r)
			r.Header.Set("Origin", s.URL())
		}, 400},
	}
	for _, c := range cases {
		body := ""
		if c.method == "POST" {
			body = `{"command":"rm","args":{}}`
		}
		w := do(t, s, c.method, c.target, body, c.edit)
		if w.Code != c.want {
			t.Errorf("%s: %d, want %d (%s)", c.name, w.Code, c.want, w.Body)
		}
		if w.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: answers with CORS headers", c.name)
		}
	}
}

func port(s *Server) string {
	_, p, _ := strings.Cut(s.Listen(), ":")
	return p
}

func TestExecAPIAsV1(t *testing.T) {
	s, _ := testServer(t, Options{})
	tok := func(r *http.Request) { r.Header.Set("X-Gait-Token", s.Token()) }
	if w := do(t, s, "GET", "/api/exec", "", nil); w.Code != 405 || !strings.Contains(w.Body.String(), `"expected POST"`) {
		t.Errorf("GET /api/exec: %d %s", w.Code, w.Body)
	}
	if w := do(t, s, "POST", "/api/exec", "xx", tok); w.Code != 400 || !strings.Contains(w.Body.String(), `"decode request JSON"`) {
		t.Errorf("bad JSON: %d %s", w.Code, w.Body)
	}
	w := do(t, s, "POST", "/api/exec", `{"command":"rm","args":{}}`, tok)
	if w.Code != 400 || !strings.Contains(w.Body.String(), `"error":"unsupported command \"rm\""`) || !strings.Contains(w.Body.String(), `"exit_code":6`) {
		t.Errorf("unknown command: %d %s", w.Code, w.Body)
	}
	for _, c := range []struct {
		req  execRequest
		want string
	}{
		{execRequest{Command: "demo"}, "demo --json"},
		{execRequest{Command: "verify_demo"}, "verify run_demo --json"},
		{execRequest{Command: "receipt_demo"}, "run receipt --from run_demo --json"},
		{execRequest{Command: "regress_init"}, "regress init --from run_demo --json"},
		{execRequest{Command: "regress_init", Args: map[string]string{"run_id": "run_x"}}, "regress init --from run_x --json"},
		{execRequest{Command: "regress_run"}, "regress run --json --junit ./gait-out/junit.xml"},
		{execRequest{Command: "policy_block_test"}, "policy test gait-out/policy_demo.yaml gait-out/intent_demo_delete.json --json"},
	} {
		argv, problem := s.argv(c.req)
		if got := strings.Join(argv, " "); problem != "" || got != c.want {
			t.Errorf("%s %v: %q (%s), want %q", c.req.Command, c.req.Args, got, problem, c.want)
		}
	}
	for _, bad := range []execRequest{
		{Command: "regress_init", Args: map[string]string{"run_id": "--help"}},
		{Command: "regress_init", Args: map[string]string{"run_id": "../x"}},
		{Command: "policy_block_test", Args: map[string]string{"policy_path": "/etc/passwd"}},
		{Command: "policy_block_test", Args: map[string]string{"intent_path": "../../x.json"}},
		{Command: "shell"},
	} {
		if argv, problem := s.argv(bad); problem == "" {
			t.Errorf("%s %v: allowed as %q", bad.Command, bad.Args, argv)
		}
	}
	w = do(t, s, "GET", "/api/state", "", nil)
	for _, key := range []string{`"ok":true`, `"workspace":`, `"artifacts":[{"key":"runpack"`, `"policy_paths":["gait-out/policy_demo.yaml"]`, `"default_intent_path":"gait-out/intent_demo_delete.json"`, `"gait_config_exists":false`, `"run_id":"run_demo"`} {
		if !strings.Contains(w.Body.String(), key) {
			t.Errorf("/api/state lacks %s: %s", key, w.Body)
		}
	}
}

func TestNoFileOutsideTheWorkspace(t *testing.T) {
	s, ws := testServer(t, Options{})
	outside := filepath.Join(t.TempDir(), "secret.zip")
	if err := os.WriteFile(outside, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(ws, "gait-out", "runpack_link.zip")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "notes.zip"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		"../secret.zip", "gait-out/../../secret.zip", outside, "gait-out/runpack_link.zip", "notes.zip",
		`gait-out\..\..\secret.zip`, "gait-out/%2e%2e/%2e%2e/secret.zip", "gait-out/runpack_run_demo.zip\x00.txt",
		"/etc/passwd", "gait-out",
	} {
		for _, target := range []string{"/run?path=" + url.QueryEscape(p), "/diff?a=" + url.QueryEscape(p) + "&b=gait-out/runpack_run_demo.zip", "/file?path=" + url.QueryEscape(p)} {
			w := do(t, s, "GET", target, "", nil)
			if w.Code == 200 || strings.Contains(w.Body.String(), "secret") && !strings.Contains(w.Body.String(), "secret.zip") {
				t.Errorf("%s: %d, want it refused", target, w.Code)
			}
		}
	}
	for _, target := range []string{"/assets/../go.mod", "/assets/%2e%2e/server.go", "/../../etc/passwd"} {
		w := do(t, s, "GET", target, "", nil)
		if w.Code == 200 && !strings.Contains(w.Header().Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %q", target, w.Code, w.Body.String()[:min(60, w.Body.Len())])
		}
		if strings.Contains(w.Body.String(), "package ui") || strings.Contains(w.Body.String(), "root:") {
			t.Errorf("%s served a file outside the assets", target)
		}
	}
	// A workspace file downloads, as an attachment.
	w := do(t, s, "GET", "/file?path=gait-out/runpack_run_demo.zip", "", nil)
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(w.Header().Get("Content-Disposition"), "attachment") || !strings.HasPrefix(w.Body.String(), "PK") {
		t.Errorf("download: %d %v", w.Code, w.Header())
	}
	// The symlinked runpack is not listed either.
	if w := do(t, s, "GET", "/runs", "", nil); strings.Contains(w.Body.String(), "runpack_link.zip") {
		t.Errorf("the runs list shows a symlink that leaves the workspace")
	}
}

func TestPagesRenderDataInert(t *testing.T) {
	s, _ := testServer(t, Options{})
	w := do(t, s, "GET", "/run?path=gait-out/runpack_run_evil.zip", "", nil)
	body := w.Body.String()
	if w.Code != 200 || strings.Contains(body, `<script>alert`) || !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Fatalf("run page (%d) does not escape the tool name:\n%s", w.Code, body)
	}
	if n := strings.Count(body, "<script"); n != 2 {
		t.Errorf("run page has %d script tags, want only the UI's own two", n)
	}
	w = do(t, s, "GET", "/diff?run=gait-out/runpack_run_evil.zip&run=gait-out/runpack_run_demo.zip", "", nil)
	if w.Code != 200 || strings.Contains(w.Body.String(), `<script>alert`) || !strings.Contains(w.Body.String(), `class="sbs"`) {
		t.Errorf("diff page (%d) shows markup from the run:\n%s", w.Code, w.Body)
	}
	if got := w.Header().Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'self'") {
		t.Errorf("Content-Security-Policy %q", got)
	}
}

func TestPaginationOfLargeWorkspaces(t *testing.T) {
	s, ws := testServer(t, Options{})
	rp, err := pack.Build(pack.DemoRecord(), pack.RecordOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 118 {
		if err := rp.WriteFile(filepath.Join(ws, "fixtures", fmt.Sprintf("f%03d", i), "runpack.zip")); err != nil {
			t.Fatal(err)
		}
	}
	w := do(t, s, "GET", "/runs?page=3", "", nil)
	if rows := strings.Count(w.Body.String(), `name="run"`); rows != 20 {
		t.Errorf("page 3 of 120 runs shows %d rows, want 20", rows)
	}
	if !strings.Contains(w.Body.String(), "page 3 of 3") {
		t.Errorf("no pager on the runs page")
	}

	rec := pack.DemoRecord()
	base := rec.Intents[0]
	res := rec.Results[0]
	rec.Intents, rec.Results = nil, nil
	for i := range 450 {
		in, r := base, res
		in.IntentID, r.IntentID = fmt.Sprintf("intent_%04d", i), fmt.Sprintf("intent_%04d", i)
		in.ToolName = fmt.Sprintf("tool.step%04d", i)
		rec.Intents, rec.Results = append(rec.Intents, in), append(rec.Results, r)
	}
	writeRun(t, ws, "gait-out/runpack_long.zip", rec, "long")
	w = do(t, s, "GET", "/run?path=gait-out/runpack_long.zip&page=3", "", nil)
	body := w.Body.String()
	if w.Code != 200 || strings.Count(body, `<tr id="step-`) != 50 || !strings.Contains(body, `id="step-401"`) || strings.Contains(body, `id="step-400"`) {
		t.Errorf("page 3 of a 450-step run: %d, %d steps", w.Code, strings.Count(body, `<tr id="step-`))
	}
}

func TestServeStopsWithContext(t *testing.T) {
	s, _ := testServer(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	resp, err := http.Get(s.URL() + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != `{"ok":true,"service":"gait.ui"}`+"\n" {
		t.Errorf("health: %s", b)
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
}

// TestEmptyWorkspace: every page answers in a folder with nothing in it
// yet, pointing at the first command to run.
func TestEmptyWorkspace(t *testing.T) {
	s, err := New(Options{Listen: "127.0.0.1:0", Workspace: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.ln.Close()
	for page, want := range map[string]string{
		"/": "guided first run", "/runs": "No runpacks yet", "/regress": "No <code>regress_result.json</code> yet",
		"/gate": "No gate traces", "/jobs": "No jobs", "/sessions": "No session chains", "/guided": `id="run-demo"`,
	} {
		w := do(t, s, "GET", page, "", nil)
		if w.Code != 200 || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: %d, want a page with %q", page, w.Code, want)
		}
	}
	for _, page := range []string{"/run", "/diff", "/nope"} {
		if w := do(t, s, "GET", page, "", nil); w.Code < 400 {
			t.Errorf("%s: %d, want an error page", page, w.Code)
		}
	}
}
