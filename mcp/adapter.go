package mcp

import (
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
	// risk_class, phase, session_id, job_id).
	Context gate.ToolCallContext
	// Server is the MCP server the call goes to, when the call names it.
	Server *gate.MCPServer
}

// callContext is the optional "context" object of a call.
type callContext struct {
	Identity  string `json:"identity"`
	Workspace string `json:"workspace"`
	RiskClass string `json:"risk_class"`
	Phase     string `json:"phase"`
	SessionID string `json:"session_id"`
	JobID     string `json:"job_id"`
}

// adapterDoc holds the fields every adapter reads; unknown fields are
// ignored, as in v1.
type adapterDoc struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
	Input     json.RawMessage `json:"input"`
	Tool      string          `json:"tool"`
	ToolInput json.RawMessage `json:"tool_input"`
	ToolName  string          `json:"tool_name"`
	Function  *struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
	Server  *gate.MCPServer `json:"server"`
	Context *callContext    `json:"context"`
}

// ErrNoToolName is returned for a call without a tool name.
var ErrNoToolName = errors.New("tool call name is required")

// ParseAdapterCall decodes a call in the named adapter's format:
//
//	mcp          {"name", "arguments"}
//	openai       {"function": {"name", "arguments"}} (arguments a JSON string or object)
//	anthropic    {"name", "input"} (or "arguments")
//	langchain    {"tool", "tool_input"}
//	claude_code  {"tool_name", "tool_input"}; tool names map to tool.exec, tool.write, tool.read, …
//
// An mcp call may carry "server" (server_id, server_name, publisher) and
// "context" (identity, workspace, risk_class, phase, session_id, job_id);
// as in v1, the other formats' calls have neither.
func ParseAdapterCall(adapter string, raw []byte) (AdapterCall, error) {
	var doc adapterDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return AdapterCall{}, fmt.Errorf("parse %s tool call: %w", adapter, err)
	}
	var tool string
	var args json.RawMessage
	switch adapter {
	case "mcp":
		tool, args = doc.Name, doc.Arguments
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
		if len(args) == 0 {
			args = doc.Arguments
		}
	case "langchain":
		tool, args = doc.Tool, doc.ToolInput
	case "claude_code":
		tool, args = claudeCodeTool(doc.ToolName), doc.ToolInput
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
	if adapter != "mcp" {
		// As in v1, only MCP calls name their server and context.
		return call, nil
	}
	call.Server = doc.Server
	if cx := doc.Context; cx != nil {
		call.Context = gate.ToolCallContext{Identity: cx.Identity, Workspace: cx.Workspace, RiskClass: cx.RiskClass,
			Phase: cx.Phase, SessionID: cx.SessionID, JobID: cx.JobID}
	}
	return call, nil
}

// claudeCodeTool maps a Claude Code hook's tool name to v1's gate tool
// name.
func claudeCodeTool(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return ""
	}
	switch name {
	case "Bash":
		return "tool.exec"
	case "Write", "Edit", "NotebookEdit":
		return "tool.write"
	case "Read", "WebFetch", "WebSearch", "Glob", "Grep":
		return "tool.read"
	case "Task":
		return "tool.delegate"
	}
	return "tool." + strings.ToLower(name)
}
