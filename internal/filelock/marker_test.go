package filelock

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMarker(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j.jsonl.lock")
	m := Marker{SchemaID: "gait.runpack.session_lock", Wait: 150 * time.Millisecond}

	l, err := m.Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(data), `"schema_id":"gait.runpack.session_lock"`) || !strings.Contains(string(data), `"holder":"gait"`) {
		t.Fatalf("marker %q, %v", data, err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("release left the marker: %v", err)
	}

	// a marker Gait left (a writer that died) and an empty file (Gait's
	// earlier lock files) are taken over
	for _, stale := range []string{`{"pid":1,"schema_id":"gait.runpack.session_lock","holder":"gait"}`, ""} {
		if err := os.WriteFile(path, []byte(stale), 0o600); err != nil {
			t.Fatal(err)
		}
		l, err := m.Acquire(path)
		if err != nil {
			t.Fatalf("stale marker %q: %v", stale, err)
		}
		_ = l.Release()
	}

	// another program's marker is waited for, then refused
	foreign := `{"created_at":"2026-01-01T00:00:00Z","pid":42,"schema_id":"gait.runpack.session_lock","schema_version":"1.0.0"}`
	if err := os.WriteFile(path, []byte(foreign), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := m.Acquire(path); err == nil || !strings.Contains(err.Error(), "held by another writer") {
		t.Fatalf("a held marker: %v", err)
	}
	if time.Since(start) < 150*time.Millisecond {
		t.Fatal("gave up before the wait")
	}
	if data, _ := os.ReadFile(path); string(data) != foreign {
		t.Fatal("another program's marker was touched")
	}
	// ... and taken once that program removes it
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = os.Remove(path)
	}()
	l, err = Marker{SchemaID: "x", Wait: 5 * time.Second}.Acquire(path)
	if err != nil {
		t.Fatalf("after the other program released: %v", err)
	}
	_ = l.Release()
}
