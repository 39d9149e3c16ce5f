package mcp

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkServiceDecision is one decision through the service's HTTP
// handler, without the network: request decode, adapter, policy, response
// encode.
func BenchmarkServiceDecision(b *testing.B) {
	h := newTestService(&testing.T{}, nil).Handler()
	body := []byte(`{"call":{"name":"db.drop","args":{"table":"users"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/evaluate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
