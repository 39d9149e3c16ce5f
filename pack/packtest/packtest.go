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
