package mcp

import "testing"

// EvaluateParsed decides a call read by ParseCall (here a JSON-RPC
// tools/call request) exactly as Evaluate decides the same call in the mcp
// adapter's format.
func TestEvaluateParsedMatchesEvaluate(t *testing.T) {
	s := newTestService(t, nil)
	for _, tc := range []struct{ rpc, adapter string }{
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"db.drop","arguments":{"table":"users"}}}`, `{"name":"db.drop","args":{"table":"users"}}`},
		{`{"tool_name":"fs.read","args":{"path":"README.md"}}`, `{"name":"fs.read","args":{"path":"README.md"}}`},
	} {
		call, err := ParseCall("call.json", []byte(tc.rpc))
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.EvaluateParsed(EvaluateRequest{}, call)
		if err != nil {
			t.Fatal(err)
		}
		want, err := s.Evaluate(EvaluateRequest{Call: []byte(tc.adapter)})
		if err != nil {
			t.Fatal(err)
		}
		if got.Verdict != want.Verdict || got.IntentDigest != want.IntentDigest || got.RunID != want.RunID || got.ToolName != want.ToolName || got.Adapter != "mcp" {
			t.Errorf("%s:\nparsed   %+v\nadapter  %+v", tc.rpc, got, want)
		}
	}
	if _, err := s.EvaluateParsed(EvaluateRequest{RunID: "bad/id"}, ToolCallRequest{Tool: "x"}); err == nil {
		t.Error("an invalid run id was accepted")
	}
}
