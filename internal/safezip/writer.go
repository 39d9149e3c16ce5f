package safezip

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// File is one entry to write.
type File struct {
	Name string
	Data []byte
}

// Write writes files as a canonical archive: entries sorted by name,
// deflated, with the fixed timestamp and 0644 mode. The same files always
// give the same bytes. Entries up to 1 MiB are deflated exactly as
// archive/zip does (so readers can check their compressed bytes); larger
// ones are deflated in independent chunks on all cores.
func Write(w io.Writer, files []File) error {
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	for _, f := range sorted {
		if err := checkName(f.Name); err != nil {
			return err
		}
	}
	big := make([][]byte, len(sorted))
	for i, f := range sorted {
		if len(f.Data) > canonicalCheckMax {
			big[i] = deflateChunks(f.Data)
		}
	}
	zw := zip.NewWriter(w)
	for i, f := range sorted {
		if big[i] != nil {
			if err := writeRaw(zw, f, big[i]); err != nil {
				return err
			}
			continue
		}
		h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: FixedTime}
		h.SetMode(0o644)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.Data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// writeRaw adds a precompressed entry with the header CreateHeader would
// have written for it.
func writeRaw(zw *zip.Writer, f File, compressed []byte) error {
	fw, err := zw.CreateRaw(RawHeader(f.Name, crc32.ChecksumIEEE(f.Data), int64(len(compressed)), int64(len(f.Data))))
	if err != nil {
		return err
	}
	_, err = fw.Write(compressed)
	return err
}

// RawHeader is the canonical header of a deflated entry whose compressed
// bytes are written as they are (zip.Writer.CreateRaw): the fixed time,
// mode and versions every canonical entry carries.
func RawHeader(name string, crc uint32, compressedSize, size int64) *zip.FileHeader {
	h := &zip.FileHeader{
		Name: name, Method: zip.Deflate, Flags: flagDescriptor,
		CreatorVersion: creatorUnix20, ReaderVersion: 20,
		// CreateRaw takes the MS-DOS fields as given; Modified is only read by CreateHeader.
		ModifiedDate: 0x21, ModifiedTime: 0, Extra: canonicalExtra, //nolint:staticcheck // see above

		ExternalAttrs: regularFile644, CRC32: crc,
		CompressedSize64: uint64(max(compressedSize, 0)), UncompressedSize64: uint64(max(size, 0)),
	}
	if !isASCII(name) && utf8.ValidString(name) {
		h.Flags |= flagUTF8
	}
	return h
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// deflateChunkSize is the unit of parallel compression. Each chunk is an
// independent run of deflate blocks ending in a sync flush, so the chunks
// concatenate into one valid stream.
const deflateChunkSize = 1 << 20

// deflateChunks compresses data as independent 1 MiB chunks at BestSpeed on
// all cores and closes the stream with an empty final block. The output
// depends only on data.
func deflateChunks(data []byte) []byte {
	n := (len(data) + deflateChunkSize - 1) / deflateChunkSize
	outs := make([][]byte, n)
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			var buf bytes.Buffer
			fw, _ := flate.NewWriter(&buf, flate.BestSpeed)
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				buf.Reset()
				fw.Reset(&buf)
				_, _ = fw.Write(data[i*deflateChunkSize : min((i+1)*deflateChunkSize, len(data))])
				_ = fw.Flush()
				outs[i] = bytes.Clone(buf.Bytes())
			}
		})
	}
	wg.Wait()
	size := 2
	for _, o := range outs {
		size += len(o)
	}
	out := make([]byte, 0, size)
	for _, o := range outs {
		out = append(out, o...)
	}
	return append(out, 0x03, 0x00) // final, empty fixed-Huffman block
}

// Bytes returns the canonical archive of files.
func Bytes(files []File) ([]byte, error) {
	var buf bytes.Buffer
	if err := Write(&buf, files); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
