package pack

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// bigRecord makes a run of n intents whose args and results are about
// payload bytes each, in raw capture mode.
func bigRecord(n, payload int) *RunRecord {
	rec := &RunRecord{
		Run:         Run{RunID: "run_bench", CreatedAt: "2026-01-01T00:00:00Z", ProducerVersion: "bench"},
		CaptureMode: CaptureRaw,
	}
	filler := strings.Repeat("lorem ipsum dolor sit amet ", payload/27+1)[:payload]
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("intent_%d", i)
		rec.Intents = append(rec.Intents, Intent{IntentID: id, ToolName: "tool.read", Args: json.RawMessage(fmt.Sprintf(`{"path":"/data/%d","note":%q}`, i, filler))})
		rec.Results = append(rec.Results, Result{IntentID: id, Status: "ok", Result: json.RawMessage(fmt.Sprintf(`{"n":%d,"body":%q}`, i, filler))})
	}
	return rec
}

func BenchmarkRecord(b *testing.B) {
	for _, n := range []int{1000, 20000} {
		rec := bigRecord(n, 1300)
		b.Run(fmt.Sprintf("intents=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				// Build canonicalizes in place; start from a fresh copy.
				c := *rec
				c.Intents = append([]Intent(nil), rec.Intents...)
				c.Results = append([]Result(nil), rec.Results...)
				rp, err := Build(&c, RecordOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if err := rp.WriteFile(filepath.Join(b.TempDir(), "r.zip")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1MB", 370}, {"54MB", 20000}, {"100MB", 37000}} {
		rp, err := Build(bigRecord(size.n, 1300), RecordOptions{})
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(b.TempDir(), "runpack.zip")
		if err := rp.WriteFile(path); err != nil {
			b.Fatal(err)
		}
		var total int64
		for _, name := range PayloadFiles {
			total += int64(len(rp.File(name)))
		}
		b.Run(size.name, func(b *testing.B) {
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Verify(path, VerifyOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
