// Package mcp puts Gait between an agent and its tools over the Model Context
// Protocol.
//
// A Proxy is an MCP server that forwards to an upstream MCP server: every
// tools/call is evaluated by the gate first and only allowed calls reach the
// upstream; every call, verdict and result is journaled and written as a
// runpack. A Replay is an MCP server that answers tools/call from a recorded
// runpack, so a new version of an agent can be run in CI against the tools as
// they answered during the recorded run, and records what that candidate did.
package mcp
