package conformance_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// uiServer is a running `ui` of one binary on a fresh folder.
type uiServer struct {
	url, token string
}

func startUIOf(t *testing.T, bin string) uiServer {
	t.Helper()
	cmd := exec.Command(bin, "ui", "--listen", "127.0.0.1:0", "--open-browser=false", "--json")
	cmd.Dir = t.TempDir()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err != nil {
		t.Fatalf("%s ui printed nothing: %v", bin, err)
	}
	var res map[string]any
	if err := json.Unmarshal(line, &res); err != nil || res["ok"] != true || res["url"] == nil || res["listen"] == nil {
		t.Fatalf("%s ui --json: %s", bin, line)
	}
	s := uiServer{url: res["url"].(string)}
	// Gait's pages carry the token its API wants for commands; v1 has none.
	if resp, err := http.Get(s.url + "/guided"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := regexp.MustCompile(`name="gait-token" content="([0-9a-f]+)"`).FindSubmatch(b); m != nil {
			s.token = string(m[1])
		}
	}
	return s
}

func (s uiServer) get(t *testing.T, path string) map[string]any {
	t.Helper()
	resp, err := http.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return v
}

func (s uiServer) exec(t *testing.T, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/api/exec", bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		req.Header.Set("X-Gait-Token", s.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("POST /api/exec %s: %v", body, err)
	}
	return resp.StatusCode, v
}

func jsonKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestUIAPIAsV1 runs v1's guided flows through both binaries' /api/exec on
// fresh folders and compares the answers: /api/health the same, /api/state
// with v1's fields, and each flow with the same command, arguments, exit
// code and outcome. Gait adds a token (its pages carry it) and a stderr
// field, and its policy step works in a fresh folder (v1's needs v1's
// examples/policy files, so it exits 6 there).
func TestUIAPIAsV1(t *testing.T) {
	ref, got := startUIOf(t, referenceBin(t)), startUIOf(t, gaitBin)
	if got.token == "" {
		t.Fatal("gait ui pages carry no token")
	}
	if r, g := ref.get(t, "/api/health"), got.get(t, "/api/health"); !slices.Equal(jsonKeys(r), jsonKeys(g)) || r["service"] != g["service"] || g["ok"] != true {
		t.Errorf("/api/health: v1 %v, gait %v", r, g)
	}
	rs, gs := ref.get(t, "/api/state"), got.get(t, "/api/state")
	for _, k := range jsonKeys(rs) {
		if _, ok := gs[k]; !ok {
			t.Errorf("/api/state lacks v1's %s", k)
		}
	}
	artifactKeys := func(st map[string]any) []string {
		var out []string
		for _, a := range st["artifacts"].([]any) {
			out = append(out, a.(map[string]any)["key"].(string))
		}
		return out
	}
	if !slices.Equal(artifactKeys(rs), artifactKeys(gs)) {
		t.Errorf("/api/state artifacts: v1 %v, gait %v", artifactKeys(rs), artifactKeys(gs))
	}

	flows := []string{
		`{"command":"demo","args":{}}`,
		`{"command":"verify_demo","args":{}}`,
		`{"command":"receipt_demo","args":{}}`,
		`{"command":"regress_init","args":{"run_id":"run_demo"}}`,
		`{"command":"regress_run","args":{}}`,
		`{"command":"rm","args":{}}`,
	}
	for _, body := range flows {
		rc, rv := ref.exec(t, body)
		gc, gv := got.exec(t, body)
		if rc != gc || rv["ok"] != gv["ok"] || rv["exit_code"] != gv["exit_code"] || rv["command"] != gv["command"] {
			t.Errorf("%s: v1 %d ok=%v exit=%v, gait %d ok=%v exit=%v (%v)", body, rc, rv["ok"], rv["exit_code"], gc, gv["ok"], gv["exit_code"], gv["stderr"])
			continue
		}
		argv := func(v map[string]any) string {
			a, _ := v["argv"].([]any)
			var s []string
			for _, x := range a[min(1, len(a)):] {
				s = append(s, x.(string))
			}
			return strings.Join(s, " ")
		}
		if argv(rv) != argv(gv) {
			t.Errorf("%s: v1 runs %q, gait %q", body, argv(rv), argv(gv))
		}
		rj, _ := rv["json"].(map[string]any)
		gj, _ := gv["json"].(map[string]any)
		for _, k := range []string{"ok", "run_id", "status", "fixture_name", "manifest_digest", "ticket_footer"} {
			if rj[k] != nil && rj[k] != gj[k] {
				t.Errorf("%s: json.%s v1 %v, gait %v", body, k, rj[k], gj[k])
			}
		}
	}
	if rs := ref.get(t, "/api/state"); rs["run_id"] != got.get(t, "/api/state")["run_id"] {
		t.Errorf("/api/state run_id after the demo differs")
	}

	// The policy step: v1 needs its example files; gait writes the demo
	// policy and shows the block (exit 3).
	code, gv := got.exec(t, `{"command":"policy_block_test","args":{}}`)
	gj, _ := gv["json"].(map[string]any)
	if code != http.StatusOK || gv["exit_code"] != float64(3) || gj["verdict"] != "block" {
		t.Errorf("gait policy_block_test: %d %v", code, gv)
	}
}
