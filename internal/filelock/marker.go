package filelock

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// Marker is an exclusive-create lock file, the kind Gait v1's session
// writers take: whoever creates the file holds the lock, and removes it
// to release. It is taken only under Gait's own lock (Acquire on
// path+".gait"), so a marker Gait wrote that is still there is known to be
// left by a writer that died, and is removed; a marker another program
// holds is waited for.
type Marker struct {
	// SchemaID names the marker document (v1 writes
	// gait.runpack.session_lock for journals).
	SchemaID string
	// Wait bounds the wait for another program's marker; 2 s (v1's) when 0.
	Wait time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

type markerDoc struct {
	CreatedAt     string `json:"created_at"`
	PID           int    `json:"pid"`
	SchemaID      string `json:"schema_id"`
	SchemaVersion string `json:"schema_version"`
	Holder        string `json:"holder,omitempty"`
}

// gaitHolder marks the markers Gait writes.
const gaitHolder = "gait"

// Acquire takes Gait's lock on path+".gait" and then the marker at path.
func (m Marker) Acquire(path string) (*Lock, error) {
	l, err := Acquire(path + ".gait")
	if err != nil {
		return nil, err
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	wait := m.Wait
	if wait == 0 {
		wait = 2 * time.Second
	}
	doc, _ := json.Marshal(markerDoc{CreatedAt: now().UTC().Format(time.RFC3339), PID: os.Getpid(), SchemaID: m.SchemaID, SchemaVersion: "1.0.0", Holder: gaitHolder})
	deadline := now().Add(wait)
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, werr := f.Write(append(doc, '\n'))
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				_ = os.Remove(path)
				_ = l.Release()
				return nil, fmt.Errorf("%s: lock: %w", path, werr)
			}
			unlockOwn := l.unlock
			l.unlock = func() {
				_ = os.Remove(path)
				unlockOwn()
			}
			return l, nil
		}
		if !errors.Is(err, os.ErrExist) {
			_ = l.Release()
			return nil, fmt.Errorf("%s: lock: %w", path, err)
		}
		switch markerState(path) {
		case markerGone:
			continue // released meanwhile: try again at once
		case markerStale:
			_ = os.Remove(path)
			continue
		}
		if now().After(deadline) {
			_ = l.Release()
			return nil, fmt.Errorf("%s: held by another writer for more than %s; if none is running, remove the file", path, wait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

const (
	markerHeld = iota
	markerGone
	markerStale
)

// markerState says whether the marker at path is gone, held by another
// program, or stale: left by Gait (or an empty file, as Gait's earlier lock
// files were), which under Gait's own lock no live Gait writer can hold.
func markerState(path string) int {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return markerGone
	}
	if err != nil {
		return markerHeld
	}
	if len(data) == 0 {
		return markerStale
	}
	var doc markerDoc
	if json.Unmarshal(data, &doc) == nil && doc.Holder == gaitHolder {
		return markerStale
	}
	return markerHeld
}
