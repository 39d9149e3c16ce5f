package regress

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The result document for the repository's own fixtures is pinned byte for
// byte, whatever the parallelism.
func TestRepoFixturesGolden(t *testing.T) {
	var got []byte
	for _, parallel := range []int{1, 4} {
		rep, err := Run(filepath.Join("..", DefaultConfig), RunOptions{Parallel: parallel, Evaluator: NewGateEvaluator(), ProducerVersion: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Failed != 0 {
			t.Fatalf("repo fixtures fail: %+v", rep.Fixtures)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep.Document()); err != nil {
			t.Fatal(err)
		}
		if got != nil && !bytes.Equal(got, buf.Bytes()) {
			t.Fatal("output depends on --parallel")
		}
		got = buf.Bytes()
	}
	path := filepath.Join("testdata", t.Name()+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./regress -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("result document differs from %s; rerun with -update if intended:\n%s", path, got)
	}
}
