package regress

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gait-dev/gait/pack/packtest"
)

func BenchmarkRun(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		dir := b.TempDir()
		src := filepath.Join(dir, "src.zip")
		packtest.Write(b, src, nil)
		cfg := filepath.Join(dir, DefaultConfig)
		for i := 0; i < n; i++ {
			if _, err := Init(InitOptions{From: src, Name: fmt.Sprintf("f%04d", i), ConfigPath: cfg}); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("fixtures=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rep, err := Run(cfg, RunOptions{})
				if err != nil || rep.Failed != 0 {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkInit(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "src.zip")
	packtest.Write(b, src, nil)
	cfg := filepath.Join(dir, DefaultConfig)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Init(InitOptions{From: src, Name: fmt.Sprintf("f%06d", i), ConfigPath: cfg}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
