package safezip

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ownZips are archives Gait wrote: the repository's own regress fixtures.
func ownZips(t testing.TB) []string {
	t.Helper()
	out, err := filepath.Glob(filepath.Join("..", "..", "fixtures", "*", "runpack.zip"))
	if err != nil || len(out) == 0 {
		t.Fatalf("no runpacks in fixtures/: %v", err)
	}
	return out
}

func readAll(t testing.TB, data []byte) (map[string][]byte, error) {
	t.Helper()
	a, err := NewReader(bytes.NewReader(data), int64(len(data)), DefaultLimits)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, n := range a.Names() {
		b, err := a.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out[n] = b
	}
	return out, nil
}

// Every archive Gait wrote reads cleanly and rewriting its entries gives the
// same bytes. (The conformance suite does the same for the v1 corpus.)
func TestRoundTrip(t *testing.T) {
	for _, p := range ownZips(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files, err := readAll(t, data)
			if err != nil {
				t.Fatal(err)
			}
			var list []File
			for n, b := range files {
				list = append(list, File{n, b})
			}
			again, err := Bytes(list)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, data) {
				t.Fatal("rewritten archive differs from the original bytes")
			}
		})
	}
}

// Changing any single byte of a canonical archive is detected.
func TestEveryByteFlipIsDetected(t *testing.T) {
	data, err := Bytes([]File{{"a.json", []byte(`{"a":1}`)}, {"b.jsonl", bytes.Repeat([]byte("line\n"), 50)}})
	if err != nil {
		t.Fatal(err)
	}
	orig, err := readAll(t, data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		for _, delta := range []byte{0x01, 0x80, 0xff} {
			mut := bytes.Clone(data)
			mut[i] ^= delta
			got, err := readAll(t, mut)
			if err == nil && equalFiles(got, orig) {
				t.Fatalf("flip %#x at byte %d/%d went unnoticed", delta, i, len(data))
			}
		}
	}
}

func equalFiles(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(b[k], v) {
			return false
		}
	}
	return true
}

// raw builds an archive with archive/zip directly, bypassing Write's checks.
func raw(t *testing.T, build func(zw *zip.Writer)) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	build(zw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func add(t *testing.T, zw *zip.Writer, name string, mode os.FileMode, data []byte) {
	t.Helper()
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: FixedTime}
	h.SetMode(mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(data)
}

func TestRejects(t *testing.T) {
	good := []byte(`{}`)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not a zip", []byte("hello"), "not a zip"},
		{"duplicate", raw(t, func(zw *zip.Writer) { add(t, zw, "a", 0o644, good); add(t, zw, "a", 0o644, good) }), "duplicate"},
		{"dot dot", raw(t, func(zw *zip.Writer) { add(t, zw, "../evil", 0o644, good) }), "escapes"},
		{"absolute", raw(t, func(zw *zip.Writer) { add(t, zw, "/etc/passwd", 0o644, good) }), "escapes"},
		{"backslash", raw(t, func(zw *zip.Writer) { add(t, zw, `a\b`, 0o644, good) }), "backslash"},
		{"symlink", raw(t, func(zw *zip.Writer) { add(t, zw, "link", os.ModeSymlink|0o777, []byte("/etc")) }), "symlink"},
		{"mode", raw(t, func(zw *zip.Writer) { add(t, zw, "x", 0o755, good) }), "attributes"},
		{"bomb", raw(t, func(zw *zip.Writer) { add(t, zw, "bomb", 0o644, make([]byte, 8<<20)) }), "zip bomb"},
		{"trailing", append(raw(t, func(zw *zip.Writer) { add(t, zw, "a", 0o644, good) }), 0), ""},
		{"prefix", append([]byte("MZ"), raw(t, func(zw *zip.Writer) { add(t, zw, "a", 0o644, good) })...), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAll(t, tt.data)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	data, _ := Bytes([]File{{"a", bytes.Repeat([]byte("x"), 1000)}, {"b", []byte("y")}})
	small := Limits{MaxEntries: 1, MaxEntrySize: 10, MaxTotalSize: 10, MaxRatio: 10}
	if _, err := NewReader(bytes.NewReader(data), int64(len(data)), small); err == nil {
		t.Fatal("entry count limit ignored")
	}
	small.MaxEntries = 5
	if _, err := NewReader(bytes.NewReader(data), int64(len(data)), small); err == nil {
		t.Fatal("entry size limit ignored")
	}
}

func TestNotZipIsTyped(t *testing.T) {
	_, err := NewReader(bytes.NewReader([]byte("nope")), 4, DefaultLimits)
	if !errors.Is(err, ErrNotZip) {
		t.Fatalf("want ErrNotZip, got %v", err)
	}
	var ee *EntryError
	data, _ := Bytes([]File{{"a", []byte("x")}})
	data = append(data, 'x')
	if _, err := NewReader(bytes.NewReader(data), int64(len(data)), DefaultLimits); !errors.As(err, &ee) {
		t.Fatalf("want EntryError, got %v", err)
	}
}

func TestWriteDeterministicAndSorted(t *testing.T) {
	a, _ := Bytes([]File{{"z", []byte("1")}, {"a", []byte("2")}})
	b, _ := Bytes([]File{{"a", []byte("2")}, {"z", []byte("1")}})
	if !bytes.Equal(a, b) {
		t.Fatal("order of input changed the bytes")
	}
	ar, err := NewReader(bytes.NewReader(a), int64(len(a)), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ar.Names(), ","); got != "a,z" {
		t.Fatalf("names %s", got)
	}
	if _, err := Bytes([]File{{"../x", nil}}); err == nil {
		t.Fatal("unsafe name written")
	}
}

// FuzzReader is seeded from testdata/fuzz/FuzzReader (archives Gait wrote).
func FuzzReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		files, err := readAll(t, data)
		if err != nil {
			return
		}
		// Property: what the reader accepts, the writer reproduces byte for byte.
		var list []File
		for n, b := range files {
			list = append(list, File{n, b})
		}
		again, err := Bytes(list)
		if err != nil {
			t.Fatalf("accepted archive cannot be rewritten: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatal("accepted archive is not canonical")
		}
	})
}

var _ = io.EOF

// Large entries are compressed in parallel chunks; they still read back
// through the strict reader, byte for byte, and deterministically.
func TestWriteLargeEntries(t *testing.T) {
	big := make([]byte, 5<<20+123)
	for i := range big {
		big[i] = byte(i*7 + i/1000)
	}
	files := []File{{"big.jsonl", big}, {"small.json", []byte(`{}`)}}
	a, err := Bytes(files)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Bytes(files)
	if !bytes.Equal(a, b) {
		t.Fatal("not deterministic")
	}
	got, err := readAll(t, a)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got["big.jsonl"], big) || string(got["small.json"]) != "{}" {
		t.Fatal("content changed")
	}
	// Flipping a byte inside the large entry's data is still caught (CRC).
	a[len(a)/2] ^= 0x55
	if _, err := readAll(t, a); err == nil {
		t.Fatal("flip in large entry went unnoticed")
	}
}

// The parallel digest of a chunked entry equals the sequential one, and a
// stream without boundaries (archive/zip's own) takes the sequential path.
func TestSumParallelMatchesSequential(t *testing.T) {
	big := make([]byte, 9<<20+77)
	for i := range big {
		big[i] = byte(i*31 + i/4096 + i*i/977)
	}
	var plain bytes.Buffer
	zw := zip.NewWriter(&plain)
	add(t, zw, "big", 0o644, big)
	_ = zw.Close()
	chunked, _ := Bytes([]File{{"big", big}})
	want := sha256.Sum256(big)
	for name, data := range map[string][]byte{"chunked": chunked, "single stream": plain.Bytes()} {
		a, err := NewReader(bytes.NewReader(data), int64(len(data)), DefaultLimits)
		if err != nil {
			t.Fatal(name, err)
		}
		got, err := a.Sum("big", sha256.New)
		if err != nil || !bytes.Equal(got, want[:]) {
			t.Fatalf("%s: sum %x, %v", name, got, err)
		}
	}
	if pieces := mustReader(t, chunked).findPieces(mustReader(t, chunked).Entries[0]); len(pieces) < 9 {
		t.Fatalf("chunked entry split into %d pieces", len(pieces))
	}
	// A flipped byte fails both paths.
	bad := bytes.Clone(chunked)
	bad[len(bad)/3] ^= 0x20
	if a, err := NewReader(bytes.NewReader(bad), int64(len(bad)), DefaultLimits); err == nil {
		if got, err := a.Sum("big", sha256.New); err == nil && bytes.Equal(got, want[:]) {
			t.Fatal("corruption not noticed")
		}
	}
}

func mustReader(t *testing.T, data []byte) *Archive {
	t.Helper()
	a, err := NewReader(bytes.NewReader(data), int64(len(data)), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
