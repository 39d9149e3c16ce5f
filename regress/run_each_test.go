package regress

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// failFixture makes fixture name of the config at cfg expect another tool.
func failFixture(t *testing.T, cfg, name string) {
	t.Helper()
	p := filepath.Join(filepath.Dir(cfg), "fixtures", name, FixtureFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte(`"tool.`), []byte(`"tool.other_`), 1)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// With Each, results come in name order whatever the parallelism, the
// report keeps only the failing ones, and the document written from the
// stream is the one written from the whole report.
func TestRunEachStreamsInOrder(t *testing.T) {
	var names []string
	for i := range 40 {
		names = append(names, fmt.Sprintf("f%02d", i))
	}
	cfg := newRepo(t, names...)
	failFixture(t, cfg, "f07")
	failFixture(t, cfg, "f33")
	whole, err := Run(cfg, RunOptions{Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := WriteDocument(&want, whole); err != nil {
		t.Fatal(err)
	}
	for _, parallel := range []int{1, 3, 8} {
		doc, err := NewDocumentStream(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		var got []FixtureResult
		rep, err := Run(cfg, RunOptions{Parallel: parallel, Each: func(_ *Report, f *FixtureResult) error {
			got = append(got, *f)
			return doc.Add(f)
		}})
		if err != nil {
			t.Fatal(err)
		}
		if !sameNames(got, whole.Fixtures) {
			t.Fatalf("parallel %d: Each got fixtures out of order", parallel)
		}
		if rep.Total != 40 || rep.Failed != 2 || len(rep.Fixtures) != 2 || rep.Fixtures[0].Name != "f07" || rep.Fixtures[1].Name != "f33" {
			t.Fatalf("parallel %d: report %d/%d/%d with %d fixtures kept", parallel, rep.Total, rep.Passed, rep.Failed, len(rep.Fixtures))
		}
		var buf bytes.Buffer
		if err := doc.Finish(&buf, rep); err != nil {
			t.Fatal(err)
		}
		_ = doc.Close()
		if !bytes.Equal(buf.Bytes(), want.Bytes()) {
			t.Fatalf("parallel %d: streamed document differs from the whole report's", parallel)
		}
	}
}

func sameNames(a, b []FixtureResult) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}

// An error from Each ends the run with that error; a fixture that cannot
// be read is reported by name whether or not Each is set.
func TestRunEachErrors(t *testing.T) {
	cfg := newRepo(t, "a", "b", "c", "d")
	stop := errors.New("disk full")
	calls := 0
	_, err := Run(cfg, RunOptions{Parallel: 2, Each: func(*Report, *FixtureResult) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	}})
	if !errors.Is(err, stop) || calls != 2 {
		t.Fatalf("err %v after %d calls, want %v after 2", err, calls, stop)
	}
	if err := os.Remove(filepath.Join(filepath.Dir(cfg), "fixtures", "c", "runpack.zip")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(cfg), "fixtures", "d", FixtureFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, each := range []func(*Report, *FixtureResult) error{nil, func(*Report, *FixtureResult) error { return nil }} {
		_, err := Run(cfg, RunOptions{Parallel: 4, Each: each})
		if err == nil || !strings.Contains(err.Error(), `fixture "c"`) {
			t.Fatalf("err %v, want the first unusable fixture, c", err)
		}
	}
}
