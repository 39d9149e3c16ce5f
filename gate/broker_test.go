package gate

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/schemas"
)

const brokerPolicy = `
default_verdict: block
rules:
  - name: brokered-write
    priority: 10
    effect: allow
    require_broker_credential: true
    broker_reference: egress
    broker_scopes: [write, read]
    match: {tool_names: [tool.write]}
    reason_codes: [write_ok]
  - name: reviewed-write
    priority: 20
    effect: require_approval
    require_broker_credential: true
    match: {tool_names: [tool.other]}
    reason_codes: [needs_review]
`

var brokerNow = time.Date(2026, 2, 6, 10, 0, 0, 0, time.UTC)

func brokerEnv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// brokerScript writes an executable shell script and returns its path.
func brokerScript(t *testing.T, body string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("command broker scripts are shell scripts")
	}
	path := filepath.Join(t.TempDir(), "broker.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEnforceBroker(t *testing.T) {
	const secret = "s3cr3t-value-never-shown"
	ok := brokerScript(t, `cat > /dev/null; echo '{"credential_ref":"vault:lease/1","credential":"`+secret+`","expires_at":"2027-01-01T00:00:00Z","ttl_seconds":60}'`)
	cases := []struct {
		name      string
		opts      BrokerOptions
		verdict   Verdict
		reasons   []string
		ref       string
		errSubstr string
	}{
		{"off", BrokerOptions{Kind: "off"}, Block, []string{CodeBrokerCredentialRequired, "write_ok"}, "", ""},
		{"stub", BrokerOptions{Kind: "stub"}, Allow, []string{CodeBrokerCredentialPresent, "write_ok"}, "stub:", ""},
		{"env set", BrokerOptions{Kind: "env", Getenv: brokerEnv(map[string]string{"GAIT_BROKER_TOKEN_EGRESS": secret})}, Allow, []string{CodeBrokerCredentialPresent, "write_ok"}, "env:GAIT_BROKER_TOKEN_EGRESS:", ""},
		{"env prefix and ref", BrokerOptions{Kind: "env", EnvPrefix: "MY_", Reference: "high-risk.egress", Getenv: brokerEnv(map[string]string{"MY_HIGH_RISK_EGRESS": secret})}, Allow, []string{CodeBrokerCredentialPresent, "write_ok"}, "env:MY_HIGH_RISK_EGRESS:", ""},
		{"env unset", BrokerOptions{Kind: "env", Getenv: brokerEnv(nil)}, Block, []string{CodeBrokerCredentialMissing, "write_ok"}, "", "GAIT_BROKER_TOKEN_EGRESS is empty or unset"},
		{"env blank", BrokerOptions{Kind: "env", Getenv: brokerEnv(map[string]string{"GAIT_BROKER_TOKEN_EGRESS": "  "})}, Block, []string{CodeBrokerCredentialMissing, "write_ok"}, "", "empty or unset"},
		{"command", BrokerOptions{Kind: "command", Command: ok}, Allow, []string{CodeBrokerCredentialPresent, "write_ok"}, "vault:lease/1", ""},
		{"command fails", BrokerOptions{Kind: "command", Command: brokerScript(t, `echo '{"credential_ref":"x"}'; echo `+secret+` >&2; exit 3`)}, Block, []string{CodeBrokerCredentialMissing, "write_ok"}, "", "exited with status 3"},
		{"command no ref", BrokerOptions{Kind: "command", Command: brokerScript(t, `echo '{"credential":"`+secret+`"}'`)}, Block, []string{CodeBrokerCredentialMissing, "write_ok"}, "", "no credential_ref"},
		{"command not json", BrokerOptions{Kind: "command", Command: brokerScript(t, `echo `+secret)}, Block, []string{CodeBrokerCredentialMissing, "write_ok"}, "", "not a JSON object"},
		{"command expired", BrokerOptions{Kind: "command", Command: brokerScript(t, `echo '{"credential_ref":"x","expires_at":"2020-01-01T00:00:00Z"}'`)}, Block, []string{CodeBrokerCredentialMissing, "write_ok"}, "", "expired"},
		{"command timeout", BrokerOptions{Kind: "command", Timeout: 200 * time.Millisecond, Command: brokerScript(t, `sleep 5; echo '{"credential_ref":"x"}'`)}, Block, []string{CodeBrokerCredentialMissing, "write_ok"}, "", "did not answer within 200ms"},
		{"command oversize", BrokerOptions{Kind: "command", MaxOutput: 64, Command: brokerScript(t, `head -c 100 /dev/zero | tr '\0' ' '; echo '{"credential_ref":"x"}'`)}, Block, []string{CodeBrokerCredentialMissing, "write_ok"}, "", "more than 64 bytes"},
	}
	p := mustPolicy(t, brokerPolicy)
	in := mustIntent(t, baseIntent())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := NewBroker(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			out := p.Enforce(in, EnforceOptions{Now: func() time.Time { return brokerNow }, Broker: b})
			if time.Since(start) > 3*time.Second {
				t.Errorf("broker took %s", time.Since(start))
			}
			if out.Verdict != tc.verdict || !slices.Equal(out.ReasonCodes, tc.reasons) {
				t.Fatalf("got %s %v, want %s %v (%s)", out.Verdict, out.ReasonCodes, tc.verdict, tc.reasons, out.BrokerError)
			}
			if tc.verdict == Block && !slices.Equal(out.Violations, []string{ViolationBrokerCredentialMissing}) {
				t.Errorf("violations = %v", out.Violations)
			}
			if !strings.Contains(out.BrokerError, tc.errSubstr) {
				t.Errorf("broker error %q does not say %q", out.BrokerError, tc.errSubstr)
			}
			if strings.Contains(out.BrokerError, secret) {
				t.Errorf("broker error shows the secret: %s", out.BrokerError)
			}
			if tc.ref == "" {
				if out.Credential != nil {
					t.Fatalf("credential issued: %+v", out.Credential)
				}
				return
			}
			c := out.Credential
			if c == nil || !strings.HasPrefix(c.Ref, tc.ref) {
				t.Fatalf("credential = %+v, want ref %s…", c, tc.ref)
			}
			rec := NewCredentialRecord(in, "trace1", *c, "test")
			doc, err := json.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(doc), secret) {
				t.Fatalf("record holds the secret: %s", doc)
			}
			if err := schemas.Validate("gate/broker_credential_record", doc); err != nil {
				t.Fatalf("record does not validate: %v\n%s", err, doc)
			}
		})
	}
}

// TestBrokerOnlyForAllow: the broker is asked only for an allow; an
// unapproved require_approval stays require_approval and a block stays a
// block, with no credential.
func TestBrokerOnlyForAllow(t *testing.T) {
	p := mustPolicy(t, brokerPolicy)
	req := baseIntent()
	req.ToolName = "tool.other"
	b, _ := NewBroker(BrokerOptions{Kind: "stub"})
	out := p.Enforce(mustIntent(t, req), EnforceOptions{Broker: b})
	if out.Verdict != RequireApproval || out.Credential != nil {
		t.Fatalf("got %s, credential %v", out.Verdict, out.Credential)
	}
}

// TestStubAndEnvRefs pins the references Gait v1 gives for the same
// request, so evidence written by either names the same credential.
func TestStubAndEnvRefs(t *testing.T) {
	req := BrokerRequest{ToolName: "tool.read", Identity: "alice", Workspace: "/w", Reference: "egress", Scope: []string{"read", "write"}}
	stub, _ := NewBroker(BrokerOptions{Kind: "stub"})
	c, err := stub.Issue(context.Background(), req)
	if err != nil || c.Ref != "stub:b4b117d1a89401b733b02c59" || c.TTLSeconds != 300 {
		t.Fatalf("stub = %+v, %v", c, err)
	}
	env, _ := NewBroker(BrokerOptions{Kind: "env", Getenv: brokerEnv(map[string]string{"GAIT_BROKER_TOKEN_EGRESS": " s3cr3t "})})
	c, err = env.Issue(context.Background(), req)
	if err != nil || c.Ref != "env:GAIT_BROKER_TOKEN_EGRESS:4e738ca5563c06cf" {
		t.Fatalf("env = %+v, %v", c, err)
	}
	// no reference: the tool name names the variable
	req.Reference = ""
	env, _ = NewBroker(BrokerOptions{Kind: "env", Getenv: brokerEnv(map[string]string{"GAIT_BROKER_TOKEN_TOOL_READ": "x"})})
	if c, err = env.Issue(context.Background(), req); err != nil || c.Ref != "env:GAIT_BROKER_TOKEN_TOOL_READ:2d711642b726b044" {
		t.Fatalf("env by tool = %+v, %v", c, err)
	}
}

func TestEnvKey(t *testing.T) {
	for in, want := range map[string]string{"egress": "EGRESS", "high-risk.egress v2": "HIGH_RISK_EGRESS_V2", "a--b": "A__B", "-a-": "A", "Ä b": "B", "---": ""} {
		if got := EnvKey(in); got != want {
			t.Errorf("EnvKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCommandAllowed(t *testing.T) {
	cases := []struct {
		cmd, list string
		want      bool
	}{
		{"./b.sh", "", true},
		{"./b.sh", "./b.sh", true},
		{"./b.sh", "b.sh", true},
		{"/opt/x/b.sh", "b.sh", true},
		{"/opt/x/../x/b.sh", "/opt/x/b.sh", true},
		{"/opt/x/b.sh", "/opt/y/other, /opt/x/b.sh", true},
		{"./b.sh", "/opt/x/b.sh", false},
		{"/opt/x/b.sh", "/opt/x", false},
		{"/opt/x/b.sh", "/opt/x/", false},
		{"/opt/x/b.sh", "c.sh", false},
		{"/opt/x/b.sh", " , ", false}, // set but naming nothing: nothing runs
	}
	for _, tc := range cases {
		if got := CommandAllowed(tc.cmd, tc.list); got != tc.want {
			t.Errorf("CommandAllowed(%q, %q) = %v, want %v", tc.cmd, tc.list, got, tc.want)
		}
	}
}

func TestNewBrokerRefuses(t *testing.T) {
	cases := []struct {
		name string
		opts BrokerOptions
	}{
		{"unknown kind", BrokerOptions{Kind: "vault"}},
		{"command without program", BrokerOptions{Kind: "command"}},
		{"command not allowlisted", BrokerOptions{Kind: "command", Command: "/opt/b.sh", Getenv: brokerEnv(map[string]string{BrokerCommandAllowlistEnv: "/opt/other.sh"})}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewBroker(tc.opts)
			if exitcode.Of(err) != exitcode.InvalidInput {
				t.Fatalf("err = %v, want invalid input", err)
			}
		})
	}
	if b, err := NewBroker(BrokerOptions{Kind: ""}); b != nil || err != nil {
		t.Fatalf("empty kind = %v, %v; want off", b, err)
	}
}

// TestBrokerRequestOnStdin: the command broker reads v1's request shape.
func TestBrokerRequestOnStdin(t *testing.T) {
	dir := t.TempDir()
	got := filepath.Join(dir, "req.json")
	cmd := brokerScript(t, `cat > `+got+`; echo "$1 $2" > `+got+`.args; echo '{"credential_ref":"r"}'`)
	b, err := NewBroker(BrokerOptions{Kind: "command", Command: cmd, CommandArgs: []string{"--a", "b"}, Scopes: []string{"x", " read"}})
	if err != nil {
		t.Fatal(err)
	}
	p := mustPolicy(t, brokerPolicy)
	req := baseIntent()
	req.Context.SessionID = "s1"
	out := p.Enforce(mustIntent(t, req), EnforceOptions{Broker: b})
	if out.Verdict != Allow {
		t.Fatalf("verdict %s: %s", out.Verdict, out.BrokerError)
	}
	data, _ := os.ReadFile(got)
	want := `{"ToolName":"tool.write","Identity":"alice","Workspace":"/work/a","SessionID":"s1","RequestID":"","Reference":"egress","Scope":["read","write","x"]}`
	if string(data) != want {
		t.Errorf("stdin = %s\nwant    %s", data, want)
	}
	if args, _ := os.ReadFile(got + ".args"); string(args) != "--a b\n" {
		t.Errorf("args = %q", args)
	}
}

func TestParseBrokerOutput(t *testing.T) {
	cases := []struct {
		out     string
		wantErr string
	}{
		{`{"credential_ref":"r"}`, ""},
		{`  {"credential_ref":"r","unknown":1}` + "\n", ""},
		{`{"credential_ref":"r","ttl_seconds":-1}`, "negative"},
		{`{"credential_ref":"r","issued_at":"bad"}`, "issued_at"},
		{`{"credential_ref":"r","expires_at":"bad"}`, "expires_at"},
		{`{"credential_ref":"r"} {"x":1}`, "more than one"},
		{`{"credential_ref":" "}`, "no credential_ref"},
		{`[]`, "not a JSON object"},
		{``, "not a JSON object"},
	}
	for _, tc := range cases {
		_, err := ParseBrokerOutput([]byte(tc.out), Credential{})
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.out, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: err = %v, want %q", tc.out, err, tc.wantErr)
		}
		var be *BrokerError
		if err != nil && !errors.As(err, &be) {
			t.Errorf("%s: %T is not a *BrokerError", tc.out, err)
		}
	}
}

// FuzzParseBrokerOutput: a broker's output never panics the parser, an
// accepted one has a credential reference, and an error never echoes the
// output (it may hold a secret).
func FuzzParseBrokerOutput(f *testing.F) {
	for _, s := range []string{`{"credential_ref":"r"}`, `{"credential_ref":"r","issued_at":"2026-01-01T00:00:00Z","expires_at":"2027-01-01T00:00:00Z","ttl_seconds":60}`, `{"credential":"SECRETVALUE"}`, `SECRETVALUE`, `{"credential_ref":"r"} 1`, `{"ttl_seconds":1e99}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseBrokerOutput(data, Credential{})
		if err != nil {
			if len(data) >= 8 && strings.Contains(err.Error(), string(data)) {
				t.Fatalf("error echoes the output: %v", err)
			}
			return
		}
		if strings.TrimSpace(c.Ref) == "" || c.TTLSeconds < 0 {
			t.Fatalf("accepted %+v", c)
		}
	})
}
