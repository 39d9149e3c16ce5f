package mcp

import (
	"bytes"
	"io"
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

// discardWriter is a reusable http.ResponseWriter for the benchmarks.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

// BenchmarkServiceHandler is the handler's own cost per decision: the
// request and response objects are reused, so net/http's parsing and
// httptest's recorder are left out.
func BenchmarkServiceHandler(b *testing.B) {
	h := newTestService(&testing.T{}, nil).Handler()
	body := []byte(`{"call":{"name":"db.drop","args":{"table":"users"}}}`)
	req := httptest.NewRequest(http.MethodPost, "/v1/evaluate", nil)
	req.Header.Set("Content-Type", "application/json")
	rd := bytes.NewReader(body)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		req.Body = io.NopCloser(rd)
		req.ContentLength = int64(len(body))
		clear(w.h)
		h.ServeHTTP(w, req)
		if w.code != http.StatusOK {
			b.Fatal(w.code)
		}
	}
}
