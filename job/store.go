package job

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/filelock"
)

// File names inside a job directory.
const (
	FileState  = "state.json"
	FileEvents = "events.jsonl"
	fileLock   = "job.lock"
)

// DefaultRoot is where jobs live unless told otherwise.
const DefaultRoot = "gait-out/jobs"

// Store is a directory of jobs. Now and Fingerprint are injectable so tests
// and the demo get fixed timestamps and environments.
type Store struct {
	Root            string
	Now             func() time.Time
	Fingerprint     func() string
	ProducerVersion string
}

// NewStore returns a store rooted at root with the real clock and this
// machine's environment fingerprint.
func NewStore(root string) *Store {
	if root == "" {
		root = DefaultRoot
	}
	return &Store{Root: root, Now: time.Now, Fingerprint: EnvironmentFingerprint, ProducerVersion: "0.0.0-dev"}
}

// Dir is the directory of job id.
func (s *Store) Dir(id string) string { return filepath.Join(s.Root, id) }

func (s *Store) now() string { return formatTime(s.Now()) }

// crashHook, when set by tests, is called at named points of a write so a
// helper process can die there.
var crashHook func(point string)

func hook(point string) {
	if crashHook != nil {
		crashHook(point)
	}
}

// Status reads a job's current state without taking the lock: state.json
// is only ever replaced by rename, so it is always complete.
func (s *Store) Status(id string) (*State, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	return s.readState(id)
}

func (s *Store) readState(id string) (*State, error) {
	path := filepath.Join(s.Dir(id), FileState)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, exitcode.Invalidf("job %s: not found in %s; submit it with `gait job submit --id %s` or pass --root", id, s.Root, id)
	}
	if err != nil {
		return nil, err
	}
	st, err := ParseState(b)
	if err != nil {
		return nil, exitcode.Invalidf("%s: %v; the job state is damaged", path, err)
	}
	if st.JobID != id {
		return nil, exitcode.Invalidf("%s: job_id %q does not match the directory %q", path, st.JobID, id)
	}
	return st, nil
}

// ParseState decodes and checks a state.json document.
func ParseState(b []byte) (*State, error) {
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("not a job state: %w", err)
	}
	if st.SchemaID != SchemaState {
		return nil, fmt.Errorf("schema_id %q, want %q", st.SchemaID, SchemaState)
	}
	if st.SchemaVersion == "" || st.SchemaVersion[0] != '1' {
		return nil, fmt.Errorf("schema_version %q has an unknown major version", st.SchemaVersion)
	}
	return &st, nil
}

// Events returns the committed events of a job: complete lines whose
// revision the state has reached. Lines left by a writer that died before
// replacing the state are not part of the history.
func (s *Store) Events(id string) ([]Event, error) {
	st, err := s.Status(id)
	if err != nil {
		return nil, err
	}
	evs, _, err := s.readEvents(id, st.Revision)
	return evs, err
}

// readEvents parses events.jsonl up to revision upTo and returns the byte
// length of that committed prefix.
func (s *Store) readEvents(id string, upTo int64) ([]Event, int64, error) {
	path := filepath.Join(s.Dir(id), FileEvents)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var out []Event
	var good int64
	r := bufio.NewReader(bytes.NewReader(b))
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			break // a line without its newline was never committed
		}
		var ev Event
		if jerr := json.Unmarshal(line, &ev); jerr != nil {
			return nil, 0, exitcode.Invalidf("%s line %d: %v; the event log is damaged", path, n, jerr)
		}
		if ev.Revision > upTo {
			break
		}
		if want := int64(len(out)) + 1; ev.Revision != want {
			return nil, 0, exitcode.Invalidf("%s line %d: revision %d, want %d; the event log is damaged", path, n, ev.Revision, want)
		}
		out = append(out, ev)
		good += int64(len(line))
	}
	return out, good, nil
}

// change applies one operation to a job under its lock. apply edits the
// state and returns the event describing the change; when it fails nothing
// is written.
func (s *Store) change(id string, apply func(st *State, now string) (Event, error)) (*State, *Event, error) {
	if err := checkID(id); err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(filepath.Join(s.Dir(id), FileState)); err != nil {
		_, rerr := s.readState(id)
		if rerr == nil {
			rerr = err
		}
		return nil, nil, rerr
	}
	lock, err := filelock.Acquire(filepath.Join(s.Dir(id), fileLock))
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = lock.Release() }()
	st, err := s.readState(id)
	if err != nil {
		return nil, nil, err
	}
	if err := s.repair(id, st.Revision); err != nil {
		return nil, nil, err
	}
	now := s.now()
	ev, err := apply(st, now)
	if err != nil {
		return nil, nil, err
	}
	if err := s.commit(id, st, &ev, now); err != nil {
		return nil, nil, err
	}
	return st, &ev, nil
}

// repair cuts events.jsonl back to what state.json has committed and removes
// temporary files a crashed writer left. Callers hold the lock.
func (s *Store) repair(id string, revision int64) error {
	dir := s.Dir(id)
	path := filepath.Join(dir, FileEvents)
	_, good, err := s.readEvents(id, revision)
	if err != nil {
		return err
	}
	if st, err := os.Stat(path); err == nil && st.Size() != good {
		if err := os.Truncate(path, good); err != nil {
			return err
		}
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	for _, t := range tmps {
		_ = os.Remove(t)
	}
	return nil
}

// commit bumps the revision, appends the event and replaces the state.
func (s *Store) commit(id string, st *State, ev *Event, now string) error {
	st.Revision++
	st.UpdatedAt = now
	ev.SchemaID, ev.SchemaVersion, ev.JobID, ev.Revision = SchemaEvent, SchemaVersion, id, st.Revision
	if ev.CreatedAt == "" {
		ev.CreatedAt = now
	}
	line, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	hook("before-event")
	f, err := os.OpenFile(filepath.Join(s.Dir(id), FileEvents), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	half := len(line) / 2
	if _, err := f.Write(line[:half]); err != nil {
		_ = f.Close()
		return err
	}
	hook("mid-event")
	if _, err := f.Write(line[half:]); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	hook("after-event")
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	err = atomicfile.Write(filepath.Join(s.Dir(id), FileState), 0o644, func(w io.Writer) error {
		if _, err := w.Write(data[:len(data)/2]); err != nil {
			return err
		}
		hook("mid-state")
		_, err := w.Write(data[len(data)/2:])
		return err
	})
	if err != nil {
		return err
	}
	hook("after-state")
	return nil
}
