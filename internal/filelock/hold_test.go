package filelock

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestLiveHolderKeepsLock: however old the lock's files look, a waiter
// never takes the lock from a holder that has not released it.
func TestLiveHolderKeepsLock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	held, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		_ = os.Chtimes(filepath.Join(dir, e.Name()), old, old)
	}
	got := make(chan *Lock, 1)
	go func() {
		l, err := Acquire(path)
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	select {
	case <-got:
		t.Fatal("a second Acquire took the lock from a live holder")
	case <-time.After(300 * time.Millisecond):
	}
	if err := held.Release(); err != nil {
		t.Fatal(err)
	}
	select {
	case l := <-got:
		_ = l.Release()
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter did not get the lock after it was released")
	}
}

// TestSerialisesProcesses runs the counter increment in several processes.
func TestSerialisesProcesses(t *testing.T) {
	if os.Getenv("FILELOCK_CHILD") != "" {
		t.Skip("child")
	}
	dir := t.TempDir()
	counter := filepath.Join(dir, "n")
	if err := os.WriteFile(counter, []byte("0"), 0o644); err != nil {
		t.Fatal(err)
	}
	const procs, rounds = 4, 50
	var wg sync.WaitGroup
	for range procs {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestChildIncrements$")
			cmd.Env = append(os.Environ(), "FILELOCK_CHILD="+dir, "FILELOCK_ROUNDS="+strconv.Itoa(rounds))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("child: %v\n%s", err, out)
			}
		})
	}
	wg.Wait()
	b, _ := os.ReadFile(counter)
	if got := string(b); got != strconv.Itoa(procs*rounds) {
		t.Fatalf("counter = %s, want %d", got, procs*rounds)
	}
}

// TestChildIncrements is the body of TestSerialisesProcesses' children.
func TestChildIncrements(t *testing.T) {
	dir := os.Getenv("FILELOCK_CHILD")
	if dir == "" {
		t.Skip("run by TestSerialisesProcesses")
	}
	rounds, _ := strconv.Atoi(os.Getenv("FILELOCK_ROUNDS"))
	counter := filepath.Join(dir, "n")
	for range rounds {
		l, err := Acquire(filepath.Join(dir, "n.lock"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(counter)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(string(b))
		if err := os.WriteFile(counter, []byte(strconv.Itoa(n+1)), 0o644); err != nil {
			t.Fatal(err)
		}
		_ = l.Release()
	}
}
