package mcp

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/job"
)

func callWithJob(tool, jobID string) string {
	return `{"call":{"name":"` + tool + `","args":{},"context":{"identity":"a","workspace":"/w","risk_class":"low","job_id":"` + jobID + `","session_id":"s1"}}}`
}

func TestServiceEmergencyStop(t *testing.T) {
	root := filepath.Join(t.TempDir(), "jobs")
	js := job.NewStore(root)
	for _, id := range []string{"job_run", "job_stop"} {
		if _, err := js.Submit(job.SubmitOptions{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := js.Stop("job_stop", "alice"); err != nil {
		t.Fatal(err)
	}
	for _, strict := range []bool{false, true} {
		h := newTestService(t, func(o *ServiceOptions) { o.JobRoot, o.StrictStatus = root, strict }).Handler()
		for _, c := range []struct {
			tool, job, verdict, reason string
			status                     int
		}{
			{"fs.read", "job_run", "allow", "", 200},
			{"fs.read", "job_stop", "block", job.ReasonEmergencyStop, 403},
			{"email.send", "job_stop", "block", job.ReasonEmergencyStop, 403},
			{"fs.read", "job_missing", "block", job.ReasonEmergencyStopUnavailable, 403},
			{"fs.read", "../escape", "block", job.ReasonEmergencyStopUnavailable, 403},
		} {
			w, m := post(t, h, "/v1/evaluate", "application/json", callWithJob(c.tool, c.job))
			status := 200
			if strict {
				status = c.status
			}
			reasons := fmt.Sprint(m["reason_codes"])
			if w.Code != status || m["verdict"] != c.verdict || m["job_id"] != c.job {
				t.Errorf("strict=%v %s in %s: %d %v", strict, c.tool, c.job, w.Code, m)
			}
			if c.reason != "" && (!strings.Contains(reasons, c.reason) || fmt.Sprint(m["violations"]) != "[emergency_stop_active]") {
				t.Errorf("%s in %s: reasons %v violations %v", c.tool, c.job, m["reason_codes"], m["violations"])
			}
			warned := strings.Contains(fmt.Sprint(m["warnings"]), "job_status_unavailable=")
			if warned != (c.reason == job.ReasonEmergencyStopUnavailable) {
				t.Errorf("%s: warnings %v", c.job, m["warnings"])
			}
		}
	}
	// a call without a job is not looked up, even with no jobs directory
	h := newTestService(t, func(o *ServiceOptions) { o.JobRoot = filepath.Join(root, "none") }).Handler()
	if _, m := post(t, h, "/v1/evaluate", "application/json", `{"call":{"name":"fs.read","args":{}}}`); m["verdict"] != "allow" || m["job_id"] != nil {
		t.Errorf("no job: %v", m)
	}
}

func TestServiceContextEnvelope(t *testing.T) {
	p, err := gate.ParsePolicy([]byte("default_verdict: allow\nrules:\n  - name: ctx\n    priority: 1\n    effect: allow\n    match: {tool_names: [docs.write]}\n    required_context_evidence_mode: required\n"))
	if err != nil {
		t.Fatal(err)
	}
	env, err := gate.ParseContextEnvelope([]byte(`{"context_set_id": "c", "evidence_mode": "required"}`))
	if err != nil {
		t.Fatal(err)
	}
	body := `{"call":{"name":"docs.write","args":{},"context":{"identity":"a","workspace":"/w","risk_class":"low","auth_context":{"context_age_seconds":0}}}}`
	for _, c := range []struct {
		env     *gate.ContextEnvelope
		verdict string
	}{{nil, "block"}, {env, "allow"}} {
		h := newTestService(t, func(o *ServiceOptions) { o.Policy, o.Envelope = p, c.env }).Handler()
		if _, m := post(t, h, "/v1/evaluate", "application/json", body); m["verdict"] != c.verdict {
			t.Errorf("envelope %v: %v", c.env != nil, m)
		}
	}
	// the trace records where the evidence came from
	dir := t.TempDir()
	h := newTestService(t, func(o *ServiceOptions) { o.Policy, o.Envelope, o.TraceDir = p, env, dir }).Handler()
	_, m := post(t, h, "/v1/evaluate", "application/json", body)
	b, err := os.ReadFile(m["trace_path"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var tr gate.Trace
	if err := json.Unmarshal(b, &tr); err != nil || tr.ContextSource != gate.ContextSourceEnvelope || tr.ContextSetDigest != env.ContextSetDigest || tr.ContextEvidenceMode != "required" {
		t.Errorf("trace %+v %v", tr, err)
	}
}

func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: line %d: %v: %s", path, len(out)+1, err, sc.Bytes())
		}
		out = append(out, m)
	}
	return out
}

// Concurrent requests each append one whole line to both exports.
func TestServiceExportsConcurrent(t *testing.T) {
	dir := t.TempDir()
	logPath, otelPath := filepath.Join(dir, "out", "events.jsonl"), filepath.Join(dir, "otel.jsonl")
	s := newTestService(t, func(o *ServiceOptions) { o.LogExport, o.OTelExport = logPath, otelPath })
	h := s.Handler()
	const n = 64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tool := []string{"fs.read", "db.drop", "email.send"}[i%3]
			_, m := post(t, h, "/v1/evaluate", "application/json", fmt.Sprintf(`{"call":{"name":%q,"args":{"i":%d}}}`, tool, i))
			if m["log_export"] != logPath || m["otel_export"] != otelPath {
				t.Errorf("response %v", m)
			}
		}()
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	logs, otel := readLines(t, logPath), readLines(t, otelPath)
	if len(logs) != n || len(otel) != n {
		t.Fatalf("%d log lines, %d otel lines, want %d", len(logs), len(otel), n)
	}
	wantLog := []string{"created_at", "decision_latency_ms", "intent_digest", "policy_digest", "producer_version", "reason_codes", "run_id", "tool_name", "trace_id", "verdict"}
	for _, m := range logs {
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, wantLog) || m["created_at"] != "1980-01-01T00:00:00Z" {
			t.Fatalf("log line %v", m)
		}
	}
	for _, m := range otel {
		attrs, _ := m["attributes"].(map[string]any)
		if m["body"] != DecisionOTelBody || m["severity_text"] != "INFO" || m["time_unix_nano"] != float64(315532800000000000) || len(attrs) != 11 || m["trace_id"] == "" {
			t.Fatalf("otel line %v", m)
		}
	}
	// a file that cannot be opened is refused at start-up
	p, _ := gate.ParsePolicy([]byte(servicePolicy))
	if _, err := NewService(ServiceOptions{Policy: p, LogExport: dir}); err == nil {
		t.Error("a folder as --export-log-out was accepted")
	}
}

func TestServiceBrokerAndRelationship(t *testing.T) {
	p, err := gate.ParsePolicy([]byte("default_verdict: block\nrules:\n  - name: brk\n    priority: 1\n    effect: allow\n    match: {tool_names: [gh.read]}\n    require_broker_credential: true\n    broker_reference: gh\n"))
	if err != nil {
		t.Fatal(err)
	}
	stub, err := gate.NewBroker(gate.BrokerOptions{Kind: gate.BrokerStub})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		broker  *gate.Broker
		verdict string
		reason  string
	}{{nil, "block", gate.CodeBrokerCredentialRequired}, {stub, "allow", gate.CodeBrokerCredentialPresent}} {
		s := newTestService(t, func(o *ServiceOptions) { o.Policy, o.Broker = p, c.broker })
		res, err := s.Evaluate(EvaluateRequest{Call: []byte(`{"name":"gh.read","args":{},"context":{"identity":"a","workspace":"/w","risk_class":"low","session_id":"s1"}}`)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != gate.Verdict(c.verdict) || !slices.Contains(res.ReasonCodes, c.reason) || (c.broker != nil) != (res.CredentialRecord != nil && strings.HasPrefix(res.CredentialRef, "stub:")) {
			t.Errorf("broker %v: %+v", c.broker != nil, res)
		}
		rel := res.Relationship
		if rel == nil || rel.ParentRef == nil || *rel.ParentRef != (gate.EntityRef{Kind: "session", ID: "s1"}) || len(rel.EntityRefs) != 4 || rel.PolicyRef.PolicyDigest != p.Digest() {
			t.Errorf("relationship %+v", rel)
		}
	}
}
