package mcp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gait-dev/gait/gate"
)

// MaxCallBytes bounds a one-shot call file.
const MaxCallBytes = 8 << 20

// ToolCallRequest is one tool call read from a file: v1's mcp adapter call
// ({"name", "args"} with optional targets, arg_provenance, delegation and
// context), a whole JSON-RPC tools/call request ({"params": {"name",
// "arguments"}}), or Gait's {"tool_name", "args"}.
type ToolCallRequest struct {
	Tool string
	Args map[string]any
	// Canonical is the canonical JSON of Args.
	Canonical []byte
	// Request is the intent the call is gated as, built as v1 builds it
	// (see ParseAdapterCall): no targets are inferred from argument names.
	Request gate.IntentRequest
	// Server and RiskClass are the call's "server" and context risk class
	// as written (v1's mcp adapter call only), for the policy's mcp_trust.
	Server    *gate.MCPServer
	RiskClass string
}

// ParseCall reads a one-shot tool call. name is used in errors.
func ParseCall(name string, data []byte) (ToolCallRequest, error) {
	return parseCall(name, data, false)
}

// parseCall reads a call; params marks the params of a JSON-RPC request,
// whose arguments are MCP's "arguments".
func parseCall(name string, data []byte, params bool) (ToolCallRequest, error) {
	if len(data) > MaxCallBytes {
		return ToolCallRequest{}, fmt.Errorf("%s: %d bytes is over the %d byte limit", name, len(data), MaxCallBytes)
	}
	var doc struct {
		Method    string          `json:"method"`
		Params    json.RawMessage `json:"params"`
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
		ToolName  string          `json:"tool_name"`
		Tool      string          `json:"tool"`
		Args      json.RawMessage `json:"args"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return ToolCallRequest{}, fmt.Errorf("%s: not a JSON tool call: %w", name, err)
	}
	if dec.More() {
		return ToolCallRequest{}, fmt.Errorf("%s: trailing data after the tool call; pass one JSON object", name)
	}
	if len(doc.Params) > 0 && string(doc.Params) != "null" {
		if doc.Method != "" && doc.Method != "tools/call" {
			return ToolCallRequest{}, fmt.Errorf("%s: method %q is not tools/call", name, doc.Method)
		}
		return parseCall(name, doc.Params, true)
	}
	if doc.Name != "" && !params {
		// v1's mcp adapter call: arguments are read from "args" only.
		c, err := ParseAdapterCall("mcp", data)
		if err != nil {
			return ToolCallRequest{}, fmt.Errorf("%s: %w", name, err)
		}
		return ToolCallRequest{Tool: c.Tool, Args: c.Args, Canonical: c.Canonical, Request: c.Request, Server: c.Server, RiskClass: c.Context.RiskClass}, nil
	}
	tool, raw := doc.Name, doc.Arguments
	if tool == "" {
		tool = doc.ToolName
	}
	if tool == "" {
		tool = doc.Tool
	}
	if len(raw) == 0 {
		raw = doc.Args
	}
	if tool == "" {
		return ToolCallRequest{}, fmt.Errorf(`%s: no tool name; write {"name": "<tool>", "arguments": {...}}`, name)
	}
	args, c, err := ParseArgs(raw)
	if err != nil {
		return ToolCallRequest{}, fmt.Errorf("%s: %w", name, err)
	}
	tool = strings.TrimSpace(tool)
	return ToolCallRequest{Tool: tool, Args: args, Canonical: c, Request: adapterRequest(tool, args)}, nil
}
