package conformance_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gait-dev/gait/schemas"
)

// The gate service's production controls against v1: the emergency-stop
// check of a call's job (--job-root), the context envelope
// (--context-envelope, also on gate eval) and the decision exports
// (--export-log-out, --export-otel-out), on generated calls, jobs and
// envelopes, for mcp serve --policy (compat and strict) and mcp bridge.

const controlsPolicy = `default_verdict: allow
rules:
  - name: block-secrets
    priority: 1
    effect: block
    match: {tool_names: [secrets.read]}
    reason_codes: [secrets_blocked]
    violations: [secret_access]
  - name: approve-email
    priority: 2
    effect: require_approval
    match: {tool_names: [email.send]}
  - name: ctx-docs
    priority: 3
    effect: allow
    match: {tool_names: [docs.write]}
    require_context_evidence: true
  - name: ctx-mode
    priority: 4
    effect: allow
    match: {tool_names: [docs.publish]}
    required_context_evidence_mode: required
  - name: ctx-fresh
    priority: 5
    effect: allow
    match: {tool_names: [docs.read]}
    max_context_age_seconds: 60
`

// fullAnswer is a service or bridge answer with the fields compared.
type fullAnswer struct {
	Status       int      `json:"-"`
	OK           bool     `json:"ok"`
	Verdict      string   `json:"verdict"`
	ReasonCodes  []string `json:"reason_codes"`
	Violations   []string `json:"violations"`
	ExitCode     float64  `json:"exit_code"`
	JobID        string   `json:"job_id"`
	SessionID    string   `json:"session_id"`
	IntentDigest string   `json:"intent_digest"`
	Warnings     []string `json:"warnings"`
	LogExport    string   `json:"log_export"`
	OTelExport   string   `json:"otel_export"`
	Relationship *struct {
		ParentRef  map[string]string   `json:"parent_ref"`
		EntityRefs []map[string]string `json:"entity_refs"`
		AgentChain []map[string]string `json:"agent_chain"`
		Edges      []json.RawMessage   `json:"edges"`
	} `json:"relationship"`
	CorrelationID string `json:"correlation_id"`
}

// jobWarning says whether an answer warns that its job was unreadable.
func (a fullAnswer) jobWarning() bool {
	return slices.ContainsFunc(a.Warnings, func(w string) bool { return strings.HasPrefix(w, "job_status_unavailable=") })
}

func (a fullAnswer) same(b fullAnswer) bool {
	n := func(s []string) string { return strings.Join(s, ",") }
	return a.Status == b.Status && a.OK == b.OK && a.Verdict == b.Verdict && a.ExitCode == b.ExitCode && a.JobID == b.JobID &&
		a.SessionID == b.SessionID && n(a.ReasonCodes) == n(b.ReasonCodes) && n(a.Violations) == n(b.Violations) &&
		a.jobWarning() == b.jobWarning() && (a.LogExport != "") == (b.LogExport != "") && (a.OTelExport != "") == (b.OTelExport != "") &&
		sameRelationship(a, b)
}

// sameRelationship compares relationships without the trace entity (its
// id differs: v1 derives trace ids its own way).
func sameRelationship(a, b fullAnswer) bool {
	if (a.Relationship == nil) != (b.Relationship == nil) {
		return false
	}
	if a.Relationship == nil {
		return true
	}
	strip := func(refs []map[string]string) string {
		var out []string
		for _, r := range refs {
			if r["kind"] != "trace" {
				out = append(out, r["kind"]+":"+r["id"])
			}
		}
		return strings.Join(out, ",")
	}
	ra, rb := a.Relationship, b.Relationship
	ja, _ := json.Marshal([]any{ra.ParentRef, ra.AgentChain})
	jb, _ := json.Marshal([]any{rb.ParentRef, rb.AgentChain})
	return bytes.Equal(ja, jb) && strip(ra.EntityRefs) == strip(rb.EntityRefs) && len(ra.Edges) == len(rb.Edges)
}

func postFull(t *testing.T, addr, body string) fullAnswer {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/v1/evaluate", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a fullAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	a.Status = resp.StatusCode
	return a
}

func bridgeFull(t *testing.T, bin, dir string, args ...string) fullAnswer {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"mcp", "bridge", "--json"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	var a fullAnswer
	a.Status = exitCodeOf(t, err)
	_ = json.Unmarshal(out, &a)
	return a
}

// jobsFrom writes the jobs the generated calls name, with bin's job
// commands, into dir/jobs.
func jobsFrom(t *testing.T, bin, dir string) {
	t.Helper()
	for id, status := range map[string]string{"job_run": "running", "job_halt": "emergency_stopped", "job_wait": "paused", "job_done": "completed", "job_help": "decision_needed"} {
		makeJob(t, bin, dir, id, status)
	}
	// a job directory whose state is damaged
	if err := os.MkdirAll(filepath.Join(dir, "gait-out", "jobs", "job_bad"), 0o750); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "gait-out", "jobs", "job_bad"), "state.json", "{")
}

func genJobCall(r *rand.Rand) string {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	tool := pick("tool.read", "email.send", "secrets.read", "docs.write", "docs.read")
	ctx := fmt.Sprintf(`{"identity": %q, "workspace": "/w", "risk_class": %q`, pick("a", "agent-2"), pick("low", "high"))
	if j := pick("job_run", "job_halt", "job_wait", "job_done", "job_help", "job_none", "job_bad", "", "../job_run", " job_halt "); j != "" {
		ctx += fmt.Sprintf(`, "job_id": %q`, j)
	}
	if r.IntN(2) == 0 {
		ctx += `, "session_id": "s1"`
	}
	if r.IntN(4) == 0 {
		// evidence the call claims itself never counts
		ctx += `, "context_set_digest": "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb", "context_evidence_mode": "required", "auth_context": {"context_age_seconds": 1}`
	}
	if r.IntN(5) == 0 {
		return fmt.Sprintf(`{"name": %q, "args": {}}`, tool)
	}
	return fmt.Sprintf(`{"name": %q, "args": {}, "context": %s}}`, tool, ctx)
}

func TestMCPServiceJobStopDifferential(t *testing.T) {
	ref := referenceBin(t)
	for _, maker := range []string{"v1", "gait"} {
		for _, mode := range []string{"compat", "strict"} {
			t.Run(maker+"_jobs_"+mode, func(t *testing.T) {
				jobsDir := t.TempDir()
				jobsFrom(t, map[string]string{"v1": ref, "gait": gaitBin}[maker], jobsDir)
				root := filepath.Join(jobsDir, "gait-out", "jobs")
				refDir, gaitDir := t.TempDir(), t.TempDir()
				for _, dir := range []string{refDir, gaitDir} {
					writeFile(t, dir, "policy.yaml", controlsPolicy)
				}
				args := []string{"--http-verdict-status", mode, "--job-root", root, "--export-log-out", "events.jsonl", "--export-otel-out", "otel.jsonl"}
				refAddr, gaitAddr := startService(t, ref, refDir, args...), startService(t, gaitBin, gaitDir, args...)
				r := rand.New(rand.NewPCG(16, 3))
				for i := range 80 {
					call := genJobCall(r)
					body := `{"call": ` + call + `}`
					want, got := postFull(t, refAddr, body), postFull(t, gaitAddr, body)
					if !want.same(got) {
						t.Errorf("call %d %s:\nv1   %+v\ngait %+v", i, call, want, got)
					}
					if i%5 == 0 {
						writeFile(t, gaitDir, "call.json", call)
						bw := bridgeFull(t, ref, gaitDir, "--policy", "policy.yaml", "--call", "call.json", "--job-root", root)
						bg := bridgeFull(t, gaitBin, gaitDir, "--policy", "policy.yaml", "--call", "call.json", "--job-root", root)
						// v1's bridge prints no exit_code: the exit status is it
						bw.LogExport, bg.LogExport, bw.ExitCode, bg.ExitCode = "", "", 0, 0
						if !bw.same(bg) || bg.Status != int(want.ExitCode) || len(bg.CorrelationID) != len(bw.CorrelationID) {
							t.Errorf("bridge %s:\nv1   %+v\ngait %+v", call, bw, bg)
						}
						// the one-shot proxy makes the same decision
						var proxied [2]serviceAnswer
						for j, bin := range []string{ref, gaitBin} {
							cmd := exec.Command(bin, "mcp", "proxy", "--policy", "policy.yaml", "--call", "call.json", "--job-root", root, "--json")
							cmd.Dir = gaitDir
							out, err := cmd.Output()
							_ = json.Unmarshal(out, &proxied[j])
							proxied[j].Status, proxied[j].Digest, proxied[j].ExitCode = exitCodeOf(t, err), "", 0
						}
						if !sameAnswer(proxied[0], proxied[1]) {
							t.Errorf("proxy --call %s:\nv1   %+v\ngait %+v", call, proxied[0], proxied[1])
						}
					}
				}
				// the bridge without --job-root looks in ./gait-out/jobs
				writeFile(t, jobsDir, "../policy.yaml", controlsPolicy)
				writeFile(t, jobsDir, "call.json", `{"name": "tool.read", "args": {}, "context": {"identity": "a", "workspace": "/w", "risk_class": "low", "job_id": "job_halt"}}`)
				if bw, bg := bridgeFull(t, ref, jobsDir, "--policy", "../policy.yaml", "--call", "call.json"), bridgeFull(t, gaitBin, jobsDir, "--policy", "../policy.yaml", "--call", "call.json"); bw.Status != bg.Status || bg.Status != 3 {
					t.Errorf("default job root: v1 %+v, gait %+v", bw, bg)
				}
				compareExports(t, refDir, gaitDir)
			})
		}
	}
}

// compareExports compares the decision exports line for line, with trace
// ids and paths and latencies masked (v1 writes a trace per decision and
// derives its ids its own way).
func compareExports(t *testing.T, refDir, gaitDir string) {
	t.Helper()
	for name, schema := range map[string]string{"events.jsonl": "mcp/decision_log", "otel.jsonl": "mcp/decision_otel"} {
		for _, dir := range []string{refDir, gaitDir} {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := schemas.ValidateLines(schema, data); err != nil {
				t.Errorf("schemas/%s rejects %s: %v", schema, filepath.Join(dir, name), err)
			}
		}
		read := func(dir string) []string {
			f, err := os.Open(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var lines []string
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var m map[string]any
				if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
					t.Fatalf("%s: %v: %s", name, err, sc.Bytes())
				}
				for _, k := range []string{"trace_id", "trace_path", "decision_latency_ms"} {
					delete(m, k)
				}
				if attrs, ok := m["attributes"].(map[string]any); ok {
					delete(attrs, "gait.trace_path")
					delete(attrs, "gait.decision_latency_ms")
				}
				b, _ := json.Marshal(m)
				lines = append(lines, string(b))
			}
			return lines
		}
		want, got := read(refDir), read(gaitDir)
		if len(want) != len(got) || len(got) == 0 {
			t.Errorf("%s: v1 %d lines, gait %d", name, len(want), len(got))
			continue
		}
		for i := range want {
			if want[i] != got[i] {
				t.Errorf("%s line %d:\nv1   %s\ngait %s", name, i+1, want[i], got[i])
			}
		}
	}
}

const (
	ctxQueryDigest   = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
	ctxContentDigest = "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"
)

// genEnvelope returns a generated context envelope and whether the intent
// digest it leads to is fixed (no record whose age ticks with the clock).
func genEnvelope(r *rand.Rand, now time.Time) (string, bool) {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	fixed := true // every record from the future: age 0, whatever the clock
	var recs []string
	for range r.IntN(4) {
		f := []string{
			fmt.Sprintf(`"ref_id": %q`, pick("r1", "r2", " R3 ", "r1")),
			fmt.Sprintf(`"source_type": %q`, pick("doc", "ticket", " Doc ")),
			fmt.Sprintf(`"source_locator": %q`, pick("s3://b/k", "https://x/?a=1&b=<2>", "jira:PROJ-1")),
			fmt.Sprintf(`"redaction_mode": %q`, pick("reference", "hash", "Reference")),
			fmt.Sprintf(`"query_digest": %q`, pick(ctxQueryDigest, strings.ToUpper(ctxQueryDigest))),
			fmt.Sprintf(`"content_digest": %q`, ctxContentDigest),
		}
		switch r.IntN(4) {
		case 0:
			fixed = false // no retrieved_at: 1980, an age that grows
		case 1:
			f = append(f, fmt.Sprintf(`"retrieved_at": %q`, now.Add(time.Hour).Format(time.RFC3339)))
		case 2:
			f = append(f, fmt.Sprintf(`"retrieved_at": %q`, now.Add(time.Hour).In(time.FixedZone("x", 3600)).Format(time.RFC3339Nano)))
		case 3:
			fixed = false
			f = append(f, fmt.Sprintf(`"retrieved_at": %q`, now.Add(-time.Duration(r.IntN(2))*time.Hour).Format(time.RFC3339)))
		}
		if r.IntN(2) == 0 {
			f = append(f, fmt.Sprintf(`"immutability": %q`, pick("immutable", " Mutable ", "unknown")))
		}
		if r.IntN(3) == 0 {
			f = append(f, fmt.Sprintf(`"freshness_sla_seconds": %s`, pick("0", "60")))
		}
		if r.IntN(3) == 0 {
			f = append(f, fmt.Sprintf(`"sensitivity_label": %q`, pick("internal", " X ")))
		}
		// broken records
		switch r.IntN(14) {
		case 0:
			f[0] = `"ref_id": ""`
		case 1:
			f[4] = `"query_digest": "abc"`
		case 2:
			f = append(f, `"immutability": "forever"`)
		case 3:
			f = append(f, `"freshness_sla_seconds": -5`)
		}
		recs = append(recs, "{"+strings.Join(f, ", ")+"}")
	}
	top := []string{fmt.Sprintf(`"context_set_id": %q`, pick("cs1", "cs2", " cs3 "))}
	if m := pick("", "required", "best_effort", "REQUIRED", "sometimes"); m != "" {
		top = append(top, fmt.Sprintf(`"evidence_mode": %q`, m))
	}
	if r.IntN(3) == 0 {
		top = append(top, `"schema_id": "gait.context.envelope", "schema_version": "1.0.0", "created_at": "2026-01-01T00:00:00Z", "producer_version": "x"`)
	}
	switch r.IntN(16) {
	case 0:
		top = append(top, `"schema_version": "2.0.0"`)
	case 1:
		top = append(top, `"unknown_field": 1`)
	case 2:
		top[0] = `"context_set_id": ""`
	case 3:
		top = append(top, `"context_set_digest": "`+ctxQueryDigest+`"`)
	}
	if len(recs) > 0 || r.IntN(2) == 0 {
		top = append(top, `"records": [`+strings.Join(recs, ", ")+`]`)
	}
	return "{" + strings.Join(top, ", ") + "}", fixed && len(recs) > 0
}

type envOutcome struct {
	Code                              int
	Verdict                           string
	ReasonCodes, Violations           []string
	IntentDigest                      string
	ContextSetDigest, ContextEvidence string
	ContextRefCount                   int
	ContextSource                     string
}

func gateEvalEnvelope(t *testing.T, bin, dir, tool string, withEnvelope bool) envOutcome {
	t.Helper()
	args := []string{"gate", "eval", "--policy", "policy.yaml", "--intent", tool + ".json", "--trace-out", "trace.json", "--json"}
	if withEnvelope {
		args = append(args, "--context-envelope", "envelope.json")
	}
	_ = os.Remove(filepath.Join(dir, "trace.json"))
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	o := envOutcome{Code: exitCodeOf(t, err)}
	var res struct {
		Verdict      string   `json:"verdict"`
		ReasonCodes  []string `json:"reason_codes"`
		Violations   []string `json:"violations"`
		IntentDigest string   `json:"intent_digest"`
	}
	_ = json.Unmarshal(out, &res)
	o.Verdict, o.ReasonCodes, o.Violations, o.IntentDigest = res.Verdict, res.ReasonCodes, res.Violations, res.IntentDigest
	if b, err := os.ReadFile(filepath.Join(dir, "trace.json")); err == nil {
		var tr struct {
			ContextSetDigest    string `json:"context_set_digest"`
			ContextEvidenceMode string `json:"context_evidence_mode"`
			ContextRefCount     int    `json:"context_ref_count"`
			ContextSource       string `json:"context_source"`
		}
		_ = json.Unmarshal(b, &tr)
		o.ContextSetDigest, o.ContextEvidence, o.ContextRefCount, o.ContextSource = tr.ContextSetDigest, tr.ContextEvidenceMode, tr.ContextRefCount, tr.ContextSource
	}
	return o
}

func TestContextEnvelopeDifferential(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	writeFile(t, dir, "policy.yaml", controlsPolicy)
	tools := []string{"docs.write", "docs.publish", "docs.read", "tool.read"}
	for _, tool := range tools {
		// the intent claims evidence of its own: it never counts
		writeFile(t, dir, tool+".json", fmt.Sprintf(`{"schema_id": "gait.gate.intent_request", "schema_version": "1.0.0", "created_at": "2026-01-01T00:00:00Z",
 "producer_version": "t", "tool_name": %q, "args": {"path": "/tmp/x"}, "targets": [{"kind": "path", "value": "/tmp/x"}],
 "context": {"identity": "a", "workspace": "/w", "risk_class": "low",
  "context_refs": ["mine"], "auth_context": {"context_age_seconds": 1, "tenant": "t"}}}`, tool))
	}
	r := rand.New(rand.NewPCG(16, 4))
	now := time.Now().UTC()
	valid := 0
	for i := range 60 {
		env, fixed := genEnvelope(r, now)
		writeFile(t, dir, "envelope.json", env)
		for j, tool := range tools {
			with := i > 0 || j > 0
			want, got := gateEvalEnvelope(t, ref, dir, tool, with), gateEvalEnvelope(t, gaitBin, dir, tool, with)
			if !fixed || !with {
				want.IntentDigest, got.IntentDigest = "", ""
			}
			if want.Code == 0 || want.Code == 3 {
				valid++
				if with && (j == 0 || i == 0 && j == 1) {
					if err := schemas.Validate("gate/context_envelope", []byte(env)); err != nil {
						t.Errorf("schemas/gate/context_envelope rejects an envelope v1 accepts: %v\n%s", err, env)
					}
				}
			}
			if fmt.Sprint(want) != fmt.Sprint(got) {
				t.Errorf("envelope %d %s (with=%v):\n%s\nv1   %+v\ngait %+v", i, tool, with, env, want, got)
			}
		}
		if i%6 == 0 {
			// the bridge applies the envelope to every call
			writeFile(t, dir, "call.json", `{"name": "docs.publish", "args": {}, "context": {"identity": "a", "workspace": "/w", "risk_class": "low"}}`)
			bw := bridgeFull(t, ref, dir, "--policy", "policy.yaml", "--call", "call.json", "--context-envelope", "envelope.json")
			bg := bridgeFull(t, gaitBin, dir, "--policy", "policy.yaml", "--call", "call.json", "--context-envelope", "envelope.json")
			bw.ExitCode, bg.ExitCode = 0, 0
			if !fixed {
				bw.IntentDigest, bg.IntentDigest = "", ""
			}
			if bw.Status != bg.Status || (bw.Status != 6 && (!bw.same(bg) || bw.IntentDigest != bg.IntentDigest)) {
				t.Errorf("bridge with envelope %s:\nv1   %+v\ngait %+v", env, bw, bg)
			}
		}
	}
	if valid < 60 {
		t.Errorf("only %d of 240 evaluations had a usable envelope", valid)
	}
	// an intent that names another context set is refused, as in v1
	env, _ := genEnvelope(rand.New(rand.NewPCG(1, 1)), now)
	writeFile(t, dir, "envelope.json", `{"context_set_id": "c", "records": []}`)
	writeFile(t, dir, "claim.json", `{"schema_id": "gait.gate.intent_request", "schema_version": "1.0.0", "created_at": "2026-01-01T00:00:00Z",
 "producer_version": "t", "tool_name": "docs.write", "args": {}, "targets": [],
 "context": {"identity": "a", "workspace": "/w", "risk_class": "low", "context_set_digest": "`+ctxQueryDigest+`"}}`)
	for _, with := range []bool{false, true} {
		want, got := gateEvalEnvelope(t, ref, dir, "claim", with), gateEvalEnvelope(t, gaitBin, dir, "claim", with)
		want.IntentDigest, got.IntentDigest = "", ""
		if fmt.Sprint(want) != fmt.Sprint(got) {
			t.Errorf("claimed digest (envelope %v, %s):\nv1   %+v\ngait %+v", with, env, want, got)
		}
	}
	// the service refuses a bad envelope at start-up, as v1 does
	writeFile(t, dir, "envelope.json", `{"context_set_id": "c", "zzz": 1}`)
	for _, bin := range []string{ref, gaitBin} {
		cmd := exec.Command(bin, "mcp", "serve", "--policy", "policy.yaml", "--listen", freePort(t), "--context-envelope", "envelope.json")
		cmd.Dir = dir
		if code := exitCodeOf(t, cmd.Run()); code != 6 {
			t.Errorf("%s mcp serve with a bad envelope: exit %d", bin, code)
		}
	}
}
