package gate

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// ToolCallContext describes a recorded call for IntentFromToolCall. Empty Identity, Workspace
// and RiskClass default to "unknown", "." and "high": an unlabeled call is
// treated as high risk.
type ToolCallContext struct {
	Identity  string
	Workspace string
	RiskClass string
	Phase     string
	SessionID string
	JobID     string
	// CreatedAt is copied into the request (RFC 3339); empty leaves it
	// empty, which keeps digests and traces free of wall-clock time.
	CreatedAt string
	// Source is the provenance recorded for every argument: user (default),
	// tool_output, external or system.
	Source string
}

// Argument names recognized as targets, by target kind. Matching is by
// exact lower-cased key, also inside nested objects.
var targetArgNames = map[string][]string{
	"path":  {"path", "file", "file_path", "filepath", "filename", "dir", "directory", "src", "dst", "source_path", "target_path"},
	"url":   {"url", "uri", "endpoint", "href", "link"},
	"host":  {"host", "hostname", "domain", "destination_host"},
	"table": {"table", "table_name"},
	"repo":  {"repo", "repository"},
	"other": {"query", "sql", "command", "cmd"},
}

// IntentFromToolCall turns a recorded tool call into an intent request, so
// regress and the MCP proxy in front of an upstream server can gate calls
// that were not written as intents (the gate service's adapters build v1's
// intent instead, with no inferred targets, and call EvaluateRequest). Targets are derived from common argument names (path, file, url,
// host, table, repo, query, command, ...); a string value that parses as an
// absolute http(s) URL becomes a url target whatever its key. Every
// top-level argument gets an arg_provenance entry with ctx.Source.
//
// The result is deterministic: targets and provenance are sorted, and no
// clock is read.
func IntentFromToolCall(toolName string, args map[string]any, ctx ToolCallContext) IntentRequest {
	if args == nil {
		args = map[string]any{}
	}
	req := IntentRequest{
		SchemaID: IntentSchemaID, SchemaVersion: SchemaVersion, CreatedAt: ctx.CreatedAt, ProducerVersion: producer(""),
		ToolName: toolName, Args: args,
		Context: IntentContext{
			Identity: orDefault(ctx.Identity, "unknown"), Workspace: orDefault(ctx.Workspace, "."),
			RiskClass: orDefault(ctx.RiskClass, "high"), Phase: ctx.Phase, SessionID: ctx.SessionID, JobID: ctx.JobID,
		},
	}
	source := orDefault(ctx.Source, "user")
	keysSorted := make([]string, 0, len(args))
	for k := range args {
		keysSorted = append(keysSorted, k)
	}
	slices.Sort(keysSorted)
	for _, k := range keysSorted {
		if strings.TrimSpace(k) == "" {
			continue
		}
		req.ArgProvenance = append(req.ArgProvenance, ArgProvenance{ArgPath: "$." + k, Source: source})
	}
	collectTargets(args, &req.Targets, 0)
	slices.SortFunc(req.Targets, compareTargets)
	req.Targets = slices.Compact(req.Targets)
	if req.Targets == nil {
		req.Targets = []Target{}
	}
	return req
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

func collectTargets(v any, out *[]Target, depth int) {
	if depth > 8 {
		return
	}
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if s, ok := x.(string); ok {
				if kind := targetKindFor(strings.ToLower(strings.TrimSpace(k)), s); kind != "" {
					*out = append(*out, Target{Kind: kind, Value: strings.TrimSpace(s)})
				}
				continue
			}
			if list, ok := x.([]any); ok && targetKindFor(strings.ToLower(k), "x") != "" {
				for _, e := range list {
					if s, ok := e.(string); ok {
						if kind := targetKindFor(strings.ToLower(k), s); kind != "" {
							*out = append(*out, Target{Kind: kind, Value: strings.TrimSpace(s)})
						}
					}
				}
				continue
			}
			collectTargets(x, out, depth+1)
		}
	case []any:
		for _, x := range t {
			collectTargets(x, out, depth+1)
		}
	}
}

func targetKindFor(key, value string) string {
	if strings.TrimSpace(value) == "" {
		return ""
	}
	if u, err := url.Parse(strings.TrimSpace(value)); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return "url"
	}
	for _, kind := range []string{"path", "url", "host", "table", "repo", "other"} {
		if slices.Contains(targetArgNames[kind], key) {
			return kind
		}
	}
	return ""
}

// EvaluateToolCall gates one recorded tool call in a single step: it
// builds the intent with IntentFromToolCall, normalizes it and evaluates
// it. It is what regress's verdicts grader and the MCP proxy call:
//
//	p, err := gate.LoadPolicy("policy.yaml")
//	d, in, err := p.EvaluateToolCall("fs.delete", args, gate.ToolCallContext{Identity: "agent"})
//	if d.Verdict != gate.Allow { ... }
//
// No approval or delegation token comes with a recorded call, and no
// credential broker is configured: an allow from a rule with
// require_broker_credential is a block (broker_credential_required).
// Rate limits and destructive budgets are reported in the decision and
// counted by Limits.Apply.
//
// An intent that cannot be normalized is blocked (fail_closed_intent_invalid)
// when the policy fails closed for its risk class and is an error
// otherwise; the error never comes with an allow.
func (p *Policy) EvaluateToolCall(toolName string, args map[string]any, ctx ToolCallContext) (Decision, *Intent, error) {
	return p.EvaluateRequest(IntentFromToolCall(toolName, args, ctx))
}

// EvaluateRequest is EvaluateToolCall for an intent request the caller
// built itself (the gate service's adapters build v1's intent, with no
// inferred targets): it normalizes req and evaluates it the same way.
func (p *Policy) EvaluateRequest(req IntentRequest) (Decision, *Intent, error) {
	in, err := Normalize(req)
	if err != nil {
		if d, ok := p.InvalidIntentDecision(req.Context.RiskClass); ok {
			return d, nil, nil
		}
		return Decision{Verdict: Block, ReasonCodes: reasonIntentInvalid, Violations: violIntentInvalid}, nil, fmt.Errorf("tool call %s: %w", req.ToolName, err)
	}
	return withoutBroker(p.Evaluate(in)), in, nil
}
