package safezip

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"hash"
	"hash/crc32"
	"io"
	"runtime"
	"sync"
)

// Large entries written by this package are independent deflate chunks,
// each ending in a sync flush (00 00 ff ff). Sum finds those boundaries and
// inflates the chunks on all cores. Anything unexpected (no boundaries, a
// piece too large, a marker that was only data, a CRC that does not match)
// falls back to the sequential reader, so the result never depends on the
// fast path being taken.
const (
	parallelMinSize = 4 << 20 // uncompressed bytes before the fast path is tried
	maxPieceBytes   = 4 << 20 // compressed bytes per piece, keeps memory flat
	// maxPieceOutput bounds what one piece may inflate to: the writer's
	// chunks hold deflateChunkSize bytes, so anything larger is not one of
	// them and the sequential reader takes over.
	maxPieceOutput = 2 * deflateChunkSize
)

var syncMarker = []byte{0x00, 0x00, 0xff, 0xff}

// Sum hashes the uncompressed content of name with a fresh hash from
// newHash, checking size and CRC like Open does.
func (a *Archive) Sum(name string, newHash func() hash.Hash) ([]byte, error) {
	i, ok := a.byName[name]
	if !ok {
		return nil, entryErr(name, "missing from the archive")
	}
	if h := newHash(); a.inflateParallel(i, h) {
		return h.Sum(nil), nil
	}
	r, err := a.Open(name)
	if err != nil {
		return nil, err
	}
	h := newHash()
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	if _, err := io.CopyBuffer(h, r, *buf); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

var pieceBuffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 1<<20+bytes.MinRead)) }}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

type piece struct{ start, end int64 } // offsets within the compressed data

// findPieces scans the compressed data for sync markers and returns the
// pieces between them, or nil when some piece would be too large or there
// are far more pieces than the writer's chunks (marker bytes repeated on
// purpose would otherwise cost a goroutine and a channel each).
func (a *Archive) findPieces(e Entry) []piece {
	maxPieces := int(e.Size/deflateChunkSize)*2 + 16
	const block = 1 << 20
	buf := make([]byte, block+len(syncMarker)-1)
	var pieces []piece
	var last int64
	for off := int64(0); off < e.CompressedSize; off += block {
		n := min(int64(len(buf)), e.CompressedSize-off)
		if _, err := a.ra.ReadAt(buf[:n], e.dataOffset+off); err != nil {
			return nil
		}
		scan := buf[:n]
		for base := 0; ; {
			j := bytes.Index(scan[base:], syncMarker)
			if j < 0 {
				break
			}
			start := off + int64(base+j)
			base += j + 1
			if start >= off+block {
				break // the next block starts with it
			}
			cut := start + int64(len(syncMarker))
			if cut <= last || cut >= e.CompressedSize {
				continue
			}
			if cut-last > maxPieceBytes {
				return nil
			}
			pieces = append(pieces, piece{last, cut})
			last = cut
			if len(pieces) > maxPieces {
				return nil
			}
		}
	}
	if e.CompressedSize-last > maxPieceBytes {
		return nil
	}
	return append(pieces, piece{last, e.CompressedSize})
}

// inflateParallel writes entry i's content to w, inflating its pieces on
// all cores, when the entry is large and split into pieces. It reports
// false, having written nothing or a partial content to discard, when the
// fast path does not apply or the pieces do not reassemble into the entry.
func (a *Archive) inflateParallel(i int, w io.Writer) bool {
	e := a.Entries[i]
	if e.method != zip.Deflate || e.Size < parallelMinSize || runtime.GOMAXPROCS(0) < 2 {
		return false
	}
	pieces := a.findPieces(e)
	if len(pieces) < 2 || !a.writePieces(e, pieces, w) {
		return false
	}
	a.sized[i] = true
	return true
}

// writePieces inflates pieces concurrently and writes them to w in order.
// It reports false when the pieces do not reassemble into the entry.
func (a *Archive) writePieces(e Entry, pieces []piece, w io.Writer) bool {
	workers := runtime.GOMAXPROCS(0)
	outs := make([]chan *bytes.Buffer, len(pieces))
	for i := range outs {
		outs[i] = make(chan *bytes.Buffer, 1)
	}
	sem := make(chan struct{}, 2*workers) // pieces in flight: bounds memory
	go func() {
		for i := range pieces {
			sem <- struct{}{}
			go func() { outs[i] <- a.inflatePiece(e, pieces[i], i == len(pieces)-1) }()
		}
	}()
	crc := crc32.NewIEEE()
	var total int64
	ok := true
	for i := range pieces {
		out := <-outs[i]
		if out == nil {
			ok = false
		}
		if ok {
			_, _ = w.Write(out.Bytes())
			_, _ = crc.Write(out.Bytes())
			total += int64(out.Len())
		}
		if out != nil {
			pieceBuffers.Put(out)
		}
		<-sem
	}
	return ok && total == e.Size && crc.Sum32() == e.CRC32
}

// inflatePiece decodes one piece; a middle piece must end exactly after a
// sync flush, the last one with the final block. nil means it did not.
func (a *Archive) inflatePiece(e Entry, p piece, last bool) (result *bytes.Buffer) {
	br := bufReaders.Get().(*bufio.Reader)
	defer bufReaders.Put(br)
	br.Reset(io.NewSectionReader(a.ra, e.dataOffset+p.start, p.end-p.start))
	src := &countingReader{r: br}
	fr := flateReaders.Get().(io.ReadCloser)
	defer flateReaders.Put(fr)
	_ = fr.(flate.Resetter).Reset(src, nil)
	out := pieceBuffers.Get().(*bytes.Buffer)
	out.Reset()
	defer func() {
		if result == nil {
			pieceBuffers.Put(out)
		}
	}()
	_, err := out.ReadFrom(io.LimitReader(fr, min(e.Size, maxPieceOutput)+1))
	switch {
	case last && err != nil:
		return nil
	case !last && !errors.Is(err, io.ErrUnexpectedEOF):
		return nil
	case src.n != p.end-p.start || int64(out.Len()) > min(e.Size, maxPieceOutput):
		return nil
	}
	return out
}
