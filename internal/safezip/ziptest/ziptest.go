// Package ziptest writes hostile archives for tests and measurements:
// entries that inflate far beyond their compressed size, headers that lie
// about sizes or disagree with each other, and archives with many entries.
// Bombs are built from one compressed block repeated, so even a gigabyte
// entry is written in well under a second without ever being held inflated.
package ziptest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"runtime"

	"github.com/gait-dev/gait/internal/safezip"
)

// Entry is one entry to write: plain Data written canonically (as
// safezip.Write does for small entries), or, when Size is set, a bomb that
// inflates to Size bytes.
type Entry struct {
	Name string
	Data []byte

	// Size makes the entry a bomb of Size inflated bytes.
	Size int64
	// Ratio is the bomb's approximate inflated:compressed ratio; 0 is as
	// compressible as deflate allows (about 1000:1).
	Ratio int
	// Stream compresses the bomb as one deflate stream instead of repeated
	// independent blocks ending in sync flushes (what gait's writer emits
	// for large entries and its verifier inflates in parallel).
	Stream bool
	// DeclaredSize, when not zero, is the inflated size the headers claim
	// instead of the true one; the CRC stays that of the true content.
	DeclaredSize int64
	// Block is how many inflated bytes each independent block of a bomb
	// holds (1 MiB when zero), for streams shaped like gait's own.
	Block int64

	// Deflated, when set, is written as the entry's compressed bytes as
	// is, with Data giving the headers' size and CRC.
	Deflated []byte
}

const block = 1 << 20

// blockContent is one block of a bomb: enough seeded random bytes to give
// about ratio:1 when deflated, then zeros.
func blockContent(n int64, ratio int) []byte {
	b := make([]byte, n)
	if ratio > 0 {
		r := rand.New(rand.NewPCG(1, 2)) //nolint:gosec // reproducible test data
		random := max(n/int64(ratio)-64, 0)
		for i := range random {
			b[i] = byte(r.Uint32() & 0xff)
		}
	}
	return b
}

func deflate(data []byte, final bool) []byte {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	_, _ = fw.Write(data)
	if final {
		_ = fw.Close()
	} else {
		_ = fw.Flush()
	}
	return buf.Bytes()
}

// bomb returns the compressed bytes and CRC of e's content.
func bomb(e Entry) ([]byte, uint32) {
	block := int64(block)
	if e.Block > 0 {
		block = e.Block
	}
	full, tail := e.Size/block, e.Size%block
	if e.Stream {
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, flate.BestCompression)
		crc := crc32.NewIEEE()
		b := blockContent(block, e.Ratio)
		w := io.MultiWriter(fw, crc)
		for range full {
			_, _ = w.Write(b)
		}
		_, _ = w.Write(b[:tail])
		_ = fw.Close()
		return buf.Bytes(), crc.Sum32()
	}
	b := blockContent(block, e.Ratio)
	piece := deflate(b, false)
	var out bytes.Buffer
	var crc uint32
	for range full {
		out.Write(piece)
		crc = crc32.Update(crc, crc32.IEEETable, b)
	}
	if tail > 0 {
		out.Write(deflate(b[:tail], false))
		crc = crc32.Update(crc, crc32.IEEETable, b[:tail])
	}
	out.Write([]byte{0x03, 0x00}) // final, empty fixed-Huffman block
	return out.Bytes(), crc
}

// Write writes entries, in the order given, as an archive that passes
// every structural check of the strict reader.
func Write(w io.Writer, entries []Entry) error {
	zw := zip.NewWriter(w)
	for _, e := range entries {
		if e.Deflated != nil {
			fw, err := zw.CreateRaw(safezip.RawHeader(e.Name, crc32.ChecksumIEEE(e.Data), int64(len(e.Deflated)), int64(len(e.Data))))
			if err != nil {
				return err
			}
			if _, err := fw.Write(e.Deflated); err != nil {
				return err
			}
			continue
		}
		if e.Size == 0 {
			h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate, Modified: safezip.FixedTime}
			h.SetMode(0o644)
			fw, err := zw.CreateHeader(h)
			if err != nil {
				return err
			}
			if _, err := fw.Write(e.Data); err != nil {
				return err
			}
			continue
		}
		compressed, crc := bomb(e)
		size := e.Size
		if e.DeclaredSize != 0 {
			size = e.DeclaredSize
		}
		fw, err := zw.CreateRaw(safezip.RawHeader(e.Name, crc, int64(len(compressed)), size))
		if err != nil {
			return err
		}
		if _, err := fw.Write(compressed); err != nil {
			return err
		}
	}
	return zw.Close()
}

// Bytes returns the archive of entries.
func Bytes(entries []Entry) ([]byte, error) {
	var buf bytes.Buffer
	err := Write(&buf, entries)
	return buf.Bytes(), err
}

// WriteFile writes the archive of entries to path.
func WriteFile(path string, entries []Entry) error {
	data, err := Bytes(entries)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// Many returns n small entries named prefix0000, prefix0001, ...
func Many(prefix string, n int) []Entry {
	out := make([]Entry, n)
	for i := range out {
		out[i] = Entry{Name: fmt.Sprintf("%s%04d", prefix, i), Data: []byte("x")}
	}
	return out
}

// SpoofLocalName rewrites the name in name's local header to fake (same
// length), so the local header disagrees with the central directory.
func SpoofLocalName(data []byte, name, fake string) ([]byte, error) {
	if len(fake) != len(name) {
		return nil, errors.New("ziptest: fake name must have the same length")
	}
	out := bytes.Clone(data)
	le := binary.LittleEndian
	for pos := 0; pos+30 <= len(out); pos++ {
		if le.Uint32(out[pos:]) != 0x04034b50 {
			continue
		}
		n := int(le.Uint16(out[pos+26:]))
		if n == len(name) && pos+30+n <= len(out) && string(out[pos+30:pos+30+n]) == name {
			copy(out[pos+30:], fake)
			return out, nil
		}
	}
	return nil, errors.New("ziptest: no local header for " + name)
}

// Allocated returns the bytes f allocates on the heap, after a GC, so a
// test can bound what reading a hostile archive costs without timing it.
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
