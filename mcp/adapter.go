package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/gait-dev/gait/gate"
)

// Adapters are the tool-call formats the gate service and `mcp bridge`
// read, as in v1.
var Adapters = []string{"mcp", "openai", "anthropic", "langchain", "claude_code"}

// ValidAdapter reports whether name is one of Adapters.
func ValidAdapter(name string) bool {
	for _, a := range Adapters {
		if a == name {
			return true
		}
	}
	return false
}

// AdapterCall is one tool call decoded by an adapter.
type AdapterCall struct {
	Tool string
	Args map[string]any
	// Canonical is the canonical JSON of Args.
	Canonical []byte
	// Context is the call's optional context object (identity, workspace,
	// risk_class, phase, session_id, job_id), as written.
	Context gate.ToolCallContext
	// Server is the MCP server the call goes to, when the call names it.
	Server *gate.MCPServer
	// Request is the intent the call is gated as: v1's intent for the
	// adapter, with the explicit targets and arg_provenance the call
	// carries and no targets inferred from argument names.
	Request gate.IntentRequest
}

// Defaults of an adapter call's intent context, as in v1.
const (
	adapterIdentity  = "mcp-proxy"
	adapterWorkspace = "."
	adapterRiskClass = "high"
	// adapterCreatedAt is the fixed created_at of an adapter call's intent
	// (not part of the intent digest).
	adapterCreatedAt = "1980-01-01T00:00:00Z"
	adapterProducer  = "0.0.0-dev"
)

// callContext is the optional "context" object of an mcp call.
type callContext struct {
	Identity               string         `json:"identity"`
	Workspace              string         `json:"workspace"`
	RiskClass              string         `json:"risk_class"`
	Phase                  string         `json:"phase"`
	SessionID              string         `json:"session_id"`
	JobID                  string         `json:"job_id"`
	RequestID              string         `json:"request_id"`
	AuthContext            map[string]any `json:"auth_context"`
	CredentialScopes       []string       `json:"credential_scopes"`
	EnvironmentFingerprint string         `json:"environment_fingerprint"`
}

// adapterDoc holds the fields the adapters read; unknown fields are
// ignored, as in v1.
type adapterDoc struct {
	Name      string          `json:"name"`
	Args      json.RawMessage `json:"args"`
	Input     json.RawMessage `json:"input"`
	Tool      string          `json:"tool"`
	ToolInput json.RawMessage `json:"tool_input"`
	ToolName  string          `json:"tool_name"`
	SessionID string          `json:"session_id"`
	HookEvent string          `json:"hook_event_name"`
	Function  *struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
	Targets       []gate.Target          `json:"targets"`
	ArgProvenance []gate.ArgProvenance   `json:"arg_provenance"`
	Delegation    *gate.IntentDelegation `json:"delegation"`
	Server        *gate.MCPServer        `json:"server"`
	Context       *callContext           `json:"context"`
}

// ErrNoToolName is returned for a call without a tool name.
var ErrNoToolName = errors.New("tool call name is required")

// ParseAdapterCall decodes a call in the named adapter's format, as v1
// does:
//
//	mcp          {"name", "args"} plus optional "targets", "arg_provenance",
//	             "delegation", "context" and "server"
//	openai       {"function": {"name", "arguments"}} (arguments a JSON string or object)
//	anthropic    {"name", "input"}
//	langchain    {"tool", "tool_input"} (tool_input an object or a JSON string)
//	claude_code  {"tool_name", "tool_input", "session_id", "hook_event_name"}; tool names map
//	             to tool.exec, tool.write, tool.read, …, the tool's command, file or URL is its
//	             target, and the hook event is recorded in the context's auth_context
//
// Only these keys are read: an mcp call's "arguments" (the MCP wire name)
// is ignored, as in v1, so its intent has empty args. Targets are never
// inferred from argument names (except claude_code's fixed ones). The
// context defaults to identity mcp-proxy, workspace "." and risk class
// high.
func ParseAdapterCall(adapter string, raw []byte) (AdapterCall, error) {
	var doc adapterDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return AdapterCall{}, fmt.Errorf("parse %s tool call: %w", adapter, err)
	}
	var tool string
	var args json.RawMessage
	switch adapter {
	case "mcp":
		tool, args = doc.Name, doc.Args
	case "openai":
		if doc.Function != nil {
			tool, args = doc.Function.Name, doc.Function.Arguments
			if len(args) > 0 && args[0] == '"' {
				var s string
				if err := json.Unmarshal(args, &s); err != nil {
					return AdapterCall{}, fmt.Errorf("decode openai arguments: %w", err)
				}
				if strings.TrimSpace(s) == "" {
					s = "{}"
				}
				args = json.RawMessage(s)
			}
		}
	case "anthropic":
		tool, args = doc.Name, doc.Input
	case "langchain":
		tool, args = doc.Tool, unquoteArgs(doc.ToolInput)
	case "claude_code":
		name := doc.ToolName
		if strings.TrimSpace(name) == "" {
			name = doc.Name
		}
		args = doc.ToolInput
		if len(args) == 0 || string(args) == "null" {
			args = doc.Input
		}
		tool, args = claudeCodeTool(name), unquoteArgs(args)
	default:
		return AdapterCall{}, fmt.Errorf("unsupported adapter: %s", adapter)
	}
	if strings.TrimSpace(tool) == "" {
		return AdapterCall{}, ErrNoToolName
	}
	m, c, err := ParseArgs(args)
	if err != nil {
		return AdapterCall{}, fmt.Errorf("%s tool call %s: %w", adapter, tool, err)
	}
	call := AdapterCall{Tool: strings.TrimSpace(tool), Args: m, Canonical: c}
	req := adapterRequest(call.Tool, m)
	switch adapter {
	case "mcp":
		call.Server = doc.Server
		if len(doc.Targets) > 0 {
			req.Targets = doc.Targets
		}
		req.ArgProvenance, req.Delegation = doc.ArgProvenance, doc.Delegation
		if cx := doc.Context; cx != nil {
			call.Context = gate.ToolCallContext{Identity: cx.Identity, Workspace: cx.Workspace, RiskClass: cx.RiskClass,
				Phase: cx.Phase, SessionID: cx.SessionID, JobID: cx.JobID}
			ic := &req.Context
			ic.Identity = orDefault(cx.Identity, adapterIdentity)
			ic.Workspace = orDefault(cx.Workspace, adapterWorkspace)
			ic.RiskClass = orDefault(cx.RiskClass, adapterRiskClass)
			ic.Phase, ic.SessionID, ic.JobID, ic.RequestID = cx.Phase, cx.SessionID, cx.JobID, cx.RequestID
			ic.AuthContext, ic.CredentialScopes, ic.EnvironmentFingerprint = cx.AuthContext, cx.CredentialScopes, cx.EnvironmentFingerprint
		}
	case "claude_code":
		req.Context.SessionID = doc.SessionID
		if h := strings.TrimSpace(doc.HookEvent); h != "" {
			req.Context.AuthContext = map[string]any{"adapter": "claude_code", "hook_event_name": h}
		}
		call.Context.SessionID = doc.SessionID
		req.Targets = claudeCodeTargets(call.Tool, m)
	}
	call.Request = req
	return call, nil
}

// adapterRequest is the intent v1 builds for a call with no targets,
// provenance or context.
func adapterRequest(tool string, args map[string]any) gate.IntentRequest {
	return gate.IntentRequest{SchemaID: gate.IntentSchemaID, SchemaVersion: gate.SchemaVersion, CreatedAt: adapterCreatedAt,
		ProducerVersion: adapterProducer, ToolName: tool, Args: args, Targets: []gate.Target{},
		Context: gate.IntentContext{Identity: adapterIdentity, Workspace: adapterWorkspace, RiskClass: adapterRiskClass}}
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// unquoteArgs turns arguments sent as a JSON string holding an object into
// that object (langchain and claude_code accept both).
func unquoteArgs(raw json.RawMessage) json.RawMessage {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '"' {
		return raw
	}
	var s string
	if json.Unmarshal(t, &s) != nil {
		return raw
	}
	return json.RawMessage(s)
}

// claudeCodeTargets is the target v1 gives a Claude Code call: the command
// of tool.exec, the file of tool.write and tool.read, the URL of
// tool.read, the prompt of tool.delegate.
func claudeCodeTargets(tool string, args map[string]any) []gate.Target {
	first := func(keys ...string) string {
		for _, k := range keys {
			if s, ok := args[k].(string); ok && strings.TrimSpace(s) != "" {
				return strings.TrimSpace(s)
			}
		}
		return ""
	}
	targets := []gate.Target{}
	add := func(kind, value, op string) {
		if value != "" {
			targets = append(targets, gate.Target{Kind: kind, Value: value, Operation: op})
		}
	}
	switch tool {
	case "tool.exec":
		add("other", first("command", "cmd"), "execute")
	case "tool.write":
		add("path", first("path", "file_path"), "write")
	case "tool.read":
		add("path", first("path", "file_path"), "read")
		add("url", first("url"), "read")
	case "tool.delegate":
		add("other", first("prompt", "description"), "delegate")
	}
	return targets
}

// claudeCodeTool maps a Claude Code hook's tool name to v1's gate tool
// name.
func claudeCodeTool(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return ""
	}
	switch strings.ToLower(name) {
	case "bash":
		return "tool.exec"
	case "write", "edit", "notebookedit":
		return "tool.write"
	case "read", "webfetch", "websearch", "glob", "grep":
		return "tool.read"
	case "task":
		return "tool.delegate"
	}
	if strings.Contains(name, ".") {
		return strings.ToLower(name)
	}
	return "tool." + strings.ToLower(name)
}
