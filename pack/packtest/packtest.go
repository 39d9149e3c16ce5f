// Package packtest builds runpacks and signing keys in memory for tests in
// other packages, so each test states only how its run differs from the
// built-in demo run.
package packtest

import (
	"testing"

	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/pack"
)

// Build returns the runpack of the demo run after edit (which may be nil).
func Build(t testing.TB, edit func(*pack.RunRecord), opts pack.RecordOptions) *pack.Runpack {
	t.Helper()
	rec := pack.DemoRecord()
	if edit != nil {
		edit(rec)
	}
	rp, err := pack.Build(rec, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rp
}

// Write writes the demo run after edit to path.
func Write(t testing.TB, path string, edit func(*pack.RunRecord)) {
	t.Helper()
	if err := Build(t, edit, pack.RecordOptions{}).WriteFile(path); err != nil {
		t.Fatal(err)
	}
}

// Keys returns a fresh ed25519 key pair.
func Keys(t testing.TB) keys.Pair {
	t.Helper()
	pair, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

// Variants builds the runpacks a schema must accept: the demo record as
// recorded, signed in raw mode with context evidence, and a minimal record
// (no env, timeline, producer or per-record fields).
func Variants(t testing.TB) []*pack.Runpack {
	t.Helper()
	pair := Keys(t)
	minimal := func(r *pack.RunRecord) {
		r.Run.Env, r.Run.Timeline, r.Run.ProducerVersion = nil, nil, ""
		for i := range r.Intents {
			r.Intents[i].ProducerVersion, r.Intents[i].CreatedAt = "", ""
		}
		for i := range r.Results {
			r.Results[i].ProducerVersion, r.Results[i].CreatedAt = "", ""
		}
		r.Refs = pack.Refs{}
	}
	return []*pack.Runpack{
		Build(t, nil, pack.RecordOptions{}),
		Build(t, nil, pack.RecordOptions{PrivateKey: pair.Private, CaptureMode: pack.CaptureRaw, ContextEvidenceMode: "best_effort"}),
		Build(t, minimal, pack.RecordOptions{}),
	}
}
