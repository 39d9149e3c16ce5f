package filelock

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// TestSerialises increments a counter file from many goroutines, each with
// its own lock handle; without mutual exclusion increments would be lost.
func TestSerialises(t *testing.T) {
	dir := t.TempDir()
	lockPath := filepath.Join(dir, "x.lock")
	counter := filepath.Join(dir, "n")
	if err := os.WriteFile(counter, []byte("0"), 0o644); err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range rounds {
				l, err := Acquire(lockPath)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := os.ReadFile(counter)
				n, _ := strconv.Atoi(string(b))
				_ = os.WriteFile(counter, []byte(strconv.Itoa(n+1)), 0o644)
				if err := l.Release(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	b, _ := os.ReadFile(counter)
	if got := string(b); got != strconv.Itoa(workers*rounds) {
		t.Fatalf("counter = %s, want %d", got, workers*rounds)
	}
}

func TestReleaseTwice(t *testing.T) {
	l, err := Acquire(filepath.Join(t.TempDir(), "sub", "a.lock"))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
}
