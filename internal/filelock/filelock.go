// Package filelock serialises writers across processes with an advisory
// lock on a side file. The lock is released when the holder closes it or
// when the holding process exits, so a crashed writer never blocks others.
package filelock

import (
	"fmt"
	"os"
	"path/filepath"
)

// Lock is a held exclusive lock.
type Lock struct {
	f *os.File
}

// Acquire blocks until it holds an exclusive lock on path, creating the
// file (and its directory) when missing.
func Acquire(path string) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lock(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%s: lock: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Release gives the lock up. It is safe to call more than once.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	unlock(l.f)
	err := l.f.Close()
	l.f = nil
	return err
}
