package mcp

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseCall feeds untrusted one-shot call files and tools/call
// arguments through the parsers: they never panic, and whatever they accept
// is a canonical object that matches itself exactly and re-parses to the
// same bytes.
func FuzzParseCall(f *testing.F) {
	for _, s := range []string{
		`{"name":"refund","arguments":{"order_id":"A1","amount":42.5}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{}}}`,
		`{"tool_name":"fs.delete","args":{"path":"/tmp/x","n":[1,2,{"k":null}]}}`,
		`{"name":"x","arguments":[1]}`,
		`{"name":"x","arguments":{"a":1,"a":2}}`,
		`{"name":"x","arguments":{"big":1e400}}`,
		`{"params":{"params":{"name":"deep"}}}`,
		`not json`, `{}`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		call, err := ParseCall("fuzz", data)
		if err != nil {
			return
		}
		if call.Tool == "" {
			t.Fatal("accepted a call without a tool name")
		}
		args, c2, err := ParseArgs(call.Canonical)
		if err != nil {
			t.Fatalf("canonical args do not re-parse: %v: %s", err, call.Canonical)
		}
		if !bytes.Equal(c2, call.Canonical) {
			t.Fatalf("canonical form not stable:\n%s\n%s", call.Canonical, c2)
		}
		m := MatchMode{Kind: MatchExact}
		rec, _ := decodeJSON(call.Canonical)
		if !m.Matches(call.Tool, rec, "", call.Tool, args, c2) {
			t.Fatalf("call does not match itself: %s", call.Canonical)
		}
	})
}

// FuzzRedact applies parsed paths to arbitrary JSON: no panic, the result
// is still valid JSON, and redacting twice changes nothing more.
func FuzzRedact(f *testing.F) {
	f.Add("$.a.b", []byte(`{"a":{"b":"secret"}}`))
	f.Add("$.items[*].token,$.*", []byte(`{"items":[{"token":1},2]}`))
	f.Add("$[0]", []byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, path string, data []byte) {
		paths, err := ParsePaths([]string{path})
		if err != nil {
			return
		}
		v, err := decodeJSON(data)
		if err != nil {
			return
		}
		redact(v, paths)
		once := canonical(v)
		if !json.Valid(once) {
			t.Fatalf("invalid JSON after redaction: %s", once)
		}
		redact(v, paths)
		if twice := canonical(v); !bytes.Equal(once, twice) {
			t.Fatalf("redaction not idempotent:\n%s\n%s", once, twice)
		}
	})
}
