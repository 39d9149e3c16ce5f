package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
)

type gateIntentOptions struct {
	tool, out, identity, workspace, riskClass, phase, sessionID, createdAt string
	args, targets, provenance                                              []string
}

func newGateIntentCmd(a *app) *cobra.Command {
	var o gateIntentOptions
	cmd := &cobra.Command{
		Use:   "intent --tool T [--arg k=v]... [--target kind:value[:operation]]... [--provenance arg=source]...",
		Short: "Write an intent request for gate eval and policy test",
		Long: `gate intent writes a gait.gate.intent_request JSON file (see docs/policy.md)
for one tool call, checks it the way gate eval reads it, and prints its digests.

--arg k=v sets args.k; v is taken as JSON when it parses (42, true, {"a":1},
"quoted") and as a string otherwise. --target kind:value[:operation] adds a
target (kind is one of bucket, host, other, path, queue, repo, table, topic,
url). --provenance arg=source says where args.arg came from (user, system,
tool_output or external). Exit 6 when the intent would not be valid.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return a.runGateIntent(o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.tool, "tool", "", "tool `name` the agent wants to call")
	f.StringArrayVar(&o.args, "arg", nil, "argument `key=value` (repeat)")
	f.StringArrayVar(&o.targets, "target", nil, "target `kind:value[:operation]` the call touches (repeat)")
	f.StringArrayVar(&o.provenance, "provenance", nil, "where an argument came from, `arg=source` (repeat)")
	f.StringVar(&o.identity, "identity", "agent", "context.identity: who asks")
	f.StringVar(&o.workspace, "workspace", ".", "context.workspace: where the call runs")
	f.StringVar(&o.riskClass, "risk-class", "low", "context.risk_class (for example low, medium, high, critical)")
	f.StringVar(&o.phase, "phase", "apply", "context.phase: plan or apply")
	f.StringVar(&o.sessionID, "session-id", "", "context.session_id")
	f.StringVar(&o.createdAt, "created-at", "", "created_at as RFC 3339 (default: now)")
	f.StringVarP(&o.out, "out", "o", "gait-out/intent.json", "intent `file` to write")
	return cmd
}

func (a *app) runGateIntent(o gateIntentOptions) error {
	if o.tool == "" {
		return exitcode.Invalidf("no tool given; pass --tool NAME")
	}
	created := a.now().UTC().Truncate(time.Second)
	if o.createdAt != "" {
		t, err := time.Parse(time.RFC3339, o.createdAt)
		if err != nil {
			return exitcode.Invalidf("--created-at %q is not RFC 3339; pass a time like 2026-03-01T09:00:00Z", o.createdAt)
		}
		created = t.UTC()
	}
	req := gate.IntentRequest{
		SchemaID: gate.IntentSchemaID, SchemaVersion: gate.SchemaVersion, CreatedAt: created.Format(time.RFC3339),
		ProducerVersion: producerVersion(), ToolName: o.tool, Args: map[string]any{}, Targets: []gate.Target{},
		Context: gate.IntentContext{Identity: o.identity, Workspace: o.workspace, RiskClass: o.riskClass, Phase: o.phase, SessionID: o.sessionID},
	}
	for _, kv := range o.args {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return exitcode.Invalidf("--arg %q is not key=value; pass --arg path=/tmp/x", kv)
		}
		req.Args[k] = argValue(v)
	}
	for _, t := range o.targets {
		kind, value, _ := strings.Cut(t, ":")
		if kind == "" || value == "" {
			return exitcode.Invalidf("--target %q is not kind:value[:operation]; pass --target path:/tmp/x:write", t)
		}
		tg := gate.Target{Kind: kind, Value: value}
		// A value may hold colons (a URL): only a known operation after
		// the last one is split off.
		if i := strings.LastIndex(value, ":"); i > 0 && isOperation(value[i+1:]) {
			tg.Value, tg.Operation = value[:i], value[i+1:]
		}
		req.Targets = append(req.Targets, tg)
	}
	for _, p := range o.provenance {
		arg, source, ok := strings.Cut(p, "=")
		if !ok || arg == "" || source == "" {
			return exitcode.Invalidf("--provenance %q is not arg=source; pass --provenance path=user", p)
		}
		if !strings.HasPrefix(arg, "$") {
			arg = "$." + arg
		}
		req.ArgProvenance = append(req.ArgProvenance, gate.ArgProvenance{ArgPath: arg, Source: source})
	}
	in, err := gate.Normalize(req)
	if err != nil {
		return exitcode.Invalidf("%s: %v; fix the flags (see gait gate intent --help)", o.out, err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(req); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(o.out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	a.emit(struct {
		OK           bool   `json:"ok"`
		Path         string `json:"path"`
		ToolName     string `json:"tool_name"`
		ArgsDigest   string `json:"args_digest"`
		IntentDigest string `json:"intent_digest"`
	}{true, o.out, in.ToolName, in.ArgsDigest, in.IntentDigest},
		kv("intent", o.out, "tool_name", in.ToolName, "args_digest", in.ArgsDigest, "intent_digest", in.IntentDigest,
			"next", "gait gate eval --policy "+localPolicy()+" --intent "+o.out))
	return nil
}

// localPolicy is a policy file here for a hint: the first of
// policies/*.yaml, else the demo policy, else a placeholder.
func localPolicy() string {
	m, _ := filepath.Glob(filepath.Join("policies", "*.yaml"))
	slices.Sort(m)
	if len(m) > 0 {
		return filepath.ToSlash(m[0])
	}
	if demo := filepath.Join(defaultOutDir, "policy_demo.yaml"); fileExists(demo) {
		return filepath.ToSlash(demo)
	}
	return "<policy.yaml>"
}

// argValue reads an --arg value as JSON when it is JSON, else as a string.
func argValue(v string) any {
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil || dec.More() {
		return v
	}
	return out
}

// isOperation reports whether s reads as a target operation.
func isOperation(s string) bool {
	switch s {
	case "read", "write", "delete", "create", "update", "list", "execute", "send", "apply":
		return true
	}
	return false
}
