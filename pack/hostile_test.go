package pack_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/safezip/ziptest"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/pack/packtest"
)

func writeHostile(t *testing.T, variant string, size int64, ratio int) string {
	t.Helper()
	data, err := packtest.Hostile(variant, size, ratio)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "runpack.zip")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Every hostile runpack is refused by Open and Verify with exit 2 or 6 and
// one line, allocating a few MiB whatever it would inflate to: undeclared
// entries are refused before they inflate, declared ones are hashed before
// they are held, and the limits stop the rest from the headers.
func TestHostileRunpacksStayFlat(t *testing.T) {
	cases := []struct {
		variant string
		size    int64
		ratio   int
	}{
		// The bombs of the report: far over the limits.
		{packtest.BombDeclared, 1 << 30, 260},
		{packtest.BombUndeclared, 1 << 30, 260},
		// Just under the limits: they pass the headers, so they must
		// stream, not be held.
		{packtest.BombDeclared, 96 << 20, 190},
		{packtest.BombUndeclared, 96 << 20, 190},
		{packtest.BombLyingSize, 96 << 20, 190},
		{packtest.BombDeclared, 2 << 20, 190}, // small enough to be read whole
		{packtest.ManyEntries, 5000, 0},
		{packtest.ManyEntries, 50, 0},
		{packtest.LocalHeader, 0, 0},
	}
	for _, c := range cases {
		path := writeHostile(t, c.variant, c.size, c.ratio)
		for name, read := range map[string]func() error{
			"Open":     func() error { _, err := pack.Open(path); return err },
			"Verify":   func() error { _, err := pack.Verify(path, pack.VerifyOptions{}); return err },
			"OpenPack": func() error { _, err := pack.OpenPack(path); return err },
		} {
			var err error
			n := ziptest.Allocated(func() { err = read() })
			label := c.variant + "/" + name
			if err == nil {
				t.Fatalf("%s (%d bytes at %d:1): accepted", label, c.size, c.ratio)
			}
			if code := exitcode.Of(err); code != exitcode.VerifyFailed && code != exitcode.InvalidInput {
				t.Fatalf("%s: exit %d: %v", label, code, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("%s: error is not one line: %q", label, err)
			}
			if n > allocSlack*8<<20 {
				t.Fatalf("%s (%d bytes at %d:1): allocated %d bytes", label, c.size, c.ratio, n)
			}
		}
	}
}

// Sizes over the limits are bad input (exit 6) naming the limit; a digest
// that does not hold is a failed verification (exit 2).
func TestHostileExitCodes(t *testing.T) {
	over := writeHostile(t, packtest.BombDeclared, 1<<30, 260)
	_, err := pack.Verify(over, pack.VerifyOptions{})
	if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "limit of 100 MiB") {
		t.Fatalf("over the limit: exit %d: %v", exitcode.Of(err), err)
	}
	under := writeHostile(t, packtest.BombDeclared, 8<<20, 100)
	_, err = pack.Verify(under, pack.VerifyOptions{})
	if exitcode.Of(err) != exitcode.VerifyFailed || !strings.Contains(err.Error(), "does not match the manifest") {
		t.Fatalf("wrong digest: exit %d: %v", exitcode.Of(err), err)
	}
	undeclared := writeHostile(t, packtest.BombUndeclared, 8<<20, 100)
	_, err = pack.Open(undeclared)
	if !errors.Is(err, pack.ErrIntegrity) || !strings.Contains(err.Error(), "padding.bin: present in the archive but not declared") {
		t.Fatalf("undeclared: %v", err)
	}
}

// Run ids read from a runpack are checked as they are read: what v1 writes
// passes, what would break a line, a path or a terminal is exit 6.
func TestRunIDValidatedOnRead(t *testing.T) {
	for _, id := range []string{"Run_Upper", "run_demo", "run.v2", "run x", "run:1", "_x", strings.Repeat("r", 255)} {
		data, err := packtest.WithRunID(id)
		if err != nil {
			t.Fatal(err)
		}
		rp, err := pack.OpenBytes("runpack.zip", data)
		if err != nil {
			t.Fatalf("%q refused: %v", id, err)
		}
		if rp.Manifest.RunID != id {
			t.Fatalf("run id %q, want %q", rp.Manifest.RunID, id)
		}
	}
	for _, id := range []string{"run_a\nforged", "run_a\r", "run\x1b[31m", "run\x00", "run\u202eevil", "run\u2028x", "run/../x", `run\x`, "", strings.Repeat("r", 256)} {
		data, err := packtest.WithRunID(id)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "runpack.zip")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for name, read := range map[string]func() (string, error){
			"Open":      func() (string, error) { _, err := pack.Open(path); return "", err },
			"OpenBytes": func() (string, error) { _, err := pack.OpenBytes(path, data); return "", err },
			"Verify": func() (string, error) {
				res, err := pack.Verify(path, pack.VerifyOptions{})
				return res.RunID, err
			},
		} {
			shown, err := read()
			if exitcode.Of(err) != exitcode.InvalidInput {
				t.Fatalf("%s %q: exit %d: %v", name, id, exitcode.Of(err), err)
			}
			if strings.ContainsAny(err.Error(), "\n\r\x1b\x00\u2028\u202e") || !strings.Contains(err.Error(), "run_id") {
				t.Fatalf("%s %q: error %q is not one safe line naming run_id", name, id, err)
			}
			if shown != "" {
				t.Fatalf("%s %q: result carries the run id", name, id)
			}
		}
	}
}
