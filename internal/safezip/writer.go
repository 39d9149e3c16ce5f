package safezip

import (
	"archive/zip"
	"bytes"
	"io"
	"slices"
	"strings"
)

// File is one entry to write.
type File struct {
	Name string
	Data []byte
}

// Write writes files as a canonical archive: entries sorted by name,
// deflated, with the fixed timestamp and 0644 mode. The same files always
// give the same bytes.
func Write(w io.Writer, files []File) error {
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	zw := zip.NewWriter(w)
	for _, f := range sorted {
		if err := checkName(f.Name); err != nil {
			return err
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

// Bytes returns the canonical archive of files.
func Bytes(files []File) ([]byte, error) {
	var buf bytes.Buffer
	if err := Write(&buf, files); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
