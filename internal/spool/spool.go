// Package spool holds the body of a file whose beginning is known only once
// the body is complete (counts, a status), so the body can be written as it
// is produced without being held in memory.
package spool

import (
	"bufio"
	"io"
	"os"
)

// File is a temporary file written through a buffer and read back once.
type File struct {
	f *os.File
	w *bufio.Writer
}

// New creates a spool in dir (the system's temporary folder when empty).
// Close removes it.
func New(dir string) (*File, error) {
	f, err := os.CreateTemp(dir, ".gait-spool-*")
	if err != nil {
		return nil, err
	}
	return &File{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

// Write appends p to the spool.
func (s *File) Write(p []byte) (int, error) { return s.w.Write(p) }

// WriteTo copies everything written so far to w.
func (s *File) WriteTo(w io.Writer) (int64, error) {
	if err := s.w.Flush(); err != nil {
		return 0, err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	return io.Copy(w, s.f)
}

// Close removes the spool.
func (s *File) Close() error {
	err := s.f.Close()
	if rerr := os.Remove(s.f.Name()); err == nil {
		err = rerr
	}
	return err
}
