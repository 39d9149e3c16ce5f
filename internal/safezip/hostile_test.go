package safezip_test

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"errors"
	"io"
	"testing"

	"github.com/gait-dev/gait/internal/safezip"
	"github.com/gait-dev/gait/internal/safezip/ziptest"
)

func build(t *testing.T, entries ...ziptest.Entry) []byte {
	t.Helper()
	data, err := ziptest.Bytes(entries)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func open(data []byte, limits safezip.Limits) (*safezip.Archive, error) {
	return safezip.NewReader(bytes.NewReader(data), int64(len(data)), limits)
}

// A header that claims far more than the entry holds costs nothing: the
// buffer grows with what actually inflates.
func TestReadFileDoesNotTrustDeclaredSize(t *testing.T) {
	const claimed = 48 << 20
	data := build(t, ziptest.Entry{Name: "liar", Size: 512 << 10, Ratio: 1, DeclaredSize: claimed})
	a, err := open(data, safezip.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	var readErr error
	n := ziptest.Allocated(func() { _, readErr = a.ReadFile("liar") })
	if readErr == nil {
		t.Fatal("an entry shorter than its declared size was accepted")
	}
	if n > 8<<20 {
		t.Fatalf("reading an entry claiming %d bytes allocated %d bytes", claimed, n)
	}
}

// The ratio limit applies at every size, with slack for small entries.
func TestRatioCheckedAtAllSizes(t *testing.T) {
	small := build(t, ziptest.Entry{Name: "small", Data: make([]byte, 32<<10)})
	if _, err := open(small, safezip.DefaultLimits); err != nil {
		t.Fatalf("a 32 KiB entry of zeros was refused: %v", err)
	}
	for _, size := range []int64{512 << 10, 900 << 10, 64 << 20} {
		data := build(t, ziptest.Entry{Name: "bomb", Size: size})
		_, err := open(data, safezip.DefaultLimits)
		if !errors.Is(err, safezip.ErrLimit) {
			t.Fatalf("%d bytes inflating ~1000-fold: got %v, want ErrLimit", size, err)
		}
	}
	// Just under the limit passes the headers; just over does not.
	under := build(t, ziptest.Entry{Name: "under", Size: 8 << 20, Ratio: 150})
	if _, err := open(under, safezip.DefaultLimits); err != nil {
		t.Fatalf("ratio 150 refused: %v", err)
	}
	strict := safezip.DefaultLimits
	strict.MaxRatio = 100
	if _, err := open(under, strict); !errors.Is(err, safezip.ErrLimit) {
		t.Fatalf("ratio 150 against a limit of 100: got %v", err)
	}
}

// An archive of countless entries is refused from its end record, before
// the central directory is parsed.
func TestManyEntriesRefusedBeforeParsing(t *testing.T) {
	data := build(t, ziptest.Many("e", 20000)...)
	var err error
	n := ziptest.Allocated(func() { _, err = open(data, safezip.DefaultLimits) })
	if !errors.Is(err, safezip.ErrLimit) {
		t.Fatalf("got %v, want ErrLimit", err)
	}
	if n > 256<<10 {
		t.Fatalf("refusing 20,000 entries allocated %d bytes", n)
	}
}

// Limits over sizes that the headers agree on are ErrLimit; limits are
// checked before anything inflates.
func TestSizeLimitsBeforeInflating(t *testing.T) {
	limits := safezip.Limits{MaxEntries: 8, MaxEntrySize: 16 << 20, MaxTotalSize: 24 << 20, MaxRatio: 1000}
	cases := map[string][]ziptest.Entry{
		"entry": {{Name: "a", Size: 17 << 20}},
		"total": {{Name: "a", Size: 16 << 20}, {Name: "b", Size: 16 << 20}},
	}
	for name, entries := range cases {
		data := build(t, entries...)
		var err error
		n := ziptest.Allocated(func() { _, err = open(data, limits) })
		if !errors.Is(err, safezip.ErrLimit) {
			t.Fatalf("%s: got %v, want ErrLimit", name, err)
		}
		if n > 1<<20 {
			t.Fatalf("%s: refusing allocated %d bytes", name, n)
		}
	}
}

// The parallel digest never holds more than a few pieces, whatever the
// stream looks like: blocks far larger than the writer's, or sync markers
// repeated to make countless empty pieces.
func TestSumMemoryIsFlat(t *testing.T) {
	limits := safezip.DefaultLimits
	limits.MaxRatio = 1000
	big := build(t, ziptest.Entry{Name: "big", Size: 96 << 20, Ratio: 500, Block: 24 << 20})

	var markers bytes.Buffer
	fw, _ := flate.NewWriter(&markers, flate.BestSpeed)
	content := make([]byte, 5<<20)
	_, _ = fw.Write(content)
	for range 200000 {
		_ = fw.Flush() // an empty stored block: 00 00 00 ff ff
	}
	_ = fw.Close()
	flushes := build(t, ziptest.Entry{Name: "big", Data: content, Deflated: markers.Bytes()})

	for name, data := range map[string][]byte{"large blocks": big, "sync markers": flushes} {
		a, err := open(data, limits)
		if err != nil {
			t.Fatal(name, err)
		}
		var sumErr error
		n := ziptest.Allocated(func() { _, sumErr = a.Sum("big", sha256.New) })
		if sumErr != nil {
			t.Fatal(name, sumErr)
		}
		if n > 24<<20 {
			t.Fatalf("%s: digest allocated %d bytes", name, n)
		}
	}
}

// A local header that disagrees with the central directory is refused
// before the entry is read.
func TestLocalHeaderDisagreeing(t *testing.T) {
	data := build(t, ziptest.Entry{Name: "a.json", Data: []byte(`{}`)})
	bad, err := ziptest.SpoofLocalName(data, "a.json", "b.json")
	if err != nil {
		t.Fatal(err)
	}
	var ee *safezip.EntryError
	if _, err := open(bad, safezip.DefaultLimits); !errors.As(err, &ee) || errors.Is(err, safezip.ErrLimit) {
		t.Fatalf("got %v, want a structural EntryError", err)
	}
}

// An entry that inflates past its declared size stops right there.
func TestReadStopsAtDeclaredSize(t *testing.T) {
	data := build(t, ziptest.Entry{Name: "long", Size: 64 << 20, Ratio: 150, DeclaredSize: 64 << 10})
	limits := safezip.DefaultLimits
	limits.MaxRatio = 1 << 20 // let the header through; the reader must still stop
	a, err := open(data, limits)
	if err != nil {
		t.Fatal(err)
	}
	r, err := a.Open("long")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	var readErr error
	alloc := ziptest.Allocated(func() { n, readErr = io.Copy(io.Discard, r) })
	if readErr == nil || n > 64<<10+1 {
		t.Fatalf("read %d bytes, err %v", n, readErr)
	}
	if alloc > 2<<20 {
		t.Fatalf("allocated %d bytes", alloc)
	}
}

// FuzzReadBounded: whatever an archive claims, what the reader hands out
// stays within the limits and the ratio, and reading it allocates a
// bounded amount.
func FuzzReadBounded(f *testing.F) {
	seeds := [][]ziptest.Entry{
		{{Name: "a.json", Data: []byte(`{"a":1}`)}, {Name: "b.jsonl", Data: bytes.Repeat([]byte("line\n"), 50)}},
		{{Name: "bomb", Size: 2 << 20}},
		{{Name: "liar", Size: 64 << 10, Ratio: 1, DeclaredSize: 4 << 20}},
		{{Name: "long", Size: 1 << 20, Ratio: 100, DeclaredSize: 4 << 10}},
		{{Name: "stream", Size: 3 << 20, Ratio: 50, Stream: true}},
	}
	for _, s := range seeds {
		data, err := ziptest.Bytes(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	limits := safezip.Limits{MaxEntries: 16, MaxEntrySize: 8 << 20, MaxTotalSize: 12 << 20, MaxRatio: 50}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := open(data, limits)
		if err != nil {
			return
		}
		var total int64
		alloc := ziptest.Allocated(func() {
			for _, e := range a.Entries {
				b, err := a.ReadFile(e.Name)
				if err != nil {
					continue
				}
				total += int64(len(b))
				if int64(len(b)) > limits.MaxEntrySize || int64(len(b)) > e.CompressedSize*limits.MaxRatio+safezip.RatioSlack {
					t.Fatalf("%s: %d bytes from %d compressed passed the limits", e.Name, len(b), e.CompressedSize)
				}
			}
		})
		if total > limits.MaxTotalSize {
			t.Fatalf("%d bytes in all passed the total limit", total)
		}
		if alloc > uint64(3*limits.MaxTotalSize+16<<20) {
			t.Fatalf("reading allocated %d bytes", alloc)
		}
	})
}
