package gate

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const (
	envQueryDigest   = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
	envContentDigest = "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"
)

func envRecord(ref, extra string) string {
	return `{"ref_id": "` + ref + `", "source_type": "doc", "source_locator": "s3://b/k", "redaction_mode": "reference",
		"query_digest": "` + envQueryDigest + `", "content_digest": "` + envContentDigest + `"` + extra + `}`
}

// The digests are the ones v1 computes for the same envelopes.
func TestContextEnvelopeDigest(t *testing.T) {
	for _, c := range []struct{ name, env, want string }{
		{"no records", `{"context_set_id": "cs1"}`, "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"},
		{"minimal record", `{"context_set_id": "cs1", "records": [` + envRecord("r1", "") + `]}`, "79e9e3aca7f61fb8cc6e504035662a99017f3b06ab5a852331949c1a96f92c5d"},
		{"set id and mode are not covered", `{"context_set_id": "other", "evidence_mode": "REQUIRED", "records": [` + envRecord("r1", "") + `]}`, "79e9e3aca7f61fb8cc6e504035662a99017f3b06ab5a852331949c1a96f92c5d"},
		{"every field", `{"context_set_id": "cs1", "records": [` + envRecord("r1", `, "immutability": "immutable", "freshness_sla_seconds": 60, "retrieved_at": "2026-01-01T01:00:00+01:00", "sensitivity_label": "x"`) + `]}`, "1b6b7c174f4a35365609f42768007311541f9dce5386e9521ff151b83687f19b"},
		{"order does not matter", `{"context_set_id": "c", "records": [` + envRecord("r2", "") + `, ` + envRecord("r1", "") + `]}`, "775bfde8ea2cf41719a24f75351449aaf126fb9e988917e167959629b3b57a6c"},
		{"same ref_id, sorted by source type", `{"context_set_id": "c", "records": [` + strings.ReplaceAll(envRecord("r1", ""), `"doc"`, `"zz"`) + `, ` + strings.ReplaceAll(envRecord("r1", ""), `"doc"`, `"aa"`) + `]}`, "273571e6369f5b1eb7d05feae3ccbdca54f604617df8d9d285a00590804926df"},
		{"duplicates count", `{"context_set_id": "c", "records": [` + envRecord("r1", "") + `, ` + envRecord("r1", "") + `]}`, "5cafb865e80eb7742a90cbfa9a2c17026f20fc8f1e5b70994c9f3f85d9c49d64"},
	} {
		env, err := ParseContextEnvelope([]byte(c.env))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if env.ContextSetDigest != c.want {
			t.Errorf("%s: digest %s, want %s", c.name, env.ContextSetDigest, c.want)
		}
		// stating the digest is accepted, in any case
		stated := strings.Replace(c.env, "{", `{"context_set_digest": "`+strings.ToUpper(c.want)+`", `, 1)
		if _, err := ParseContextEnvelope([]byte(stated)); err != nil {
			t.Errorf("%s with its digest: %v", c.name, err)
		}
	}
}

func TestContextEnvelopeRefused(t *testing.T) {
	for _, c := range []struct{ env, want string }{
		{`not json`, "parse context envelope"},
		{`[]`, "parse context envelope"},
		{`{"context_set_id": "c"} {}`, "more than one JSON value"},
		{`{"context_set_id": "c", "zzz": 1}`, `unknown field "zzz"`},
		{`{}`, "context_set_id is required"},
		{`{"context_set_id": " "}`, "context_set_id is required"},
		{`{"context_set_id": "c", "schema_id": "x"}`, "unsupported context envelope schema_id"},
		{`{"context_set_id": "c", "schema_version": "2.0.0"}`, "unsupported context envelope schema_version"},
		{`{"context_set_id": "c", "created_at": "yesterday"}`, "parse context envelope"},
		{`{"context_set_id": "c", "evidence_mode": "maybe"}`, "best_effort or required"},
		{`{"context_set_id": "c", "records": [{}]}`, "are required"},
		{`{"context_set_id": "c", "records": [` + envRecord("r", `, "query_digest": "abc"`) + `]}`, "sha256 hex"},
		{`{"context_set_id": "c", "records": [` + envRecord("r", `, "immutability": "forever"`) + `]}`, "immutability"},
		{`{"context_set_id": "c", "records": [` + envRecord("r", `, "freshness_sla_seconds": -1`) + `]}`, "freshness_sla_seconds"},
		{`{"context_set_id": "c", "context_set_digest": "zz"}`, "context_set_digest must be sha256 hex"},
		{`{"context_set_id": "c", "context_set_digest": "` + envQueryDigest + `"}`, "context_set_digest mismatch"},
	} {
		if _, err := ParseContextEnvelope([]byte(c.env)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.env, err, c.want)
		}
	}
}

func TestApplyContextEnvelope(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	env, err := ParseContextEnvelope([]byte(`{"context_set_id": "c", "evidence_mode": "required", "records": [` +
		envRecord("r2", `, "retrieved_at": "2026-05-31T23:59:00Z"`) + `, ` + envRecord("r1", `, "retrieved_at": "2026-05-31T23:50:00Z"`) + `, ` +
		envRecord("r1", `, "retrieved_at": "2026-06-02T00:00:00Z"`) + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	req := IntentRequest{Context: IntentContext{Identity: "a", ContextSetDigest: envQueryDigest, ContextEvidenceMode: "required",
		ContextRefs: []string{"mine"}, AuthContext: map[string]any{"context_age_seconds": 1, "tenant": "t"}}}
	// without an envelope, the intent's own evidence is dropped
	bare := req
	if err := ApplyContextEnvelope(&bare, nil, now); err != nil {
		t.Fatal(err)
	}
	if c := bare.Context; c.ContextSetDigest != "" || c.ContextEvidenceMode != "" || c.ContextRefs != nil || len(c.AuthContext) != 1 || c.AuthContext["tenant"] != "t" {
		t.Errorf("no envelope: %+v", c)
	}
	if req.Context.AuthContext["context_age_seconds"] != 1 {
		t.Error("the caller's auth_context map was changed")
	}
	// an intent may state the envelope's digest, never another
	if err := ApplyContextEnvelope(&req, env, now); err == nil || !strings.Contains(err.Error(), "not the context envelope's digest") {
		t.Fatalf("a different digest: %v", err)
	}
	req.Context.ContextSetDigest = strings.ToUpper(env.ContextSetDigest)
	if err := ApplyContextEnvelope(&req, env, now); err != nil {
		t.Fatal(err)
	}
	c := req.Context
	if c.ContextSetDigest != env.ContextSetDigest || c.ContextEvidenceMode != "required" || strings.Join(c.ContextRefs, ",") != "r1,r2" ||
		c.AuthContext["context_age_seconds"] != int64(600) || c.AuthContext["tenant"] != "t" {
		t.Errorf("envelope: %+v", c)
	}
	// the age of a future record is 0; an envelope without records is as
	// old as 1980
	empty, _ := ParseContextEnvelope([]byte(`{"context_set_id": "c"}`))
	req = IntentRequest{}
	if err := ApplyContextEnvelope(&req, empty, now); err != nil {
		t.Fatal(err)
	}
	if req.Context.AuthContext[contextAgeKey] != int64(now.Sub(epoch)/time.Second) || req.Context.ContextEvidenceMode != "best_effort" {
		t.Errorf("empty envelope: %+v", req.Context)
	}
	for _, bad := range []IntentContext{{ContextSetDigest: "zz"}, {ContextEvidenceMode: "sometimes"}} {
		if err := ApplyContextEnvelope(&IntentRequest{Context: bad}, nil, now); err == nil {
			t.Errorf("%+v was accepted", bad)
		}
	}
	if err := ApplyContextEnvelope(&IntentRequest{Context: IntentContext{ContextEvidenceMode: "required"}}, empty, now); err == nil {
		t.Error("a mode other than the envelope's was accepted")
	}
	if age := env.Age(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)); age != 0 {
		t.Errorf("age before retrieval: %d", age)
	}
}

// FuzzParseContextEnvelope: parsing never panics, and an envelope that
// parses, written back out, parses to the same digest and records.
func FuzzParseContextEnvelope(f *testing.F) {
	f.Add([]byte(`{"context_set_id": "cs1"}`))
	f.Add([]byte(`{"context_set_id": "cs1", "evidence_mode": "required", "records": [` + envRecord("r1", `, "retrieved_at": "2026-01-01T00:00:00Z", "freshness_sla_seconds": 5`) + `]}`))
	f.Add([]byte(`{"context_set_id": "c", "records": [` + envRecord(" R2 ", `, "immutability": " Mutable ", "sensitivity_label": " x "`) + `, ` + envRecord("r1", "") + `]}`))
	f.Add([]byte(`{"schema_id": "gait.context.envelope", "schema_version": "1.0.0", "created_at": "2026-01-01T00:00:00Z", "context_set_id": "c", "records": []}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseContextEnvelope(data)
		if err != nil {
			return
		}
		out, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseContextEnvelope(out)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if again.ContextSetDigest != env.ContextSetDigest || len(again.Records) != len(env.Records) {
			t.Fatalf("digest %s then %s\n%s", env.ContextSetDigest, again.ContextSetDigest, out)
		}
	})
}
