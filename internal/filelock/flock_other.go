//go:build !unix

package filelock

import (
	"errors"
	"os"
	"time"
)

// On systems without flock the lock is a sibling ".held" file created
// exclusively; a holder that dies leaves it behind, so stale files older
// than staleAfter are taken over.
const staleAfter = 30 * time.Second

func lock(f *os.File) error {
	held := f.Name() + ".held"
	for {
		h, err := os.OpenFile(held, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			return h.Close()
		}
		if !errors.Is(err, os.ErrExist) {
			return err
		}
		if st, err := os.Stat(held); err == nil && time.Since(st.ModTime()) > staleAfter {
			_ = os.Remove(held)
			continue
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func unlock(f *os.File) { _ = os.Remove(f.Name() + ".held") }
