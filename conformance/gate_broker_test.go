package conformance_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/gait-dev/gait/schemas"
)

// Credential brokers, script intents and approved scripts: on generated
// policies and intents (seeded), gate eval under Gait and under v1 gives
// the same exit code, verdict, reason codes, violations, matched rules,
// credential references, script fields and approved-script answers, with
// each broker mode. Registries written by either implementation's
// approve-script are accepted by both.

const brokerCases = 100

var (
	genTools    = []string{"tool.read", "tool.write", "tool.delete", "tool.fetch"}
	genEffects  = []string{"allow", "allow", "block", "require_approval", "dry_run"}
	genRefs     = []string{"", "egress", "high-risk.db"}
	genRisks    = []string{"low", "medium", "high", "critical"}
	genBrokers  = []string{"off", "stub", "env", "command"}
	genCommands = []string{"broker_ok.sh", "broker_fail.sh", "broker_noref.sh"}
)

// genPolicy is a policy of one rule per tool (some tools unmatched), each
// with a random effect and maybe a required broker credential, and maybe
// a scripts block.
func genPolicy(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("schema_id: gait.gate.policy\nschema_version: 1.0.0\n")
	fmt.Fprintf(&b, "default_verdict: %s\n", []string{"block", "allow", "require_approval"}[r.IntN(3)])
	switch r.IntN(4) {
	case 0:
		fmt.Fprintf(&b, "scripts:\n  max_steps: %d\n", 1+r.IntN(3))
	case 1:
		fmt.Fprintf(&b, "scripts:\n  require_approval_above: %d\n", 1+r.IntN(2))
	case 2:
		b.WriteString("scripts:\n  block_mixed_risk: true\n")
	}
	b.WriteString("rules:\n")
	for i, tool := range genTools {
		if r.IntN(5) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  - name: rule-%d\n    priority: %d\n    effect: %s\n", i, 10+i, genEffects[r.IntN(len(genEffects))])
		if r.IntN(2) == 0 {
			b.WriteString("    require_broker_credential: true\n")
			if ref := genRefs[r.IntN(len(genRefs))]; ref != "" {
				fmt.Fprintf(&b, "    broker_reference: %s\n", ref)
			}
			if r.IntN(2) == 0 {
				b.WriteString("    broker_scopes: [write, read]\n")
			}
		}
		fmt.Fprintf(&b, "    match:\n      tool_names: [%s]\n    reason_codes: [code_%d]\n", tool, i)
	}
	return b.String()
}

func genStep(r *rand.Rand) map[string]any {
	tool := genTools[r.IntN(len(genTools))]
	target := map[string]any{"kind": "path", "value": fmt.Sprintf("/tmp/f%d", r.IntN(3))}
	switch tool {
	case "tool.fetch":
		target = map[string]any{"kind": "url", "value": "https://example.com/x"}
	case "tool.delete":
		target["operation"] = "delete"
	case "tool.write":
		target["operation"] = "write"
	}
	return map[string]any{"tool_name": tool, "args": map[string]any{"path": target["value"]}, "targets": []any{target}}
}

// genIntent is a single call or a script of 1 to 3 steps.
func genIntent(r *rand.Rand) (string, bool) {
	doc := map[string]any{
		"schema_id": "gait.gate.intent_request", "schema_version": "1.0.0", "created_at": "2026-02-06T00:00:00Z",
		"producer_version": "conformance",
		"context":          map[string]any{"identity": []string{"alice", "bob"}[r.IntN(2)], "workspace": "/tmp/w", "risk_class": genRisks[r.IntN(len(genRisks))], "session_id": "s1"},
	}
	script := r.IntN(2) == 0
	if script {
		steps := make([]any, 1+r.IntN(3))
		for i := range steps {
			steps[i] = genStep(r)
		}
		doc["tool_name"], doc["args"], doc["targets"] = "script", map[string]any{}, []any{}
		doc["script"] = map[string]any{"steps": steps}
	} else {
		maps := genStep(r)
		for k, v := range maps {
			doc[k] = v
		}
	}
	b, _ := json.Marshal(doc)
	return string(b), script
}

// brokerOutcome is what both implementations must agree on.
type brokerOutcome struct {
	Exit               int
	OK                 bool
	Verdict            string
	ReasonCodes        []string
	Violations         []string
	MatchedRule        string
	CredentialIssuer   string
	CredentialRef      string
	Script             bool
	ScriptHash         string
	StepCount          int
	CompositeRiskClass string
	StepVerdicts       string
	PreApproved        bool
	PatternID          string
	RegistryReason     string
}

func runOutcome(t *testing.T, bin, dir string, env []string, args ...string) brokerOutcome {
	t.Helper()
	cmd := exec.Command(bin, append(args, "--json")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	o := brokerOutcome{}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		o.Exit = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	var doc struct {
		OK                 bool              `json:"ok"`
		Verdict            string            `json:"verdict"`
		ReasonCodes        []string          `json:"reason_codes"`
		Violations         []string          `json:"violations"`
		MatchedRule        string            `json:"matched_rule"`
		CredentialIssuer   string            `json:"credential_issuer"`
		CredentialRef      string            `json:"credential_ref"`
		Script             bool              `json:"script"`
		ScriptHash         string            `json:"script_hash"`
		StepCount          int               `json:"step_count"`
		CompositeRiskClass string            `json:"composite_risk_class"`
		StepVerdicts       []json.RawMessage `json:"step_verdicts"`
		PreApproved        bool              `json:"pre_approved"`
		PatternID          string            `json:"pattern_id"`
		RegistryReason     string            `json:"registry_reason"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%s %v: output %q: %v", bin, args, out, err)
	}
	steps, _ := json.Marshal(doc.StepVerdicts)
	o.OK, o.Verdict, o.ReasonCodes, o.Violations, o.MatchedRule = doc.OK, doc.Verdict, nonEmpty(doc.ReasonCodes), nonEmpty(doc.Violations), doc.MatchedRule
	o.CredentialIssuer, o.CredentialRef = doc.CredentialIssuer, doc.CredentialRef
	o.Script, o.ScriptHash, o.StepCount, o.CompositeRiskClass, o.StepVerdicts = doc.Script, doc.ScriptHash, doc.StepCount, doc.CompositeRiskClass, canonSteps(steps)
	o.PreApproved, o.PatternID, o.RegistryReason = doc.PreApproved, doc.PatternID, doc.RegistryReason
	return o
}

// canonSteps re-encodes step verdicts with sorted keys.
func canonSteps(raw []byte) string {
	var v any
	if json.Unmarshal(raw, &v) != nil || v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

const brokerScripts = `#!/bin/sh
cat > /dev/null
echo '{"credential_ref":"vault:lease/7","credential":"never-shown","ttl_seconds":60}'
`

func brokerWorkspace(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("command brokers are shell scripts here")
	}
	dir := t.TempDir()
	files := map[string]string{
		"broker_ok.sh":    brokerScripts,
		"broker_fail.sh":  "#!/bin/sh\ncat > /dev/null\necho '{\"credential_ref\":\"x\"}'\nexit 2\n",
		"broker_noref.sh": "#!/bin/sh\ncat > /dev/null\necho '{\"credential\":\"never-shown\"}'\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func writeFile(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGateBrokersMatchReference: generated policies and intents, each
// broker mode.
func TestGateBrokersMatchReference(t *testing.T) {
	ref := referenceBin(t)
	r := rand.New(rand.NewPCG(16, 1))
	gaitDir, refDir := brokerWorkspace(t), brokerWorkspace(t)
	seen := map[string]int{}
	for i := range brokerCases {
		policy := genPolicy(r)
		intent, _ := genIntent(r)
		broker := genBrokers[r.IntN(len(genBrokers))]
		args := []string{"gate", "eval", "--policy", "policy.yaml", "--intent", "intent.json", "--credential-broker", broker}
		var env []string
		switch broker {
		case "env":
			if r.IntN(3) > 0 {
				env = append(env, "GAIT_BROKER_TOKEN_EGRESS=tok-1", "GAIT_BROKER_TOKEN_HIGH_RISK_DB=tok-2", "GAIT_BROKER_TOKEN_TOOL_WRITE=tok-3")
			}
			if r.IntN(4) == 0 {
				args = append(args, "--credential-env-prefix", "OTHER_")
				env = append(env, "OTHER_EGRESS=tok-4")
			}
		case "command":
			args = append(args, "--credential-command", "./"+genCommands[r.IntN(len(genCommands))])
			if r.IntN(3) == 0 {
				args = append(args, "--credential-command-args", "a,b")
			}
		}
		if broker != "off" && r.IntN(4) == 0 {
			args = append(args, "--credential-ref", genRefs[1+r.IntN(2)])
		}
		if broker != "off" && r.IntN(4) == 0 {
			args = append(args, "--credential-scopes", "admin,read")
		}
		for _, dir := range []string{gaitDir, refDir} {
			writeFile(t, dir, "policy.yaml", policy)
			writeFile(t, dir, "intent.json", intent)
		}
		got := runOutcome(t, gaitBin, gaitDir, env, args...)
		want := runOutcome(t, ref, refDir, env, args...)
		if !equalBroker(got, want) {
			t.Errorf("case %d %v %v:\npolicy:\n%s\nintent: %s\n gait %+v\n v1   %+v", i, args, env, policy, intent, got, want)
		}
		if strings.Contains(fmt.Sprint(got), "never-shown") || strings.Contains(fmt.Sprint(got), "tok-") {
			t.Errorf("case %d: a credential value is printed: %+v", i, got)
		}
		for _, code := range got.ReasonCodes {
			seen[code]++
		}
		if got.Script {
			seen["script"]++
		}
	}
	// The generator must reach every broker outcome and script rule.
	for _, code := range []string{"broker_credential_present", "broker_credential_missing", "broker_credential_required", "script",
		"script_max_steps_exceeded", "script_step_threshold_approval", "script_mixed_risk_blocked"} {
		if seen[code] == 0 {
			t.Errorf("no generated case gave %s: %v", code, seen)
		}
	}
}

func equalBroker(a, b brokerOutcome) bool {
	return a.Exit == b.Exit && a.Verdict == b.Verdict && slices.Equal(a.ReasonCodes, b.ReasonCodes) &&
		slices.Equal(a.Violations, b.Violations) && a.MatchedRule == b.MatchedRule &&
		a.CredentialIssuer == b.CredentialIssuer && a.CredentialRef == b.CredentialRef &&
		a.Script == b.Script && a.ScriptHash == b.ScriptHash && a.StepCount == b.StepCount &&
		a.CompositeRiskClass == b.CompositeRiskClass && a.StepVerdicts == b.StepVerdicts &&
		a.PreApproved == b.PreApproved && a.PatternID == b.PatternID && a.RegistryReason == b.RegistryReason
}

// TestApprovedScriptsMatchReference: generated script intents approved by
// one implementation (alternately), evaluated by both with the registry,
// without its key, with another key, with a policy that changed, and at
// every risk class and profile.
func TestApprovedScriptsMatchReference(t *testing.T) {
	ref := referenceBin(t)
	r := rand.New(rand.NewPCG(16, 2))
	dir := brokerWorkspace(t)
	seen := map[string]int{}
	for _, prefix := range []string{"a", "b"} {
		cmd := exec.Command(gaitBin, "keys", "init", "--out-dir", "keys", "--prefix", prefix)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("keys init: %v\n%s", err, out)
		}
	}
	for i := range brokerCases {
		policy := genPolicy(r)
		var intent string
		for script := false; !script; {
			intent, script = genIntent(r)
		}
		writeFile(t, dir, "policy.yaml", policy)
		writeFile(t, dir, "intent.json", intent)
		writeFile(t, dir, "other.yaml", policy+"  - name: extra\n    priority: 99\n    effect: block\n    match:\n      tool_names: [tool.other]\n")
		reg := fmt.Sprintf("reg_%d.json", i)
		approver := []string{gaitBin, ref}[i%2]
		approve := exec.Command(approver, "approve-script", "--policy", "policy.yaml", "--intent", "intent.json", "--registry", reg,
			"--approver", "carol", "--key-mode", "prod", "--private-key", "keys/a_private.key", "--json")
		approve.Dir = dir
		if out, err := approve.CombinedOutput(); err != nil {
			t.Fatalf("case %d: %s approve-script: %v\n%s", i, approver, err, out)
		}
		base := []string{"gate", "eval", "--intent", "intent.json", "--approved-script-registry", reg}
		var args []string
		switch r.IntN(6) {
		case 0, 1:
			args = append(base, "--policy", "policy.yaml", "--approved-script-public-key", "keys/a_public.key")
		case 2:
			args = append(base, "--policy", "policy.yaml")
		case 3:
			args = append(base, "--policy", "policy.yaml", "--approved-script-public-key", "keys/b_public.key")
		case 4:
			args = append(base, "--policy", "other.yaml", "--approved-script-public-key", "keys/a_public.key")
		case 5:
			args = []string{"gate", "eval", "--intent", "intent.json", "--policy", "policy.yaml", "--approved-script-registry", "missing.json", "--approved-script-public-key", "keys/a_public.key"}
		}
		got := runOutcome(t, gaitBin, dir, nil, args...)
		want := runOutcome(t, ref, dir, nil, args...)
		if !equalBroker(got, want) {
			t.Errorf("case %d (approved by %s) %v:\npolicy:\n%s\nintent: %s\n gait %+v\n v1   %+v", i, filepath.Base(approver), args, policy, intent, got, want)
		}
		switch {
		case got.PreApproved:
			seen["pre_approved"]++
		case !got.OK:
			seen["refused"]++
		default:
			seen["evaluated_"+got.RegistryReason]++
		}
	}
	for _, k := range []string{"pre_approved", "refused", "evaluated_approved_script_not_found", "evaluated_"} {
		if seen[k] == 0 {
			t.Errorf("no generated case was %s: %v", k, seen)
		}
	}
	t.Logf("outcomes: %v", seen)
}

// TestListScriptsMatchesReference: list-scripts reads the same entries
// from a registry either implementation wrote.
func TestListScriptsMatchesReference(t *testing.T) {
	ref := referenceBin(t)
	dir := brokerWorkspace(t)
	cmd := exec.Command(gaitBin, "keys", "init", "--out-dir", "keys")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("keys init: %v\n%s", err, out)
	}
	r := rand.New(rand.NewPCG(16, 3))
	writeFile(t, dir, "policy.yaml", genPolicy(r))
	for i, bin := range []string{gaitBin, ref, gaitBin} {
		var intent string
		for script := false; !script; {
			intent, script = genIntent(r)
		}
		writeFile(t, dir, "intent.json", intent)
		c := exec.Command(bin, "approve-script", "--policy", "policy.yaml", "--intent", "intent.json", "--registry", "reg.json",
			"--approver", fmt.Sprintf("approver-%d", i), "--pattern-id", fmt.Sprintf("p%d", 2-i), "--key-mode", "prod", "--private-key", "keys/gait_private.key", "--json")
		c.Dir = dir
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%s approve-script: %v\n%s", bin, err, out)
		}
	}
	list := func(bin string) string {
		c := exec.Command(bin, "list-scripts", "--registry", "reg.json", "--json")
		c.Dir = dir
		out, err := c.Output()
		if err != nil {
			t.Fatalf("%s list-scripts: %v", bin, err)
		}
		var doc struct {
			Count   int               `json:"count"`
			Entries []json.RawMessage `json:"entries"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(doc.Entries)
		return fmt.Sprint(doc.Count, canonSteps(b))
	}
	if got, want := list(gaitBin), list(ref); got != want {
		t.Errorf("list-scripts:\n gait %s\n v1   %s", got, want)
	}
	data, err := os.ReadFile(filepath.Join(dir, "reg.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := schemas.Validate("gate/approved_script_registry", data); err != nil {
		t.Errorf("schemas/gate/approved_script_registry rejects a registry v1 wrote to: %v", err)
	}
}

// TestV1CredentialEvidenceValidates: the records v1's brokers write are
// accepted by schemas/gate/broker_credential_record.
func TestV1CredentialEvidenceValidates(t *testing.T) {
	ref := referenceBin(t)
	dir := brokerWorkspace(t)
	writeFile(t, dir, "policy.yaml", "schema_id: gait.gate.policy\nschema_version: 1.0.0\nrules:\n  - name: r\n    effect: allow\n    require_broker_credential: true\n    broker_reference: egress\n    broker_scopes: [write]\n    match: {tool_names: [tool.write]}\n")
	writeFile(t, dir, "intent.json", `{"schema_id":"gait.gate.intent_request","schema_version":"1.0.0","created_at":"2026-02-06T00:00:00Z","producer_version":"c","tool_name":"tool.write","args":{},"targets":[{"kind":"path","value":"/tmp/a"}],"context":{"identity":"alice","workspace":"/tmp/w","risk_class":"low"}}`)
	for _, broker := range [][]string{{"stub"}, {"env"}, {"command", "--credential-command", "./broker_ok.sh"}} {
		out := filepath.Join(dir, broker[0]+"_evidence.json")
		args := append([]string{"gate", "eval", "--policy", "policy.yaml", "--intent", "intent.json", "--credential-evidence-out", out, "--credential-broker"}, broker...)
		o := runOutcome(t, ref, dir, []string{"GAIT_BROKER_TOKEN_EGRESS=tok"}, args...)
		if o.Verdict != "allow" {
			t.Fatalf("v1 %v: %+v", broker, o)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := schemas.Validate("gate/broker_credential_record", data); err != nil {
			t.Errorf("schemas/gate/broker_credential_record rejects v1's %s record: %v\n%s", broker[0], err, data)
		}
	}
}

// TestScriptLimitsMatchReference: a script counts once against the rate
// limit and destructive budget of its steps' rules, as in v1.
func TestScriptLimitsMatchReference(t *testing.T) {
	ref := referenceBin(t)
	policy := limitPolicy // reads: 2 a minute; purges: a destructive budget of 1 an hour
	script := func(tools ...string) string {
		steps := make([]any, len(tools))
		for i, tool := range tools {
			target := map[string]any{"kind": "path", "value": fmt.Sprintf("/tmp/f%d", i)}
			if tool == "tool.purge" {
				target["operation"], target["destructive"] = "delete", true
			}
			steps[i] = map[string]any{"tool_name": tool, "args": map[string]any{"path": target["value"]}, "targets": []any{target}}
		}
		b, _ := json.Marshal(map[string]any{"schema_id": "gait.gate.intent_request", "schema_version": "1.0.0", "created_at": "2026-02-06T00:00:00Z",
			"producer_version": "c", "tool_name": "script", "args": map[string]any{}, "targets": []any{}, "script": map[string]any{"steps": steps},
			"context": map[string]any{"identity": "alice", "workspace": "/tmp/w", "risk_class": "low", "phase": "plan"}})
		return string(b)
	}
	dirs := []string{brokerWorkspace(t), brokerWorkspace(t)}
	for _, dir := range dirs {
		if err := os.MkdirAll(filepath.Join(dir, ".gait-out"), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, "policy.yaml", policy)
		writeFile(t, dir, "reads.json", script("tool.read", "tool.read"))
		writeFile(t, dir, "deletes.json", script("tool.purge", "tool.read"))
	}
	awayFromMinuteEdge()
	var seen []string
	for i, intent := range []string{"reads.json", "reads.json", "reads.json", "deletes.json", "deletes.json"} {
		args := []string{"gate", "eval", "--policy", "policy.yaml", "--intent", intent}
		got := runOutcome(t, gaitBin, dirs[0], nil, args...)
		want := runOutcome(t, ref, dirs[1], nil, args...)
		if !equalBroker(got, want) {
			t.Errorf("run %d (%s):\n gait %+v\n v1   %+v", i+1, intent, got, want)
		}
		seen = append(seen, got.ReasonCodes...)
	}
	for _, code := range []string{"rate_limit_exceeded", "destructive_budget_exceeded"} {
		if !slices.Contains(seen, code) {
			t.Errorf("no run gave %s: %v", code, seen)
		}
	}
}
