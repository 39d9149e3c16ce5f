package ui

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/pack"
)

// benchWorkspace holds 1,000 runpacks under gait-out/ and one run of
// 20,000 steps.
func benchWorkspace(b *testing.B) string {
	b.Helper()
	ws := b.TempDir()
	for i := range 1000 {
		rp, err := pack.Build(pack.DemoRecord(), pack.RecordOptions{RunID: fmt.Sprintf("run_%04d", i)})
		if err != nil {
			b.Fatal(err)
		}
		if err := rp.WriteFile(filepath.Join(ws, "gait-out", fmt.Sprintf("runpack_run_%04d.zip", i))); err != nil {
			b.Fatal(err)
		}
	}
	rec := pack.DemoRecord()
	in, res := rec.Intents[0], rec.Results[0]
	rec.Intents, rec.Results = nil, nil
	for i := range 20000 {
		a, r := in, res
		a.IntentID, r.IntentID = fmt.Sprintf("intent_%05d", i), fmt.Sprintf("intent_%05d", i)
		a.ToolName = fmt.Sprintf("tool.step%d", i%17)
		rec.Intents, rec.Results = append(rec.Intents, a), append(rec.Results, r)
	}
	rp, err := pack.Build(rec, pack.RecordOptions{RunID: "long"})
	if err != nil {
		b.Fatal(err)
	}
	if err := rp.WriteFile(filepath.Join(ws, "fixtures", "long", "runpack.zip")); err != nil {
		b.Fatal(err)
	}
	return ws
}

func benchGet(b *testing.B, s *Server, target string) {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Host = strings.TrimPrefix(s.URL(), "http://")
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		b.Fatalf("%s: %d", target, w.Code)
	}
}

func benchServer(b *testing.B, ws string) *Server {
	s, err := New(Options{Listen: "127.0.0.1:0", Workspace: ws})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.ln.Close() })
	return s
}

// BenchmarkPages times the pages a reviewer opens first, cold (a new
// server: nothing verified or decoded yet) and warm.
func BenchmarkPages(b *testing.B) {
	ws := benchWorkspace(b)
	pages := []struct{ name, target string }{
		{"runs_list_1000_runs", "/runs"},
		{"gate_report_top_1000_runs", "/gate"},
		{"run_20000_steps_first_page", "/run?path=fixtures/long/runpack.zip"},
		{"run_20000_steps_page_50", "/run?path=fixtures/long/runpack.zip&page=50"},
	}
	for _, p := range pages {
		b.Run(p.name+"/cold", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				s := benchServer(b, ws)
				b.StartTimer()
				benchGet(b, s, p.target)
			}
		})
		b.Run(p.name+"/warm", func(b *testing.B) {
			b.ReportAllocs()
			s := benchServer(b, ws)
			benchGet(b, s, p.target)
			for b.Loop() {
				benchGet(b, s, p.target)
			}
		})
	}
}

// BenchmarkStart times New: checks, the token and the listener; nothing
// else happens before the URL is printed.
func BenchmarkStart(b *testing.B) {
	ws := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		s, err := New(Options{Listen: "127.0.0.1:0", Workspace: ws})
		if err != nil {
			b.Fatal(err)
		}
		_ = s.ln.Close()
	}
}
