package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/exitcode"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		root.AddCommand(newApproveScriptCmd(a), newListScriptsCmd(a))
	})
}

type approveScriptOptions struct {
	policy, intent, registry, approver, patternID, ttl, scope string
	signing                                                   signingOptions
}

func newApproveScriptCmd(a *app) *cobra.Command {
	var o approveScriptOptions
	cmd := &cobra.Command{
		Use:   "approve-script --policy P --intent SCRIPT --registry R --approver ID",
		Short: "Approve a script intent in a signed registry",
		Long: `approve-script adds a signed gait.gate.approved_script_entry to an
approved-script registry: the script intent's hash and tool sequence, bound
to the policy's digest, approved by --approver until --ttl ends. An entry with
the same --pattern-id (default pattern_<first 12 hex digits of the script
hash>) is replaced.

gate eval --approved-script-registry R --approved-script-public-key K then
allows that script under that policy without evaluating it
(approved_script_match). Changing the policy or any step changes the digests,
and the entry no longer matches.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runApproveScript(a, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.policy, "policy", "", "policy YAML the approval is bound to")
	f.StringVar(&o.intent, "intent", "", "script intent JSON (gait.gate.intent_request with script.steps)")
	f.StringVar(&o.registry, "registry", "", "approved-script registry `file` to add the entry to (created when missing)")
	f.StringVar(&o.approver, "approver", "", "approver identity")
	f.StringVar(&o.patternID, "pattern-id", "", "entry id (default pattern_<script hash prefix>)")
	f.StringVar(&o.ttl, "ttl", "168h", "how long the approval lasts")
	f.StringVar(&o.scope, "scope", "", "comma-separated scope recorded with the approval")
	o.signing.registerEnv(cmd, a)
	for _, n := range []string{"policy", "intent", "registry", "approver"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

func runApproveScript(a *app, o approveScriptOptions) error {
	priv, _, err := o.signing.load()
	if err != nil {
		return err
	}
	if priv == nil {
		return exitcode.Invalidf("approved-script entries must be signed; pass --private-key K or --private-key-env VAR (create one with `gait keys init`)")
	}
	ttl, err := parseTTL(o.ttl)
	if err != nil {
		return err
	}
	policy, err := gate.LoadPolicy(o.policy)
	if err != nil {
		return err
	}
	req, err := gate.LoadIntent(o.intent, gate.ProfileStandard)
	if err != nil {
		return err
	}
	if req.Script == nil {
		return exitcode.Invalidf("%s: the intent has no script.steps; approve-script approves script intents only", o.intent)
	}
	in, err := gate.Normalize(req)
	if err != nil {
		return exitcode.Invalidf("%s: %v; fix the intent (schema gait.gate.intent_request)", o.intent, gate.IntentProblem(err))
	}
	reg, _, err := gate.ReadScriptRegistry(o.registry)
	if err != nil {
		return exitcode.Invalidf("%s: %v; pass a registry written by `gait approve-script` or a new path", o.registry, err)
	}
	e, err := gate.ApproveScript(policy, in, gate.ApproveScriptRequest{
		PatternID: o.patternID, Approver: o.approver, Scope: splitCSV(o.scope), TTL: ttl, Now: a.now(), ProducerVersion: producerVersion(),
	}, priv)
	if err != nil {
		return err
	}
	reg.Put(e)
	if err := gate.WriteScriptRegistry(o.registry, reg); err != nil {
		return fmt.Errorf("%s: cannot write registry: %w", o.registry, err)
	}
	a.emit(struct {
		OK           bool     `json:"ok"`
		PatternID    string   `json:"pattern_id"`
		RegistryPath string   `json:"registry_path"`
		PolicyDigest string   `json:"policy_digest"`
		ScriptHash   string   `json:"script_hash"`
		ToolSequence []string `json:"tool_sequence"`
		ExpiresAt    string   `json:"expires_at"`
		KeyID        string   `json:"key_id"`
	}{true, e.PatternID, o.registry, e.PolicyDigest, e.ScriptHash, e.ToolSequence, e.ExpiresAt, e.Signature.KeyID},
		kv("pattern_id", e.PatternID, "registry", o.registry, "policy_digest", e.PolicyDigest, "script_hash", e.ScriptHash,
			"tool_sequence", strings.Join(e.ToolSequence, ","), "expires_at", e.ExpiresAt,
			"next", "gait gate eval --policy "+o.policy+" --intent "+o.intent+" --approved-script-registry "+o.registry+" --approved-script-public-key "+publicKeyBeside(o.signing.private)))
	return nil
}

// scriptListEntry is one list-scripts entry.
type scriptListEntry struct {
	PatternID        string   `json:"pattern_id"`
	ApproverIdentity string   `json:"approver_identity"`
	PolicyDigest     string   `json:"policy_digest"`
	ScriptHash       string   `json:"script_hash"`
	ToolSequence     []string `json:"tool_sequence"`
	ExpiresAt        string   `json:"expires_at"`
	Expired          bool     `json:"expired"`
}

func newListScriptsCmd(a *app) *cobra.Command {
	var registry string
	cmd := &cobra.Command{
		Use:   "list-scripts --registry R",
		Short: "List the entries of an approved-script registry",
		Long: `list-scripts prints the entries of an approved-script registry, sorted by
pattern id, with their approver, bindings and whether they have expired. It
does not check signatures (gate eval does). A missing registry has no
entries.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			reg, _, err := gate.ReadScriptRegistry(registry)
			if err != nil {
				return exitcode.Invalidf("%s: %v; pass a registry written by `gait approve-script`", registry, err)
			}
			now := a.now()
			entries := make([]scriptListEntry, 0, len(reg.Entries))
			text := kv("registry", registry, "count", strconv.Itoa(len(reg.Entries)))
			reg.Sort()
			for _, e := range reg.Entries {
				expired := !now.Before(e.Expiry())
				entries = append(entries, scriptListEntry{e.PatternID, e.ApproverIdentity, e.PolicyDigest, e.ScriptHash, e.ToolSequence, e.ExpiresAt, expired})
				status := "active"
				if expired {
					status = "expired"
				}
				text = append(text, kv("pattern_id", e.PatternID, "status", status, "approver", e.ApproverIdentity,
					"expires_at", e.ExpiresAt, "tool_sequence", strings.Join(e.ToolSequence, ","))...)
			}
			a.emit(struct {
				OK       bool              `json:"ok"`
				Registry string            `json:"registry"`
				Count    int               `json:"count"`
				Entries  []scriptListEntry `json:"entries"`
			}{true, registry, len(entries), entries}, text)
			return nil
		},
	}
	cmd.Flags().StringVar(&registry, "registry", "", "approved-script registry file")
	_ = cmd.MarkFlagRequired("registry")
	return cmd
}
