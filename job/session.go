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
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/filelock"
	"github.com/gait-dev/gait/pack"
)

// Session document schema ids.
const (
	SchemaSessionJournal    = "gait.runpack.session_journal"
	SchemaSessionEvent      = "gait.runpack.session_event"
	SchemaSessionCheckpoint = "gait.runpack.session_checkpoint"
	SchemaSessionChain      = "gait.runpack.session_chain"
	SchemaSessionState      = "gait.runpack.session_state"
)

// Verdicts a session event may carry.
var Verdicts = []string{"allow", "block", "dry_run", "require_approval"}

// SessionHeader is the first record of a journal.
type SessionHeader struct {
	SchemaID        string         `json:"schema_id"`
	SchemaVersion   string         `json:"schema_version"`
	CreatedAt       string         `json:"created_at"`
	ProducerVersion string         `json:"producer_version"`
	SessionID       string         `json:"session_id"`
	RunID           string         `json:"run_id"`
	StartedAt       string         `json:"started_at"`
	Events          []SessionEvent `json:"events"`
}

// SessionEvent is one gated tool call recorded in a journal.
type SessionEvent struct {
	SchemaID        string        `json:"schema_id"`
	SchemaVersion   string        `json:"schema_version"`
	CreatedAt       string        `json:"created_at"`
	ProducerVersion string        `json:"producer_version"`
	SessionID       string        `json:"session_id"`
	RunID           string        `json:"run_id"`
	Sequence        int64         `json:"sequence"`
	IntentID        string        `json:"intent_id,omitempty"`
	ToolName        string        `json:"tool_name,omitempty"`
	IntentDigest    string        `json:"intent_digest,omitempty"`
	PolicyDigest    string        `json:"policy_digest,omitempty"`
	TraceID         string        `json:"trace_id,omitempty"`
	TracePath       string        `json:"trace_path,omitempty"`
	Verdict         string        `json:"verdict,omitempty"`
	ReasonCodes     []string      `json:"reason_codes,omitempty"`
	Violations      []string      `json:"violations,omitempty"`
	Relationship    *Relationship `json:"relationship,omitempty"`
}

// SessionCheckpoint links one checkpoint runpack into a session chain.
// CheckpointDigest is the SHA-256 of
// "<manifest_digest>:<prev_checkpoint_digest>:<index>:<start>:<end>".
type SessionCheckpoint struct {
	SchemaID             string        `json:"schema_id"`
	SchemaVersion        string        `json:"schema_version"`
	CreatedAt            string        `json:"created_at"`
	ProducerVersion      string        `json:"producer_version"`
	SessionID            string        `json:"session_id"`
	RunID                string        `json:"run_id"`
	CheckpointIndex      int64         `json:"checkpoint_index"`
	SequenceStart        int64         `json:"sequence_start"`
	SequenceEnd          int64         `json:"sequence_end"`
	RunpackPath          string        `json:"runpack_path"`
	ManifestDigest       string        `json:"manifest_digest"`
	PrevCheckpointDigest string        `json:"prev_checkpoint_digest,omitempty"`
	CheckpointDigest     string        `json:"checkpoint_digest"`
	Relationship         *Relationship `json:"relationship,omitempty"`
}

// Relationship is the optional lineage envelope of session records.
type Relationship struct {
	ParentRef        *EntityRef  `json:"parent_ref,omitempty"`
	EntityRefs       []EntityRef `json:"entity_refs,omitempty"`
	Edges            []Edge      `json:"edges,omitempty"`
	ParentRecordID   string      `json:"parent_record_id,omitempty"`
	RelatedEntityIDs []string    `json:"related_entity_ids,omitempty"`
}

// EntityRef names an entity by kind and id.
type EntityRef struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// Edge relates two entities.
type Edge struct {
	Kind string    `json:"kind"`
	From EntityRef `json:"from"`
	To   EntityRef `json:"to"`
}

// SessionChain is <journal>_chain.json: every checkpoint of a session.
type SessionChain struct {
	SchemaID        string              `json:"schema_id"`
	SchemaVersion   string              `json:"schema_version"`
	CreatedAt       string              `json:"created_at"`
	ProducerVersion string              `json:"producer_version"`
	SessionID       string              `json:"session_id"`
	RunID           string              `json:"run_id"`
	Checkpoints     []SessionCheckpoint `json:"checkpoints"`
}

// JournalRecord is one line of a session journal.
type JournalRecord struct {
	RecordType string             `json:"record_type"`
	Header     *SessionHeader     `json:"header,omitempty"`
	Event      *SessionEvent      `json:"event,omitempty"`
	Checkpoint *SessionCheckpoint `json:"checkpoint,omitempty"`
}

// CheckpointDigest computes a checkpoint's link digest.
func CheckpointDigest(manifestDigest, prev string, index, start, end int64) string {
	return digest.Bytes(fmt.Appendf(nil, "%s:%s:%d:%d:%d", manifestDigest, prev, index, start, end))
}

// ParseJournalLine decodes and checks one journal line.
func ParseJournalLine(line []byte) (JournalRecord, error) {
	var r JournalRecord
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return r, errors.New("more than one JSON value on the line")
	}
	schemaOK := func(id, version, want string) error {
		if id != want {
			return fmt.Errorf("schema_id %q, want %q", id, want)
		}
		if major, _, _ := strings.Cut(version, "."); major != "1" {
			return fmt.Errorf("schema_version %q has an unknown major version", version)
		}
		return nil
	}
	switch r.RecordType {
	case "header":
		if r.Header == nil || r.Event != nil || r.Checkpoint != nil {
			return r, errors.New("a header record carries only a header")
		}
		if r.Header.SessionID == "" || r.Header.RunID == "" {
			return r, errors.New("header: session_id and run_id are required")
		}
		return r, schemaOK(r.Header.SchemaID, r.Header.SchemaVersion, SchemaSessionJournal)
	case "event":
		if r.Event == nil || r.Header != nil || r.Checkpoint != nil {
			return r, errors.New("an event record carries only an event")
		}
		if r.Event.Sequence < 1 {
			return r, fmt.Errorf("event: sequence %d is not positive", r.Event.Sequence)
		}
		if r.Event.Verdict != "" && !slices.Contains(Verdicts, r.Event.Verdict) {
			return r, fmt.Errorf("event: verdict %q is not one of %s", r.Event.Verdict, strings.Join(Verdicts, ", "))
		}
		return r, schemaOK(r.Event.SchemaID, r.Event.SchemaVersion, SchemaSessionEvent)
	case "checkpoint":
		if r.Checkpoint == nil || r.Header != nil || r.Event != nil {
			return r, errors.New("a checkpoint record carries only a checkpoint")
		}
		c := r.Checkpoint
		if c.CheckpointIndex < 1 || c.SequenceStart < 1 || c.SequenceEnd < c.SequenceStart {
			return r, fmt.Errorf("checkpoint: index %d, sequence %d..%d are not a valid range", c.CheckpointIndex, c.SequenceStart, c.SequenceEnd)
		}
		return r, schemaOK(c.SchemaID, c.SchemaVersion, SchemaSessionCheckpoint)
	}
	return r, fmt.Errorf("record_type %q is not header, event or checkpoint", r.RecordType)
}

// Journal is a parsed session journal.
type Journal struct {
	Path        string
	Header      SessionHeader
	Events      []SessionEvent
	Checkpoints []SessionCheckpoint
	size        int64 // bytes of complete lines
}

// LastSequence is the sequence of the latest event, or of the latest
// checkpoint's last event when a compacted journal dropped the events it
// covers (0 when none).
func (j *Journal) LastSequence() int64 {
	var last int64
	if c := j.lastCheckpoint(); c != nil {
		last = c.SequenceEnd
	}
	if len(j.Events) > 0 {
		last = max(last, j.Events[len(j.Events)-1].Sequence)
	}
	return last
}

func (j *Journal) lastCheckpoint() *SessionCheckpoint {
	if len(j.Checkpoints) == 0 {
		return nil
	}
	return &j.Checkpoints[len(j.Checkpoints)-1]
}

// ReadJournal parses a journal. Only newline-terminated lines count: a last
// line without its newline is a write that never finished.
func ReadJournal(path string) (*Journal, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, exitcode.Invalidf("%s: no such session journal; create it with `gait run session start --journal %s --session-id ID --run-id run_ID`", path, path)
	}
	if err != nil {
		return nil, exitcode.Invalidf("%s: %v", path, err)
	}
	j := &Journal{Path: path}
	r := bufio.NewReader(bytes.NewReader(b))
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			break
		}
		bad := func(format string, args ...any) error {
			return exitcode.Invalidf("%s line %d: %s; fix or remove that line", path, n, fmt.Sprintf(format, args...))
		}
		rec, perr := ParseJournalLine(line)
		if perr != nil {
			return nil, bad("%v", perr)
		}
		switch {
		case n == 1 && rec.RecordType != "header":
			return nil, bad("the first record must be the header")
		case n > 1 && rec.RecordType == "header":
			return nil, bad("a second header")
		case rec.Header != nil:
			j.Header = *rec.Header
		case rec.Event != nil:
			if want := j.LastSequence() + 1; rec.Event.Sequence != want {
				return nil, bad("event sequence %d, want %d", rec.Event.Sequence, want)
			}
			j.Events = append(j.Events, *rec.Event)
		case rec.Checkpoint != nil:
			if want := int64(len(j.Checkpoints)) + 1; rec.Checkpoint.CheckpointIndex != want {
				return nil, bad("checkpoint index %d, want %d", rec.Checkpoint.CheckpointIndex, want)
			}
			j.Checkpoints = append(j.Checkpoints, *rec.Checkpoint)
		}
		j.size += int64(len(line))
	}
	if j.Header.SessionID == "" {
		return nil, exitcode.Invalidf("%s: empty session journal; start it with `gait run session start`", path)
	}
	return j, nil
}

// SessionStatus summarizes a journal (and is its state.json sidecar).
type SessionStatus struct {
	SchemaID               string `json:"schema_id"`
	SchemaVersion          string `json:"schema_version"`
	UpdatedAt              string `json:"updated_at"`
	ProducerVersion        string `json:"producer_version"`
	SessionID              string `json:"session_id"`
	RunID                  string `json:"run_id"`
	CreatedAt              string `json:"created_at"`
	StartedAt              string `json:"started_at"`
	EventCount             int    `json:"event_count"`
	LastSequence           int64  `json:"last_sequence"`
	CheckpointCount        int    `json:"checkpoint_count"`
	LastCheckpointIndex    int64  `json:"last_checkpoint_index,omitempty"`
	LastCheckpointSequence int64  `json:"last_checkpoint_sequence,omitempty"`
	LastCheckpointDigest   string `json:"last_checkpoint_digest,omitempty"`
	JournalSizeBytes       int64  `json:"journal_size_bytes"`
}

// Status summarizes the journal.
func (j *Journal) Status() SessionStatus {
	s := SessionStatus{SchemaID: SchemaSessionState, SchemaVersion: SchemaVersion, ProducerVersion: j.Header.ProducerVersion,
		SessionID: j.Header.SessionID, RunID: j.Header.RunID, CreatedAt: j.Header.CreatedAt, StartedAt: j.Header.StartedAt,
		UpdatedAt: j.Header.CreatedAt, EventCount: len(j.Events), LastSequence: j.LastSequence(),
		CheckpointCount: len(j.Checkpoints), JournalSizeBytes: j.size}
	if len(j.Events) > 0 {
		s.UpdatedAt = j.Events[len(j.Events)-1].CreatedAt
	}
	if c := j.lastCheckpoint(); c != nil {
		s.LastCheckpointIndex, s.LastCheckpointSequence, s.LastCheckpointDigest = c.CheckpointIndex, c.SequenceEnd, c.CheckpointDigest
		if c.CreatedAt > s.UpdatedAt {
			s.UpdatedAt = c.CreatedAt
		}
	}
	return s
}

// Sessions writes session journals. Now is injectable.
type Sessions struct {
	Now             func() time.Time
	ProducerVersion string
}

// NewSessions returns a session writer with the real clock.
func NewSessions() *Sessions { return &Sessions{Now: time.Now, ProducerVersion: "0.0.0-dev"} }

// ChainPath is where a journal's chain lives: the journal path without a
// ".jsonl" extension, plus "_chain.json".
func ChainPath(journal string) string {
	return strings.TrimSuffix(journal, ".jsonl") + "_chain.json"
}

// lockJournal takes the journal's lock: Gait's own, and the marker file
// <journal>.lock that Gait v1's writers create and wait on, so v1 and Gait
// writers exclude each other.
func lockJournal(path string) (*filelock.Lock, error) {
	return filelock.Marker{SchemaID: "gait.runpack.session_lock"}.Acquire(path + ".lock")
}

// withJournal runs f on the journal under its lock, after cutting off a
// line a crashed writer left unfinished.
func withJournal(path string, f func(j *Journal) error) error {
	lock, err := lockJournal(path)
	if err != nil {
		return err
	}
	defer func() { _ = lock.Release() }()
	j, err := ReadJournal(path)
	if err != nil {
		return err
	}
	if st, err := os.Stat(path); err == nil && st.Size() != j.size {
		if err := os.Truncate(path, j.size); err != nil {
			return err
		}
	}
	if err := f(j); err != nil {
		return err
	}
	return writeSessionState(path)
}

func writeSessionState(path string) error {
	j, err := ReadJournal(path)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(j.Status(), "", "  ")
	return atomicfile.WriteFile(path+".state.json", append(b, '\n'), 0o644)
}

func appendLine(path string, rec JournalRecord) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// Start creates a journal. Starting an existing journal with the same
// session and run ids is a no-op; different ids are refused.
func (s *Sessions) Start(path, sessionID, runID string) (SessionStatus, error) {
	if sessionID == "" || runID == "" {
		return SessionStatus{}, exitcode.Invalidf("session start needs --session-id and --run-id")
	}
	if !pack.ValidRunID(runID) {
		return SessionStatus{}, exitcode.Invalidf("run id %q is invalid; use run_ followed by letters, digits, '_' or '-'", runID)
	}
	lock, err := lockJournal(path)
	if err != nil {
		return SessionStatus{}, err
	}
	defer func() { _ = lock.Release() }()
	if j, err := ReadJournal(path); err == nil {
		if j.Header.SessionID != sessionID || j.Header.RunID != runID {
			return SessionStatus{}, exitcode.Invalidf("%s: already holds session %s (run %s); use another --journal", path, j.Header.SessionID, j.Header.RunID)
		}
		return j.Status(), nil
	} else if _, serr := os.Stat(path); serr == nil {
		return SessionStatus{}, err
	}
	now := formatTime(s.Now())
	h := SessionHeader{SchemaID: SchemaSessionJournal, SchemaVersion: SchemaVersion, CreatedAt: now, ProducerVersion: s.ProducerVersion,
		SessionID: sessionID, RunID: runID, StartedAt: now, Events: []SessionEvent{}}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return SessionStatus{}, err
	}
	if err := appendLine(path, JournalRecord{RecordType: "header", Header: &h}); err != nil {
		return SessionStatus{}, err
	}
	if err := writeSessionState(path); err != nil {
		return SessionStatus{}, err
	}
	j, err := ReadJournal(path)
	if err != nil {
		return SessionStatus{}, err
	}
	return j.Status(), nil
}

// AppendOptions describe one gated tool call.
type AppendOptions struct {
	Tool, Verdict, IntentID, TraceID, TracePath, IntentDigest, PolicyDigest string
	ReasonCodes, Violations                                                 []string
}

// Append adds an event to a journal.
func (s *Sessions) Append(path string, o AppendOptions) (*SessionEvent, error) {
	if o.Tool == "" {
		return nil, exitcode.Invalidf("session append needs --tool")
	}
	if !slices.Contains(Verdicts, o.Verdict) {
		return nil, exitcode.Invalidf("verdict %q is not one of %s; pass --verdict", o.Verdict, strings.Join(Verdicts, ", "))
	}
	for name, d := range map[string]string{"--intent-digest": o.IntentDigest, "--policy-digest": o.PolicyDigest} {
		if d != "" && !digest.Valid(d) {
			return nil, exitcode.Invalidf("%s %q is not a hex sha256", name, d)
		}
	}
	var ev SessionEvent
	err := withJournal(path, func(j *Journal) error {
		seq := j.LastSequence() + 1
		ev = SessionEvent{SchemaID: SchemaSessionEvent, SchemaVersion: SchemaVersion, CreatedAt: formatTime(s.Now()),
			ProducerVersion: s.ProducerVersion, SessionID: j.Header.SessionID, RunID: j.Header.RunID, Sequence: seq,
			IntentID: o.IntentID, ToolName: o.Tool, IntentDigest: o.IntentDigest, PolicyDigest: o.PolicyDigest,
			TraceID: o.TraceID, TracePath: o.TracePath, Verdict: o.Verdict,
			ReasonCodes: sortedNonEmpty(o.ReasonCodes), Violations: sortedNonEmpty(o.Violations)}
		return appendLine(path, JournalRecord{RecordType: "event", Event: &ev})
	})
	if err != nil {
		return nil, err
	}
	return &ev, nil
}

func sortedNonEmpty(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// SessionCheckpointResult is what Checkpoint wrote.
type SessionCheckpointResult struct {
	Checkpoint SessionCheckpoint `json:"checkpoint"`
	ChainPath  string            `json:"chain_path"`
	Runpack    string            `json:"runpack"`
}

// Checkpoint turns the events since the last checkpoint into a runpack at
// out (gait-out/runpack_<run>_cp_NNNN.zip when empty), records the
// checkpoint in the journal and rewrites the chain (ChainPath(journal) when
// chainOut is empty; a chain already at ChainPath(journal) is rewritten as
// well). With no new events it refuses (exit 6).
func (s *Sessions) Checkpoint(path, out, chainOut string) (*SessionCheckpointResult, error) {
	var res SessionCheckpointResult
	err := withJournal(path, func(j *Journal) error {
		prev := j.lastCheckpoint()
		var from int64 = 1
		prevDigest := ""
		if prev != nil {
			from, prevDigest = prev.SequenceEnd+1, prev.CheckpointDigest
		}
		var seg []SessionEvent
		for _, e := range j.Events {
			if e.Sequence >= from {
				seg = append(seg, e)
			}
		}
		if len(seg) == 0 {
			return exitcode.Invalidf("%s: no new session events since the last checkpoint; append events first", path)
		}
		index := int64(len(j.Checkpoints)) + 1
		cpRunID := fmt.Sprintf("%s_cp_%04d", j.Header.RunID, index)
		if out == "" {
			out = filepath.Join("gait-out", "runpack_"+strings.TrimPrefix(cpRunID, "run_")+".zip")
		}
		now := formatTime(s.Now())
		rp, err := pack.Build(segmentRecord(j.Header, seg, cpRunID, now, s.ProducerVersion, index), pack.RecordOptions{})
		if err != nil {
			return err
		}
		if err := rp.WriteFile(out); err != nil {
			return err
		}
		md := rp.Manifest.ManifestDigest
		start, end := seg[0].Sequence, seg[len(seg)-1].Sequence
		cd := CheckpointDigest(md, prevDigest, index, start, end)
		cp := SessionCheckpoint{SchemaID: SchemaSessionCheckpoint, SchemaVersion: SchemaVersion, CreatedAt: now,
			ProducerVersion: s.ProducerVersion, SessionID: j.Header.SessionID, RunID: j.Header.RunID,
			CheckpointIndex: index, SequenceStart: start, SequenceEnd: end, RunpackPath: filepath.ToSlash(out),
			ManifestDigest: md, PrevCheckpointDigest: prevDigest, CheckpointDigest: cd,
			Relationship: &Relationship{
				ParentRef:  &EntityRef{Kind: "session", ID: j.Header.SessionID},
				EntityRefs: []EntityRef{{Kind: "evidence", ID: cd}, {Kind: "run", ID: cpRunID}},
				Edges:      []Edge{{Kind: "derived_from", From: EntityRef{Kind: "evidence", ID: cd}, To: EntityRef{Kind: "run", ID: cpRunID}}},
			}}
		if err := appendLine(path, JournalRecord{RecordType: "checkpoint", Checkpoint: &cp}); err != nil {
			return err
		}
		if chainOut == "" {
			chainOut = ChainPath(path)
		}
		chain := SessionChain{SchemaID: SchemaSessionChain, SchemaVersion: SchemaVersion, CreatedAt: j.Header.CreatedAt,
			ProducerVersion: s.ProducerVersion, SessionID: j.Header.SessionID, RunID: j.Header.RunID,
			Checkpoints: append(slices.Clone(j.Checkpoints), cp)}
		b, err := json.MarshalIndent(chain, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(chainOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
		// A chain already at the default path follows the journal too, so
		// --chain-out elsewhere never leaves it a checkpoint behind.
		if def := ChainPath(path); filepath.Clean(def) != filepath.Clean(chainOut) {
			if _, err := os.Stat(def); err == nil {
				if err := atomicfile.WriteFile(def, append(b, '\n'), 0o644); err != nil {
					return err
				}
			}
		}
		res = SessionCheckpointResult{Checkpoint: cp, ChainPath: chainOut, Runpack: out}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// Compaction reports what Compact did (or, with DryRun, would do).
type Compaction struct {
	JournalPath            string `json:"journal_path"`
	OutputPath             string `json:"output_path"`
	DryRun                 bool   `json:"dry_run"`
	Compacted              bool   `json:"compacted"`
	Checkpoints            int    `json:"checkpoints"`
	LastCheckpointSequence int64  `json:"last_checkpoint_sequence"`
	EventsBefore           int    `json:"events_before"`
	EventsAfter            int    `json:"events_after"`
	BytesBefore            int64  `json:"bytes_before"`
	BytesAfter             int64  `json:"bytes_after"`
}

// Compact rewrites a journal without the events its checkpoints already
// hold (their runpacks keep them): the header, every checkpoint and the
// events after the last one, to out (the journal itself when empty),
// atomically. The result reads as the original does (sequences go on from
// the last checkpoint), as v1's compact writes it.
func (s *Sessions) Compact(path, out string, dryRun bool) (*Compaction, error) {
	if out == "" {
		out = path
	}
	var c Compaction
	err := withJournal(path, func(j *Journal) error {
		var from int64
		if cp := j.lastCheckpoint(); cp != nil {
			from = cp.SequenceEnd
		}
		var buf bytes.Buffer
		write := func(rec JournalRecord) error {
			line, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			buf.Write(append(line, '\n'))
			return nil
		}
		h := j.Header
		if err := write(JournalRecord{RecordType: "header", Header: &h}); err != nil {
			return err
		}
		for i := range j.Checkpoints {
			if err := write(JournalRecord{RecordType: "checkpoint", Checkpoint: &j.Checkpoints[i]}); err != nil {
				return err
			}
		}
		kept := 0
		for i := range j.Events {
			if j.Events[i].Sequence > from {
				kept++
				if err := write(JournalRecord{RecordType: "event", Event: &j.Events[i]}); err != nil {
					return err
				}
			}
		}
		c = Compaction{JournalPath: path, OutputPath: out, DryRun: dryRun, Compacted: true, Checkpoints: len(j.Checkpoints),
			LastCheckpointSequence: from, EventsBefore: len(j.Events), EventsAfter: kept, BytesBefore: j.size, BytesAfter: int64(buf.Len())}
		if dryRun {
			return nil
		}
		return atomicfile.WriteFile(out, buf.Bytes(), 0o644)
	})
	if err != nil {
		return nil, err
	}
	if !dryRun && filepath.Clean(out) != filepath.Clean(path) {
		if err := writeSessionState(out); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

// segmentRecord builds the run record of one checkpoint: each event becomes
// an intent (its tool and sequence) with its gate verdict as the result.
func segmentRecord(h SessionHeader, seg []SessionEvent, runID, now, pv string, index int64) *pack.RunRecord {
	env, _ := json.Marshal(map[string]string{"arch": runtime.GOARCH, "os": runtime.GOOS, "runtime": "go"})
	type tl struct {
		Event string `json:"event"`
		Ref   string `json:"ref,omitempty"`
		TS    string `json:"ts"`
	}
	var timeline []tl
	rec := &pack.RunRecord{
		Run:  pack.Run{CreatedAt: now, ProducerVersion: pv, RunID: runID, Env: env},
		Refs: pack.Refs{CreatedAt: now, ProducerVersion: pv},
	}
	for _, e := range seg {
		id := e.IntentID
		if id == "" {
			id = "intent_" + strconv.FormatInt(e.Sequence, 10)
		}
		args, _ := json.Marshal(map[string]any{"sequence": e.Sequence, "session_id": h.SessionID, "trace_id": e.TraceID, "trace_path": e.TracePath})
		result, _ := json.Marshal(map[string]any{"reason_codes": e.ReasonCodes, "trace_id": e.TraceID, "trace_path": e.TracePath,
			"verdict": e.Verdict, "violations": e.Violations})
		status := "ok"
		if e.Verdict == "block" || e.Verdict == "require_approval" {
			status = "error"
		}
		rec.Intents = append(rec.Intents, pack.Intent{IntentID: id, ToolName: e.ToolName, Args: args, ArgsDigest: e.IntentDigest, CreatedAt: e.CreatedAt, ProducerVersion: pv})
		rec.Results = append(rec.Results, pack.Result{IntentID: id, Status: status, Result: result, CreatedAt: e.CreatedAt, ProducerVersion: pv})
		timeline = append(timeline, tl{Event: "session_event", TS: e.CreatedAt})
	}
	timeline = append(timeline, tl{Event: "session_checkpoint_emitted", Ref: "checkpoint:" + strconv.FormatInt(index, 10), TS: now})
	rec.Run.Timeline, _ = json.Marshal(timeline)
	return rec
}
