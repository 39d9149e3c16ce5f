// Package safezip reads and writes the canonical zip archives that hold Gait
// artifacts. The reader is strict: besides what archive/zip checks, it walks
// every byte of the archive and rejects anything a canonical writer would
// not produce (duplicate or unsafe names, symlinks, headers that disagree,
// gaps, trailing data, oversized or over-compressed entries), so a flipped
// byte anywhere in the file is noticed even where common readers look away.
package safezip

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Limits bound what a reader accepts before it allocates or inflates. They
// are checked against the sizes the headers declare, once the central
// directory and the data descriptor agree on them; reading an entry then
// stops the moment its content passes the declared size.
type Limits struct {
	MaxEntries   int
	MaxEntrySize int64 // uncompressed bytes per entry
	MaxTotalSize int64 // uncompressed bytes over all entries
	// MaxRatio bounds how far an entry may inflate: at most MaxRatio
	// uncompressed bytes per compressed byte, plus RatioSlack, so tiny
	// entries that compress very well still pass.
	MaxRatio int64
	// CheckCompression re-deflates entries up to 1 MiB and compares the
	// bytes, so a change in bits that inflate ignores (padding before a
	// stored block) is caught too. Verification wants it; readers that only
	// need the content (and check its digests) can skip the cost.
	CheckCompression bool
}

// RatioSlack is how many bytes any entry may inflate to beyond
// MaxRatio times its compressed size.
const RatioSlack = 64 << 10

// DefaultLimits are generous bounds for archives of no particular kind;
// readers of a known kind of artifact pass tighter ones.
var DefaultLimits = Limits{
	MaxEntries:       1024,
	MaxEntrySize:     256 << 20,
	MaxTotalSize:     512 << 20,
	MaxRatio:         200,
	CheckCompression: true,
}

// ErrLimit marks an archive that is well formed but larger than the
// reader's limits allow: too many entries, too large, or compressed
// further than real content compresses (a zip bomb).
var ErrLimit = errors.New("archive exceeds the reader's limits")

// FixedTime is the modification time of every entry a canonical writer emits.
var FixedTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// ErrNotZip means the bytes are not a zip archive at all.
var ErrNotZip = errors.New("not a zip archive")

// EntryError is a structural problem found in one entry (or the archive
// itself when Entry is empty). When the problem is a limit, it matches
// ErrLimit.
type EntryError struct {
	Entry   string
	Problem string
	limit   bool
}

// Is reports whether target is ErrLimit and the problem a limit.
func (e *EntryError) Is(target error) bool { return e.limit && target == ErrLimit }

func (e *EntryError) Error() string {
	if e.Entry == "" {
		return "zip: " + e.Problem
	}
	return fmt.Sprintf("zip entry %s: %s", e.Entry, e.Problem)
}

func entryErr(name, format string, args ...any) error {
	return &EntryError{Entry: name, Problem: fmt.Sprintf(format, args...)}
}

func limitErr(name, format string, args ...any) error {
	return &EntryError{Entry: name, Problem: fmt.Sprintf(format, args...), limit: true}
}

// Entry is one checked file in an archive.
type Entry struct {
	Name           string
	Size           int64 // uncompressed
	CompressedSize int64
	CRC32          uint32
	method         uint16
	dataOffset     int64
}

// Archive is a strictly checked zip archive.
type Archive struct {
	limits  Limits
	ra      io.ReaderAt
	size    int64
	Entries []Entry // in archive order
	byName  map[string]int
	closer  io.Closer
	// sized marks entries read to the end with size and CRC as declared,
	// so their declared size can be trusted for allocation.
	sized []bool
}

// Open opens and checks the archive at path. Close it when done.
func Open(path string, limits Limits) (*Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() <= readWhole {
		// One read instead of one per header and entry.
		data := make([]byte, st.Size())
		_, err := io.ReadFull(f, data)
		_ = f.Close()
		if err != nil {
			return nil, err
		}
		return NewReader(bytes.NewReader(data), int64(len(data)), limits)
	}
	a, err := NewReader(f, st.Size(), limits)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	a.closer = f
	return a, nil
}

// readWhole is the largest archive Open reads into memory at once: regress
// opens thousands of small runpacks, and reading each in one call saves
// the system calls of reading its headers and entries one by one.
const readWhole = 256 << 10

// Close releases the file behind an archive from Open.
func (a *Archive) Close() error {
	if a.closer == nil {
		return nil
	}
	return a.closer.Close()
}

const (
	localHeaderLen = 30
	centralLen     = 46
	eocdLen        = 22
	descriptorLen  = 16
	localSig       = 0x04034b50
	centralSig     = 0x02014b50
	descriptorSig  = 0x08074b50
	eocdSig        = 0x06054b50
	flagDescriptor = 0x8
	flagUTF8       = 0x800
	creatorUnix20  = 3<<8 | 20
	regularFile644 = uint32(0o100644) << 16
)

// NewReader checks the archive in ra and returns its entries. Nothing is
// inflated: names, modes, headers and declared sizes are checked against
// each other and the limits first.
func NewReader(ra io.ReaderAt, size int64, limits Limits) (*Archive, error) {
	if err := checkEntryCount(ra, size, limits); err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotZip, err)
	}
	if len(zr.File) > limits.MaxEntries {
		return nil, limitErr("", "%d entries exceed the limit of %d", len(zr.File), limits.MaxEntries)
	}
	if zr.Comment != "" {
		return nil, entryErr("", "archive comment is not allowed")
	}
	a := &Archive{limits: limits, ra: ra, size: size, byName: make(map[string]int, len(zr.File))}
	var pos, total int64
	for i, f := range zr.File {
		if err := checkName(f.Name); err != nil {
			return nil, err
		}
		if _, dup := a.byName[f.Name]; dup {
			return nil, entryErr(f.Name, "duplicate entry name")
		}
		if err := checkCentralFields(f); err != nil {
			return nil, err
		}
		// Canonical entries carry 32-bit sizes (no zip64), checked above.
		usize, csize := int64(f.UncompressedSize64), int64(f.CompressedSize64) //nolint:gosec // below 1<<32, checked by checkCentralFields
		dataOffset, err := checkLocalHeader(ra, size, pos, f)
		if err != nil {
			return nil, err
		}
		if off, err := f.DataOffset(); err != nil || off != dataOffset {
			return nil, entryErr(f.Name, "central directory points at offset %d, entry is at %d", off, dataOffset)
		}
		end := dataOffset + csize
		if err := checkDescriptor(ra, size, end, f); err != nil {
			return nil, err
		}
		// The sizes are now the same in three places, so a problem with
		// them is the archive's size, not a damaged header.
		if err := checkSizes(f.Name, usize, csize, limits); err != nil {
			return nil, err
		}
		total += usize
		if total > limits.MaxTotalSize {
			return nil, limitErr(f.Name, "total uncompressed size exceeds the limit of %s", HumanSize(limits.MaxTotalSize))
		}
		a.byName[f.Name] = i
		a.Entries = append(a.Entries, Entry{
			Name: f.Name, Size: usize, CompressedSize: csize,
			CRC32: f.CRC32, method: f.Method, dataOffset: dataOffset,
		})
		pos = end + descriptorLen
	}
	if err := checkCentralDirectory(ra, size, pos, zr.File); err != nil {
		return nil, err
	}
	a.sized = make([]bool, len(a.Entries))
	return a, nil
}

// checkEntryCount reads the entry count from the end record of a canonical
// archive (no comment, so it closes the file) before archive/zip parses
// the central directory, so a archive of countless tiny entries costs
// nothing. Both counts must agree for a limit to be reported: a damaged
// count is left to the structural checks.
func checkEntryCount(ra io.ReaderAt, size int64, limits Limits) error {
	if size < eocdLen {
		return nil
	}
	e := make([]byte, eocdLen)
	if _, err := ra.ReadAt(e, size-eocdLen); err != nil {
		return nil //nolint:nilerr // archive/zip reports the read error
	}
	le := binary.LittleEndian
	n := le.Uint16(e[10:])
	if le.Uint32(e[0:]) == eocdSig && le.Uint16(e[8:]) == n && int(n) > limits.MaxEntries {
		return limitErr("", "%d entries exceed the limit of %d", n, limits.MaxEntries)
	}
	return nil
}

// checkSizes applies the size and ratio limits to one entry.
func checkSizes(name string, usize, csize int64, limits Limits) error {
	switch {
	case usize > limits.MaxEntrySize:
		return limitErr(name, "size %s exceeds the limit of %s per entry", HumanSize(usize), HumanSize(limits.MaxEntrySize))
	case usize > csize*limits.MaxRatio+RatioSlack:
		return limitErr(name, "inflates %d-fold (%s from %s), beyond the limit of %d-fold: a zip bomb", usize/max(csize, 1), HumanSize(usize), HumanSize(csize), limits.MaxRatio)
	}
	return nil
}

// HumanSize formats a byte count for messages.
func HumanSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func checkName(name string) error {
	switch {
	case name == "":
		return entryErr(name, "empty name")
	case strings.Contains(name, `\`):
		return entryErr(name, "name contains a backslash")
	case strings.HasPrefix(name, "/") || !filepath.IsLocal(name) || !fs.ValidPath(name):
		return entryErr(name, "name is absolute or escapes the archive")
	}
	return nil
}

func checkCentralFields(f *zip.File) error {
	mode := f.Mode()
	switch {
	case mode&fs.ModeSymlink != 0:
		return entryErr(f.Name, "symlinks are not allowed")
	case !mode.IsRegular():
		return entryErr(f.Name, "only regular files are allowed (mode %v)", mode)
	case f.ExternalAttrs != regularFile644:
		return entryErr(f.Name, "file attributes %#x are not the canonical 0644 regular file", f.ExternalAttrs)
	case f.CreatorVersion != creatorUnix20 || f.ReaderVersion != 20:
		return entryErr(f.Name, "zip versions %#x/%d are not canonical (zip64 is not supported)", f.CreatorVersion, f.ReaderVersion)
	case f.Flags&^flagUTF8 != flagDescriptor:
		return entryErr(f.Name, "general purpose flags %#x are not canonical", f.Flags)
	case f.Method != zip.Deflate && f.Method != zip.Store:
		return entryErr(f.Name, "compression method %d is not supported", f.Method)
	case f.Comment != "":
		return entryErr(f.Name, "entry comments are not allowed")
	case f.ModifiedDate != 0x21 || f.ModifiedTime != 0:
		return entryErr(f.Name, "modification time is not the fixed 1980-01-01")
	case !bytes.Equal(f.Extra, canonicalExtra):
		return entryErr(f.Name, "extra field is not the canonical timestamp")
	case f.UncompressedSize64 >= 1<<32 || f.CompressedSize64 >= 1<<32:
		return entryErr(f.Name, "sizes need zip64, which is not supported")
	case f.Method == zip.Store && f.CompressedSize64 != f.UncompressedSize64:
		return entryErr(f.Name, "stored entry sizes disagree")
	}
	return nil
}

// canonicalExtra is the extended-timestamp extra field for FixedTime.
var canonicalExtra = func() []byte {
	b := make([]byte, 9)
	binary.LittleEndian.PutUint16(b[0:], 0x5455)
	binary.LittleEndian.PutUint16(b[2:], 5)
	b[4] = 1
	binary.LittleEndian.PutUint32(b[5:], uint32(FixedTime.Unix()))
	return b
}()

func readAt(ra io.ReaderAt, size, off, n int64, what, name string) ([]byte, error) {
	if off < 0 || n < 0 || off+n > size {
		return nil, entryErr(name, "%s runs past the end of the archive", what)
	}
	b := make([]byte, n)
	if _, err := ra.ReadAt(b, off); err != nil {
		return nil, entryErr(name, "reading %s: %v", what, err)
	}
	return b, nil
}

// checkLocalHeader compares the local header at pos with the central record
// and returns where the entry's data starts.
func checkLocalHeader(ra io.ReaderAt, size, pos int64, f *zip.File) (int64, error) {
	h, err := readAt(ra, size, pos, localHeaderLen, "local header", f.Name)
	if err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	nameLen, extraLen := int64(le.Uint16(h[26:])), int64(le.Uint16(h[28:]))
	switch {
	case le.Uint32(h[0:]) != localSig:
		return 0, entryErr(f.Name, "no local header at offset %d (gap or reordered data)", pos)
	case le.Uint16(h[4:]) != f.ReaderVersion:
		return 0, entryErr(f.Name, "local header version disagrees with the central directory")
	case le.Uint16(h[6:]) != f.Flags:
		return 0, entryErr(f.Name, "local header flags disagree with the central directory")
	case le.Uint16(h[8:]) != f.Method:
		return 0, entryErr(f.Name, "local header compression method disagrees with the central directory")
	case le.Uint16(h[10:]) != f.ModifiedTime || le.Uint16(h[12:]) != f.ModifiedDate:
		return 0, entryErr(f.Name, "local header time disagrees with the central directory")
	case le.Uint32(h[14:]) != 0 || le.Uint32(h[18:]) != 0 || le.Uint32(h[22:]) != 0:
		return 0, entryErr(f.Name, "local header carries sizes although a data descriptor follows")
	case nameLen != int64(len(f.Name)) || extraLen != int64(len(f.Extra)):
		return 0, entryErr(f.Name, "local header name or extra length disagrees with the central directory")
	}
	rest, err := readAt(ra, size, pos+localHeaderLen, nameLen+extraLen, "local header name", f.Name)
	if err != nil {
		return 0, err
	}
	if string(rest[:nameLen]) != f.Name {
		return 0, entryErr(f.Name, "local header names %q", rest[:nameLen])
	}
	if !bytes.Equal(rest[nameLen:], f.Extra) {
		return 0, entryErr(f.Name, "local header extra field disagrees with the central directory")
	}
	return pos + localHeaderLen + nameLen + extraLen, nil
}

func checkDescriptor(ra io.ReaderAt, size, off int64, f *zip.File) error {
	d, err := readAt(ra, size, off, descriptorLen, "data descriptor", f.Name)
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	if le.Uint32(d[0:]) != descriptorSig || le.Uint32(d[4:]) != f.CRC32 ||
		uint64(le.Uint32(d[8:])) != f.CompressedSize64 || uint64(le.Uint32(d[12:])) != f.UncompressedSize64 {
		return entryErr(f.Name, "data descriptor disagrees with the central directory")
	}
	return nil
}

// checkCentralDirectory walks the central records, which must start right
// after the last entry, and the end record, which must close the file.
func checkCentralDirectory(ra io.ReaderAt, size, pos int64, files []*zip.File) error {
	le := binary.LittleEndian
	var entryStart int64
	for _, f := range files {
		h, err := readAt(ra, size, pos, centralLen, "central directory record", f.Name)
		if err != nil {
			return err
		}
		nameLen, extraLen, commentLen := int64(le.Uint16(h[28:])), int64(le.Uint16(h[30:])), int64(le.Uint16(h[32:]))
		switch {
		case le.Uint32(h[0:]) != centralSig:
			return entryErr(f.Name, "central directory does not start right after the entries")
		case le.Uint16(h[34:]) != 0 || le.Uint16(h[36:]) != 0:
			return entryErr(f.Name, "central record disk number or internal attributes are not zero")
		case int64(le.Uint32(h[42:])) != entryStart:
			return entryErr(f.Name, "central record offset %d, entry is at %d", le.Uint32(h[42:]), entryStart)
		case nameLen != int64(len(f.Name)) || extraLen != int64(len(f.Extra)) || commentLen != 0:
			return entryErr(f.Name, "central record lengths are not canonical")
		}
		entryStart += localHeaderLen + nameLen + extraLen + int64(f.CompressedSize64) + descriptorLen //nolint:gosec // bounded in NewReader
		pos += centralLen + nameLen + extraLen
	}
	e, err := readAt(ra, size, pos, eocdLen, "end of central directory", "")
	if err != nil {
		return err
	}
	n := uint16(len(files)) //nolint:gosec // len(files) <= Limits.MaxEntries, checked first; canonical archives hold far fewer than 65,536 entries
	switch {
	case le.Uint32(e[0:]) != eocdSig:
		return entryErr("", "unexpected bytes between the central directory and its end record")
	case le.Uint16(e[4:]) != 0 || le.Uint16(e[6:]) != 0 || le.Uint16(e[8:]) != n || le.Uint16(e[10:]) != n:
		return entryErr("", "end record disk numbers or entry counts are not canonical")
	case int64(le.Uint32(e[16:]))+int64(le.Uint32(e[12:])) != pos || int64(le.Uint32(e[16:])) != entryStart:
		return entryErr("", "end record central directory offset or size is wrong")
	case le.Uint16(e[20:]) != 0 || pos+eocdLen != size:
		return entryErr("", "trailing data after the end record")
	}
	return nil
}

// Names lists entry names in archive order.
func (a *Archive) Names() []string {
	names := make([]string, len(a.Entries))
	for i, e := range a.Entries {
		names[i] = e.Name
	}
	return names
}

// Has reports whether the archive holds name.
func (a *Archive) Has(name string) bool {
	_, ok := a.byName[name]
	return ok
}

// Open streams the uncompressed bytes of name. The reader fails at EOF if
// the size, CRC or compressed length do not match the headers.
func (a *Archive) Open(name string) (io.Reader, error) {
	i, ok := a.byName[name]
	if !ok {
		return nil, entryErr(name, "missing from the archive")
	}
	e := a.Entries[i]
	br := bufReaders.Get().(*bufio.Reader)
	br.Reset(io.NewSectionReader(a.ra, e.dataOffset, e.CompressedSize))
	src := &countingReader{r: br}
	var body io.Reader = src
	var inflater io.ReadCloser
	if e.method == zip.Deflate {
		inflater = flateReaders.Get().(io.ReadCloser)
		_ = inflater.(flate.Resetter).Reset(src, nil)
		body = inflater
	}
	r := &entryReader{a: a, e: e, index: i, body: io.LimitReader(body, e.Size+1), src: src, inflater: inflater, crc: crc32.NewIEEE()}
	if a.limits.CheckCompression && e.method == zip.Deflate && e.Size <= canonicalCheckMax {
		r.plain = bytes.NewBuffer(make([]byte, 0, e.Size))
	}
	return r, nil
}

// canonicalCheckMax is the largest entry whose compressed bytes are checked
// against a fresh canonical compression. Deflate ignores the padding bits
// before a stored block, so only recompression notices a flip there; for
// larger entries the CRC, exact compressed length and the manifest's
// SHA-256 stand guard, and the cost would dominate verification.
const canonicalCheckMax = 1 << 20

// canonicalLevel is the deflate level archive/zip uses, and so the writer.
const canonicalLevel = 5

// flateWriters and bufReaders recycle the large compressor state and read
// buffers: regress opens thousands of small archives.
var (
	flateWriters = sync.Pool{New: func() any {
		fw, _ := flate.NewWriter(io.Discard, canonicalLevel)
		return fw
	}}
	bufReaders   = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}
	flateReaders = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}
)

func (a *Archive) checkCanonicalCompression(e Entry, plain []byte) error {
	var want bytes.Buffer
	want.Grow(int(e.CompressedSize) + 64)
	fw := flateWriters.Get().(*flate.Writer)
	fw.Reset(&want)
	_, _ = fw.Write(plain)
	_ = fw.Close()
	flateWriters.Put(fw)
	if int64(want.Len()) != e.CompressedSize {
		return entryErr(e.Name, "compressed bytes are not canonical")
	}
	got := make([]byte, e.CompressedSize)
	if _, err := a.ra.ReadAt(got, e.dataOffset); err != nil {
		return entryErr(e.Name, "reading compressed data: %v", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		return entryErr(e.Name, "compressed bytes are not canonical")
	}
	return nil
}

// maxPrealloc is the most ReadFile allocates on the word of the headers:
// beyond it the buffer grows with the content actually inflated, unless
// the entry has already been read through once (by Sum, say) and its
// declared size proven.
const maxPrealloc = 256 << 10

// ReadFile returns the whole content of name. An entry whose size is
// proven (Sum has read it) is read into a buffer of exactly that size, on
// all cores when it is large; any other grows its buffer as it inflates.
func (a *Archive) ReadFile(name string) ([]byte, error) {
	i, ok := a.byName[name]
	if ok && a.sized[i] {
		buf := bytes.NewBuffer(make([]byte, 0, a.Entries[i].Size))
		if a.inflateParallel(i, buf) {
			return buf.Bytes(), nil
		}
	}
	r, err := a.Open(name)
	if err != nil {
		return nil, err
	}
	size := a.Entries[i].Size
	if !a.sized[i] {
		size = min(size, maxPrealloc)
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Size returns the declared uncompressed size of name (0 when it is
// missing); the limits bound it, and reading enforces it.
func (a *Archive) Size(name string) int64 {
	i, ok := a.byName[name]
	if !ok {
		return 0
	}
	return a.Entries[i].Size
}

// countingReader counts bytes consumed; it is an io.ByteReader so flate
// reads exactly what it needs and the count is the true compressed length.
type countingReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

type entryReader struct {
	a        *Archive
	e        Entry
	index    int
	plain    *bytes.Buffer // kept for the canonical compression check
	body     io.Reader
	src      *countingReader
	inflater io.ReadCloser
	crc      hashWriter
	n        int64
	err      error
}

type hashWriter interface {
	io.Writer
	Sum32() uint32
}

func (r *entryReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	defer r.releaseOnEnd()
	n, err := r.body.Read(p)
	r.n += int64(n)
	_, _ = r.crc.Write(p[:n])
	if r.plain != nil {
		r.plain.Write(p[:n])
	}
	if r.n > r.e.Size {
		r.err = entryErr(r.e.Name, "content is longer than its declared size")
		return n, r.err
	}
	if err == io.EOF {
		switch {
		case r.n != r.e.Size:
			r.err = entryErr(r.e.Name, "content is shorter than its declared size")
		case r.crc.Sum32() != r.e.CRC32:
			r.err = entryErr(r.e.Name, "CRC-32 mismatch")
		case r.src.n != r.e.CompressedSize:
			r.err = entryErr(r.e.Name, "compressed data has %d unused bytes", r.e.CompressedSize-r.src.n)
		case r.plain != nil:
			r.err = r.a.checkCanonicalCompression(r.e, r.plain.Bytes())
		}
		if r.err == nil {
			r.a.sized[r.index] = true
			r.err = io.EOF
		}
		return n, r.err
	}
	if err != nil {
		r.err = entryErr(r.e.Name, "corrupt compressed data: %v", err)
		return n, r.err
	}
	return n, nil
}

// releaseOnEnd returns the pooled read buffer once the entry is done.
func (r *entryReader) releaseOnEnd() {
	if r.err != nil && r.src.r != nil {
		r.src.r.Reset(nil)
		bufReaders.Put(r.src.r)
		r.src.r = nil
		if r.inflater != nil {
			flateReaders.Put(r.inflater)
			r.inflater = nil
		}
	}
}
