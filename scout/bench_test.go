package scout

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchRepo writes n source files (the fixture repository's Python and
// TypeScript files in turn, each in its own directory) and one MCP config
// per ten files under dir.
func benchRepo(tb testing.TB, dir string, n int) {
	tb.Helper()
	var sources []fixtureFile
	for _, f := range walkFixture(tb) {
		if k := sourceKind(f.name); k == "py" || k == "ts" {
			sources = append(sources, f)
		}
	}
	for i := range n {
		src := sources[i%len(sources)]
		sub := filepath.Join(dir, fmt.Sprintf("pkg%04d", i))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, src.name), src.data, 0o644); err != nil {
			tb.Fatal(err)
		}
		if i%10 == 0 {
			cfg := fmt.Sprintf(`{"mcpServers": {"server-%d": {"command": "x"}}}`, i)
			if err := os.WriteFile(filepath.Join(sub, ".mcp.json"), []byte(cfg), 0o644); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// BenchmarkSnapshot walks and inventories repositories of 100 and 1,000
// source files.
func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			benchRepo(b, dir, n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Take(SnapshotOptions{Roots: []string{dir}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDetect tokenizes and scans 1 MB of Python and of TypeScript.
func BenchmarkDetect(b *testing.B) {
	for _, kind := range []string{"py", "ts"} {
		b.Run(kind, func(b *testing.B) {
			var buf strings.Builder
			files := fixtureFiles(b, kind)
			for i := 0; buf.Len() < 1<<20; i++ {
				buf.Write(files[i%len(files)])
				buf.WriteByte('\n')
			}
			src := []byte(buf.String())
			detect := detectPython
			if kind == "ts" {
				detect = detectTS
			}
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				detect(src)
			}
		})
	}
}

// TestWriteBenchRepo writes the 1,000-file tree of BenchmarkSnapshot to
// $SCOUT_BENCH_DIR, for the whole-process timings in docs/performance.md;
// without the variable it does nothing.
func TestWriteBenchRepo(t *testing.T) {
	dir := os.Getenv("SCOUT_BENCH_DIR")
	if dir == "" {
		t.Skip("set SCOUT_BENCH_DIR to write the benchmark tree")
	}
	benchRepo(t, dir, 1000)
}
