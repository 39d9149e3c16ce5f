// Package filelock serialises writers across processes with an advisory
// lock on a side file. The lock is released when the holder releases it or
// when the holding process exits, so a crashed writer never blocks others,
// and a live holder is never robbed of its lock however long it holds it.
//
// The lock is the operating system's (flock on Unix, LockFileEx on
// Windows), taken through go-internal's lockedfile, which also handles
// interrupted system calls.
package filelock

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/lockedfile"
)

// Lock is a held exclusive lock.
type Lock struct {
	unlock func()
}

// Acquire blocks until it holds an exclusive lock on path, creating the
// file (and its directory) when missing. The file itself is never removed:
// removing a lock file would let two writers hold "the" lock at once.
func Acquire(path string) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	unlock, err := lockedfile.MutexAt(path).Lock()
	if err != nil {
		return nil, fmt.Errorf("%s: lock: %w", path, err)
	}
	return &Lock{unlock: unlock}, nil
}

// Release gives the lock up. It is safe to call more than once.
func (l *Lock) Release() error {
	if l == nil || l.unlock == nil {
		return nil
	}
	l.unlock()
	l.unlock = nil
	return nil
}
