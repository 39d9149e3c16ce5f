// Package capped reads files that a pull request controls without trusting
// their size: reading stops one byte past a limit.
package capped

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrTooLarge marks a file over the limit it was read with.
var ErrTooLarge = errors.New("file too large")

// ReadFile returns the content of path, or an error wrapping ErrTooLarge
// (and naming the limit) when it holds more than limit bytes. It never
// allocates more than limit+1 bytes on the file's word.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(512)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = min(fi.Size(), limit) + 1
	}
	buf := make([]byte, 0, size)
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, fmt.Errorf("over the limit of %d bytes: %w", limit, ErrTooLarge)
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}
