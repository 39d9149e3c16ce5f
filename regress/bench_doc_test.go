package regress

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/gait-dev/gait/pack/packtest"
)

// benchReport is the report of a run over n fixtures made from one
// runpack.
func benchReport(b *testing.B, n int) *Report {
	b.Helper()
	dir := b.TempDir()
	src := filepath.Join(dir, "src.zip")
	packtest.Write(b, src, nil)
	cfg := filepath.Join(dir, DefaultConfig)
	for i := range n {
		if _, err := Init(InitOptions{From: src, Name: fmt.Sprintf("f%04d", i), ConfigPath: cfg}); err != nil {
			b.Fatal(err)
		}
	}
	rep, err := Run(cfg, RunOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return rep
}

// BenchmarkDocument writes and reads back the result document of 1,000
// fixtures (what regress run writes and merge reads).
func BenchmarkDocument(b *testing.B) {
	rep := benchReport(b, 1000)
	var doc bytes.Buffer
	if err := WriteDocument(&doc, rep); err != nil {
		b.Fatal(err)
	}
	b.Run("write", func(b *testing.B) {
		b.SetBytes(int64(doc.Len()))
		b.ReportAllocs()
		for b.Loop() {
			if err := WriteDocument(io.Discard, rep); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read", func(b *testing.B) {
		b.SetBytes(int64(doc.Len()))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ReadResult(bytes.NewReader(doc.Bytes()), "doc"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
