package conformance_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// MCP trust and the gate service: `mcp verify` on generated server
// descriptions, policies and trust snapshots, and the HTTP gate service
// (`mcp serve --policy`) on generated calls, give the same verdicts,
// reason codes, violations, HTTP statuses and exit codes from Gait and
// from v1. Inputs are generated from fixed seeds; times in snapshots are
// far from the max_age boundaries, so the two runs (seconds apart) agree.

func exitCodeOf(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

// trustScenario writes one generated policy, snapshot and server into dir.
func trustScenario(r *rand.Rand, dir string, now time.Time) (riskClass string) {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	var pol strings.Builder
	pol.WriteString("default_verdict: allow\nmcp_trust:\n")
	pol.WriteString("  enabled: " + pick("true", "true", "true", "false") + "\n")
	pol.WriteString("  snapshot: " + pick("snap.json", "snap.json", "snap.json", "missing.json") + "\n")
	if a := pick("", "block", "require_approval"); a != "" {
		pol.WriteString("  action: " + a + "\n")
	}
	if r.IntN(2) == 0 {
		pol.WriteString("  min_score: " + pick("0.5", "0.8") + "\n")
	}
	if r.IntN(2) == 0 {
		pol.WriteString("  max_age: " + pick("24h", "48h") + "\n")
	}
	if r.IntN(3) == 0 {
		pol.WriteString("  publisher_allowlist: [" + pick("acme", "acme, initech") + "]\n")
	}
	if r.IntN(3) == 0 {
		pol.WriteString("  required_risk_classes: [" + pick("high", "low", "high, critical", "medium") + "]\n")
	}
	if r.IntN(6) == 0 {
		pol.WriteString("  require_registry: true\n")
	}
	ids := []string{"github", "GitHub", "jira", "slack", "files"}
	var entries []string
	for _, id := range ids[:1+r.IntN(len(ids)-1)] {
		if strings.EqualFold(id, "github") && id != "github" && r.IntN(2) == 0 {
			continue
		}
		fields := []string{fmt.Sprintf(`%q: %q`, pick("server_id", "server_id", "server_name"), id)}
		if s := pick("", "trusted", "Trusted", "untrusted", "revoked"); s != "" {
			fields = append(fields, fmt.Sprintf(`"status": %q`, s))
		}
		if r.IntN(3) > 0 {
			fields = append(fields, fmt.Sprintf(`"score": %s`, pick("0.3", "0.6", "0.9", "1")))
		}
		if r.IntN(3) > 0 {
			fields = append(fields, fmt.Sprintf(`"publisher": %q`, pick("acme", "ACME", "initech", "evil")))
		}
		if r.IntN(3) > 0 {
			age := []time.Duration{time.Hour, 36 * time.Hour, 100 * time.Hour}[r.IntN(3)]
			fields = append(fields, fmt.Sprintf(`"updated_at": %q`, now.Add(-age).UTC().Format(time.RFC3339)))
		}
		entries = append(entries, "{"+strings.Join(fields, ", ")+"}")
	}
	snap := `{"schema_id": "gait.mcp.trust_snapshot", "schema_version": "1.0.0", "entries": [` + strings.Join(entries, ", ") + `]}`
	switch r.IntN(12) {
	case 0:
		snap = `{"schema_version": "2.0.0", "entries": []}`
	case 1:
		snap = `{"entries": [{"server_id": "github"}, {"server_id": "GITHUB"}]}`
	case 2:
		snap = `not json`
	}
	server := fmt.Sprintf(`{%q: %q, "publisher": %q}`, pick("server_id", "server_name"), pick("github", "jira", "unknown-server", "Slack"), pick("acme", "evil"))
	for name, data := range map[string]string{"policy.yaml": pol.String(), "snap.json": snap, "server.json": server} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			panic(err)
		}
	}
	return pick("", "", "low", "high", "critical", "HIGH")
}

func runVerify(t *testing.T, bin, dir, risk string) (int, map[string]any) {
	t.Helper()
	args := []string{"mcp", "verify", "--policy", "policy.yaml", "--server", "server.json", "--json"}
	if risk != "" {
		args = append(args, "--risk-class", risk)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	code := exitCodeOf(t, err)
	var m map[string]any
	if code != 6 {
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("%s: %v: %s", bin, err, out)
		}
		delete(m, "correlation_id")
	}
	return code, m
}

func TestMCPVerifyDifferential(t *testing.T) {
	ref := referenceBin(t)
	r := rand.New(rand.NewPCG(16, 1))
	now := time.Now()
	for i := range 60 {
		dir := t.TempDir()
		risk := trustScenario(r, dir, now)
		refCode, refOut := runVerify(t, ref, dir, risk)
		gaitCode, gaitOut := runVerify(t, gaitBin, dir, risk)
		if refCode != gaitCode || !jsonEqual(refOut, gaitOut) {
			pol, _ := os.ReadFile(filepath.Join(dir, "policy.yaml"))
			snap, _ := os.ReadFile(filepath.Join(dir, "snap.json"))
			srv, _ := os.ReadFile(filepath.Join(dir, "server.json"))
			t.Errorf("scenario %d (risk %q): v1 exit %d %v\ngait exit %d %v\npolicy:\n%s\nsnapshot: %s\nserver: %s", i, risk, refCode, refOut, gaitCode, gaitOut, pol, snap, srv)
		}
	}
}

func jsonEqual(a, b map[string]any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

const servicePolicyYAML = `default_verdict: allow
mcp_trust:
  enabled: true
  snapshot: snap.json
  action: require_approval
rules:
  - name: block-secrets
    priority: 1
    effect: block
    match: {tool_names: [secrets.read]}
    reason_codes: [secrets_blocked]
    violations: [secret_access]
  - name: approve-email
    priority: 2
    effect: require_approval
    match: {tool_names: [email.send]}
    reason_codes: [email_needs_approval]
  - name: dry-writes
    priority: 3
    effect: dry_run
    match: {tool_names: [tool.write]}
  - name: high-risk-queries
    priority: 4
    effect: block
    match: {tool_names: [db.query], risk_classes: [critical]}
    reason_codes: [critical_query]
`

const serviceSnapshot = `{"entries": [{"server_id": "github", "status": "trusted"}, {"server_id": "shady", "status": "revoked"}]}`

// freePort returns a loopback address nobody listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// startService starts `mcp serve --policy` from bin in dir and waits for
// /healthz.
func startService(t *testing.T, bin, dir string, extra ...string) string {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(bin, append([]string{"mcp", "serve", "--policy", "policy.yaml", "--listen", addr}, extra...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == 200 {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not serve on %s: %s", bin, addr, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type serviceAnswer struct {
	Status      int      `json:"-"`
	Verdict     string   `json:"verdict"`
	ReasonCodes []string `json:"reason_codes"`
	Violations  []string `json:"violations"`
	ExitCode    float64  `json:"exit_code"`
	OK          bool     `json:"ok"`
	Digest      string   `json:"intent_digest"`
}

func postEval(t *testing.T, addr, path, ctype, body string) serviceAnswer {
	t.Helper()
	resp, err := http.Post("http://"+addr+path, ctype, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	data := buf.Bytes()
	if strings.HasSuffix(path, "/sse") {
		if i := bytes.Index(data, []byte("data: ")); i >= 0 {
			data = data[i+len("data: "):]
		}
	}
	var m struct {
		OK          bool     `json:"ok"`
		Verdict     string   `json:"verdict"`
		ReasonCodes []string `json:"reason_codes"`
		Violations  []string `json:"violations"`
		ExitCode    float64  `json:"exit_code"`
		Digest      string   `json:"intent_digest"`
	}
	_ = json.Unmarshal(bytes.TrimSpace(data), &m)
	return serviceAnswer{Status: resp.StatusCode, Verdict: m.Verdict, ReasonCodes: m.ReasonCodes, Violations: m.Violations, ExitCode: m.ExitCode, OK: m.OK, Digest: m.Digest}
}

// genCall is a generated tool call in one of the adapters' formats, with
// destructive tool names, path/url/host arguments, explicit targets and
// arg_provenance, with and without context.
func genCall(r *rand.Rand) (adapter, call string) {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	tool := pick("tool.read", "tool.write", "email.send", "secrets.read", "db.query", "notes.list", "fs.delete", "db.drop", "http.post", "Bash", "Write", "Read", "WebFetch", "Task")
	args := pick(`{}`, `{"path": "/tmp/report.txt"}`, `{"query": "select 1"}`, `{"to": "a@example.com", "body": "hi"}`,
		`{"url": "https://api.example.com/v1"}`, `{"host": "db.internal"}`, `{"file_path": "/etc/passwd", "content": "x"}`,
		`{"command": "rm -rf /tmp/x"}`, `{"prompt": "do it", "description": "d"}`, `{"table": "users", "path": "/w"}`)
	extra := ""
	if r.IntN(2) == 0 {
		extra += fmt.Sprintf(`, "context": {"identity": "agent-1", "workspace": "/repo", "risk_class": %q, "phase": %q, "session_id": "s1"}`,
			pick("low", "high", "critical"), pick("apply", "plan"))
	}
	if r.IntN(3) == 0 {
		extra += fmt.Sprintf(`, "targets": [{"kind": %q, "value": %q%s}]`, pick("path", "url", "host"),
			pick("/tmp/x", "https://example.com/a", "db.internal"), pick("", `, "operation": "delete"`, `, "operation": "read"`))
	}
	if r.IntN(3) == 0 {
		extra += fmt.Sprintf(`, "arg_provenance": [{"arg_path": "$.path", "source": %q}]`, pick("user", "external", "tool_output"))
	}
	if r.IntN(3) == 0 {
		extra += fmt.Sprintf(`, "server": {"server_id": %q}`, pick("github", "shady", "unknown"))
	}
	if r.IntN(4) == 0 {
		extra += `, "session_id": "cc-1"`
	}
	if r.IntN(4) == 0 {
		extra += fmt.Sprintf(`, "hook_event_name": %q`, pick("PreToolUse", " PostToolUse ", ""))
	}
	switch adapter = pick("mcp", "mcp", "mcp", "openai", "anthropic", "langchain", "claude_code"); adapter {
	case "openai":
		enc, _ := json.Marshal(args)
		call = fmt.Sprintf(`{"type": "function", "function": {"name": %q, "arguments": %s}%s}`, tool, enc, extra)
	case "anthropic":
		call = fmt.Sprintf(`{"type": "tool_use", "name": %q, "input": %s%s}`, tool, args, extra)
	case "langchain":
		call = fmt.Sprintf(`{"tool": %q, "tool_input": %s%s}`, tool, args, extra)
	case "claude_code":
		call = fmt.Sprintf(`{"tool_name": %q, "tool_input": %s%s}`, tool, args, extra)
	default:
		// v1 reads "args"; "arguments" is ignored (empty args).
		call = fmt.Sprintf(`{"name": %q, %q: %s%s}`, tool, pick("args", "args", "arguments"), args, extra)
	}
	return adapter, call
}

func TestMCPServiceDifferential(t *testing.T) {
	ref := referenceBin(t)
	for _, mode := range []string{"compat", "strict"} {
		t.Run(mode, func(t *testing.T) {
			refDir, gaitDir := t.TempDir(), t.TempDir()
			for _, dir := range []string{refDir, gaitDir} {
				for name, data := range map[string]string{"policy.yaml": servicePolicyYAML, "snap.json": serviceSnapshot} {
					if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			refAddr := startService(t, ref, refDir, "--http-verdict-status", mode)
			gaitAddr := startService(t, gaitBin, gaitDir, "--http-verdict-status", mode)
			r := rand.New(rand.NewPCG(16, 2))
			paths := []string{"/v1/evaluate", "/v1/evaluate/sse", "/v1/evaluate/stream"}
			digests := 0
			for i := range 160 {
				adapter, call := genCall(r)
				body := fmt.Sprintf(`{"adapter": %q, "call": %s}`, adapter, call)
				path := paths[r.IntN(len(paths))]
				want, got := postEval(t, refAddr, path, "application/json", body), postEval(t, gaitAddr, path, "application/json", body)
				if want.Digest != "" {
					digests++
				}
				if !sameAnswer(want, got) {
					t.Errorf("call %d %s %s:\nv1   %+v\ngait %+v", i, path, body, want, got)
				}
				if i%4 == 0 {
					// the one-shot bridge gives the same exit code
					f := filepath.Join(gaitDir, "call.json")
					if err := os.WriteFile(f, []byte(call), 0o600); err != nil {
						t.Fatal(err)
					}
					codes := [2]int{}
					var bridged [2]serviceAnswer
					for j, bin := range []string{ref, gaitBin} {
						cmd := exec.Command(bin, "mcp", "bridge", "--policy", "policy.yaml", "--adapter", adapter, "--call", "call.json", "--json")
						cmd.Dir = gaitDir
						out, err := cmd.Output()
						codes[j] = exitCodeOf(t, err)
						var m serviceAnswer
						_ = json.Unmarshal(out, &m)
						bridged[j] = m
					}
					if codes[0] != codes[1] || codes[1] != int(want.ExitCode) {
						t.Errorf("bridge %s: v1 exit %d, gait exit %d, service exit_code %v", call, codes[0], codes[1], want.ExitCode)
					}
					if bridged[0].Verdict != bridged[1].Verdict || bridged[0].Digest != bridged[1].Digest ||
						!slices.Equal(bridged[0].ReasonCodes, bridged[1].ReasonCodes) || !slices.Equal(bridged[0].Violations, bridged[1].Violations) {
						t.Errorf("bridge %s:\nv1   %+v\ngait %+v", call, bridged[0], bridged[1])
					}
					if adapter == "mcp" {
						// mcp proxy --call gates the same intent
						var proxied [2]serviceAnswer
						for j, bin := range []string{ref, gaitBin} {
							cmd := exec.Command(bin, "mcp", "proxy", "--policy", "policy.yaml", "--call", "call.json", "--json")
							cmd.Dir = gaitDir
							out, err := cmd.Output()
							_ = json.Unmarshal(out, &proxied[j])
							proxied[j].Status, proxied[j].Digest, proxied[j].ExitCode = exitCodeOf(t, err), "", 0
						}
						if !sameAnswer(proxied[0], proxied[1]) {
							t.Errorf("proxy --call %s:\nv1   %+v\ngait %+v", call, proxied[0], proxied[1])
						}
					}
				}
			}
			if digests < 80 {
				t.Errorf("only %d of 160 answers carried an intent_digest", digests)
			}
			// refusals: the same status from both
			for _, c := range []struct{ ctype, body string }{
				{"application/json", `{"call": {"name": "a"}, "unknown_field": 1}`},
				{"application/json", `not json`},
				{"text/plain", `{"call": {"name": "a"}}`},
				{"application/json", `{}`},
				{"application/json", `{"call": {"name": "a"}} {"call": {}}`},
				{"application/json", `{"call": {"name": "a"}, "trace_path": "x.json"}`},
				{"application/json", `{"call": {"name": "a"}, "runpack_out": "x.zip"}`},
				{"application/json", `{"call": {"name": "a"}, "emit_pack": true}`},
				{"application/json", `{"call": {"arguments": {}}}`},
			} {
				want, got := postEval(t, refAddr, "/v1/evaluate", c.ctype, c.body), postEval(t, gaitAddr, "/v1/evaluate", c.ctype, c.body)
				if want.Status != got.Status || want.OK != got.OK {
					t.Errorf("refusal %s %s: v1 %d, gait %d", c.ctype, c.body, want.Status, got.Status)
				}
			}
		})
	}
}

func sameAnswer(a, b serviceAnswer) bool {
	norm := func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		return s
	}
	return a.Status == b.Status && a.Verdict == b.Verdict && a.ExitCode == b.ExitCode && a.OK == b.OK && a.Digest == b.Digest &&
		slices.Equal(norm(a.ReasonCodes), norm(b.ReasonCodes)) && slices.Equal(norm(a.Violations), norm(b.Violations))
}
