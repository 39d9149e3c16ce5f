package mcp

import (
	"testing"

	"github.com/gait-dev/gait/gate"
)

const deletePolicy = `schema_id: gait.gate.policy
schema_version: 1.0.0
default_verdict: allow
rules:
  - name: allow-deletes
    priority: 10
    effect: allow
    match: {tool_names: [fs.delete]}
`

func TestAdapterIntentHasNoInferredTargets(t *testing.T) {
	p, err := gate.ParsePolicy([]byte(deletePolicy))
	if err != nil {
		t.Fatal(err)
	}
	eval := func(adapter, call string) (gate.Decision, *gate.Intent) {
		t.Helper()
		c, err := ParseAdapterCall(adapter, []byte(call))
		if err != nil {
			t.Fatalf("%s %s: %v", adapter, call, err)
		}
		d, in, err := p.EvaluateRequest(c.Request)
		if err != nil || in == nil {
			t.Fatalf("%s %s: %v", adapter, call, err)
		}
		return d, in
	}
	// a path argument is not a target: the rule's allow stands
	d, in := eval("mcp", `{"name":"fs.delete","args":{"path":"/tmp/x.txt"}}`)
	if d.Verdict != gate.Allow || len(in.Targets) != 0 {
		t.Errorf("args path: %s %+v", d.Verdict, in.Targets)
	}
	if in.Context.Identity != "mcp-proxy" || in.Context.Workspace != "." || in.Context.RiskClass != "high" {
		t.Errorf("default context: %+v", in.Context)
	}
	// an explicit target is gated: a destructive apply needs approval
	d, _ = eval("mcp", `{"name":"fs.delete","args":{"path":"/tmp/x.txt"},"targets":[{"kind":"path","value":"/tmp/x.txt","operation":"delete"}]}`)
	if d.Verdict != gate.RequireApproval {
		t.Errorf("explicit target: %s %v", d.Verdict, d.ReasonCodes)
	}
	// MCP's "arguments" is not the mcp adapter's args key
	_, a := eval("mcp", `{"name":"fs.delete","arguments":{"path":"/tmp/x.txt"}}`)
	_, e := eval("mcp", `{"name":"fs.delete"}`)
	if a.IntentDigest != e.IntentDigest || len(a.Args) != 0 {
		t.Errorf("arguments read: %v", a.Args)
	}
	// context and provenance come from the call
	_, in = eval("mcp", `{"name":"fs.delete","args":{"path":"/x"},"arg_provenance":[{"arg_path":"$.path","source":"external"}],"context":{"identity":"alice","risk_class":"low"}}`)
	if in.Context.Identity != "alice" || in.Context.RiskClass != "low" || in.Context.Workspace != "." || len(in.ArgProvenance) != 1 {
		t.Errorf("context: %+v %+v", in.Context, in.ArgProvenance)
	}
	// the other adapters carry no context or targets
	for adapter, call := range map[string]string{
		"openai":    `{"function":{"name":"fs.delete","arguments":"{\"path\":\"/tmp/x.txt\"}"},"context":{"identity":"a"},"targets":[{"kind":"path","value":"/a"}]}`,
		"anthropic": `{"name":"fs.delete","input":{"path":"/tmp/x.txt"},"context":{"identity":"a"}}`,
		"langchain": `{"tool":"fs.delete","tool_input":"{\"path\":\"/tmp/x.txt\"}","targets":[{"kind":"path","value":"/a"}]}`,
	} {
		_, in := eval(adapter, call)
		if in.Context.Identity != "mcp-proxy" || len(in.Targets) != 0 || len(in.ArgProvenance) != 0 {
			t.Errorf("%s: %+v %+v", adapter, in.Context, in.Targets)
		}
	}
}

func TestClaudeCodeTargets(t *testing.T) {
	for _, c := range []struct{ call, tool, kind, value, op string }{
		{`{"tool_name":"Bash","tool_input":{"command":" ls "}}`, "tool.exec", "other", "ls", "execute"},
		{`{"tool_name":"Write","tool_input":{"file_path":"/w/a","content":"x"}}`, "tool.write", "path", "/w/a", "write"},
		{`{"tool_name":"Read","tool_input":{"file_path":"/a","path":"/b"}}`, "tool.read", "path", "/b", "read"},
		{`{"tool_name":"WebFetch","tool_input":{"url":"https://e.com/x"}}`, "tool.read", "url", "https://e.com/x", "read"},
		{`{"tool_name":"Task","tool_input":{"description":"d"}}`, "tool.delegate", "other", "d", "delegate"},
		{`{"tool_name":"LS","tool_input":{"path":"/w"}}`, "tool.ls", "", "", ""},
		{`{"tool_name":"fs.delete","tool_input":{"path":"/w"}}`, "fs.delete", "", "", ""},
	} {
		got, err := ParseAdapterCall("claude_code", []byte(c.call))
		if err != nil {
			t.Fatalf("%s: %v", c.call, err)
		}
		want := []gate.Target{}
		if c.kind != "" {
			want = []gate.Target{{Kind: c.kind, Value: c.value, Operation: c.op}}
		}
		if got.Tool != c.tool || len(got.Request.Targets) != len(want) || (len(want) == 1 && got.Request.Targets[0] != want[0]) {
			t.Errorf("%s: %s %+v", c.call, got.Tool, got.Request.Targets)
		}
	}
	c, err := ParseAdapterCall("claude_code", []byte(`{"tool_name":"Bash","tool_input":{},"session_id":"s1","hook_event_name":" PreToolUse "}`))
	if err != nil || c.Request.Context.SessionID != "s1" || c.Request.Context.AuthContext["hook_event_name"] != "PreToolUse" {
		t.Errorf("claude_code context: %v %+v", err, c.Request.Context)
	}
}
