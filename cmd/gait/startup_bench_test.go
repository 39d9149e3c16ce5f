package main

import (
	"io"
	"testing"
	"time"
)

// BenchmarkNewRootCmd is what building the command tree costs every
// invocation, before any command runs.
func BenchmarkNewRootCmd(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		newRootCmd(&app{out: io.Discard, errOut: io.Discard, getenv: func(string) string { return "" }, now: time.Now})
	}
}

// BenchmarkVersion is `gait version` in process: the tree, flag parsing
// and the command.
func BenchmarkVersion(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		runApp(&app{out: io.Discard, errOut: io.Discard, getenv: func(string) string { return "" }, now: time.Now}, []string{"version"})
	}
}

// BenchmarkNewRootCmdVersion is the tree `gait version` builds.
func BenchmarkNewRootCmdVersion(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		newRootCmdFor(&app{out: io.Discard, errOut: io.Discard, getenv: func(string) string { return "" }, now: time.Now}, []string{"version"})
	}
}

// BenchmarkGateEval is one `gait gate eval` in process, trace written.
func BenchmarkGateEval(b *testing.B) {
	trace := b.TempDir() + "/trace.json"
	args := []string{"gate", "eval", "--policy", "../../testdata/gate/policy/strict.yaml", "--intent", "../../testdata/gate/intents/read.json", "--trace-out", trace}
	b.ReportAllocs()
	for b.Loop() {
		if code := runApp(&app{out: io.Discard, errOut: io.Discard, getenv: func(string) string { return "" }, now: time.Now}, args); code != 0 {
			b.Fatal(code)
		}
	}
}
