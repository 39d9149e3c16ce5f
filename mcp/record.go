package mcp

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
)

// Call is one tools/call as Gait saw it: what the agent asked, what the gate
// said and what came back.
type Call struct {
	Tool string
	// Args is the canonical JSON object of the arguments.
	Args json.RawMessage
	// Verdict is the gate's verdict; empty when no policy gates the calls.
	Verdict     string
	ReasonCodes []string
	MatchedRule string
	// Forwarded reports whether the call reached the upstream tool.
	Forwarded bool
	// Result is the JSON object the agent received (a CallToolResult, or
	// {"error": ...} for a protocol error).
	Result json.RawMessage
	// IsError reports a tool error or protocol error.
	IsError bool
	// At is when the call arrived.
	At time.Time
}

// RecorderOptions configure a Recorder.
type RecorderOptions struct {
	Dir         string // where runpack_<run_id>.zip and its journal go
	RunID       string // run id; generated from the first call's time when empty
	CaptureMode string // reference (default) or raw
	Redact      []Path // JSON paths redacted in args and results before storing
	// CheckpointEvery writes the runpack after every N calls (0: only on Close).
	CheckpointEvery int
	ProducerVersion string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Recorder journals calls and writes them as a runpack. It is safe for
// concurrent use.
type Recorder struct {
	opts      RecorderOptions
	mu        sync.Mutex
	runID     string
	createdAt string
	rec       pack.RunRecord
	journal   *os.File
	jw        *bufio.Writer
	written   string
	tools     json.RawMessage
	lastAt    string
}

// NewRecorder checks the options; nothing is written before the first call.
func NewRecorder(opts RecorderOptions) (*Recorder, error) {
	if opts.RunID != "" && !pack.ValidRunID(opts.RunID) {
		return nil, exitcode.Invalidf("run id %q is invalid; use run_ followed by letters, digits, '_' or '-'", opts.RunID)
	}
	switch opts.CaptureMode {
	case "":
		opts.CaptureMode = pack.CaptureReference
	case pack.CaptureReference, pack.CaptureRaw:
	default:
		return nil, exitcode.Invalidf("capture mode %q is not reference or raw", opts.CaptureMode)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Dir == "" {
		opts.Dir = "."
	}
	return &Recorder{opts: opts, runID: opts.RunID}, nil
}

// RunID is the run id, known once the first call is recorded.
func (r *Recorder) RunID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runID
}

// Calls is the number of calls recorded so far.
func (r *Recorder) Calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.rec.Intents)
}

// SetTools stores the upstream's tool list in run.json's env, so a replay
// offers the same tool definitions.
func (r *Recorder) SetTools(tools any) {
	b, err := json.Marshal(tools)
	if err != nil {
		return
	}
	r.mu.Lock()
	r.tools = b
	r.mu.Unlock()
}

// journalLine is one line of the call journal.
type journalLine struct {
	Seq         int             `json:"seq"`
	At          string          `json:"at"`
	Tool        string          `json:"tool"`
	Args        json.RawMessage `json:"args"`
	ArgsDigest  string          `json:"args_digest"`
	Verdict     string          `json:"verdict,omitempty"`
	ReasonCodes []string        `json:"reason_codes,omitempty"`
	Forwarded   bool            `json:"forwarded"`
	Status      string          `json:"status"`
	Result      json.RawMessage `json:"result"`
}

// Add journals one call (redacted) and writes a checkpoint runpack when one
// is due. The first call fixes the run's created_at.
func (r *Recorder) Add(c Call) error {
	if c.At.IsZero() {
		c.At = r.opts.Now()
	}
	at := c.At.UTC().Format(time.RFC3339Nano)
	args, argsDigest, err := r.store(c.Args)
	if err != nil {
		return fmt.Errorf("recording %s args: %w", c.Tool, err)
	}
	res := c.Result
	if len(res) == 0 {
		res = json.RawMessage("{}")
	}
	result, resultDigest, err := r.store(res)
	if err != nil {
		return fmt.Errorf("recording %s result: %w", c.Tool, err)
	}
	status := "ok"
	if c.IsError {
		status = "error"
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.runID == "" {
		r.runID = "run_mcp_" + c.At.UTC().Format("20060102T150405Z")
	}
	if r.createdAt == "" {
		r.createdAt = at
		r.rec.Run = pack.Run{RunID: r.runID, CreatedAt: at, ProducerVersion: r.opts.ProducerVersion}
	}
	r.lastAt = at
	seq := len(r.rec.Intents) + 1
	id := fmt.Sprintf("intent_%d", seq)
	r.rec.Intents = append(r.rec.Intents, pack.Intent{IntentID: id, ToolName: c.Tool, Args: args, ArgsDigest: argsDigest, CreatedAt: at})
	r.rec.Results = append(r.rec.Results, pack.Result{IntentID: id, Status: status, Result: result, ResultDigest: resultDigest, CreatedAt: at})
	if err := r.appendJournal(journalLine{Seq: seq, At: at, Tool: c.Tool, Args: args, ArgsDigest: argsDigest,
		Verdict: c.Verdict, ReasonCodes: c.ReasonCodes, Forwarded: c.Forwarded, Status: status, Result: result}); err != nil {
		return err
	}
	if n := r.opts.CheckpointEvery; n > 0 && seq%n == 0 {
		return r.writeLocked()
	}
	return nil
}

// store redacts a payload. In reference mode the digest is that of the
// unredacted value, so the record still identifies what was sent without
// holding it; in raw mode the digest is left to the runpack writer.
func (r *Recorder) store(raw json.RawMessage) (json.RawMessage, string, error) {
	if len(r.opts.Redact) == 0 {
		return raw, "", nil
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, "", err
	}
	if !redact(v, r.opts.Redact) {
		return raw, "", nil
	}
	out := canonical(v)
	if r.opts.CaptureMode == pack.CaptureReference {
		return out, digest.Bytes(canonical(mustDecode(raw))), nil
	}
	return out, "", nil
}

func mustDecode(raw []byte) any {
	v, _ := decodeJSON(raw)
	return v
}

func (r *Recorder) appendJournal(l journalLine) error {
	if r.journal == nil {
		if err := os.MkdirAll(r.opts.Dir, 0o750); err != nil {
			return err
		}
		name := filepath.Join(r.opts.Dir, "runpack_"+r.runID+".journal.jsonl")
		f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		r.journal, r.jw = f, bufio.NewWriter(f)
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if _, err := r.jw.Write(append(b, '\n')); err != nil {
		return err
	}
	return r.jw.Flush()
}

// Write writes the runpack of every call so far and returns its path; with
// no call recorded it writes nothing and returns "".
func (r *Recorder) Write() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.rec.Intents) == 0 {
		return "", nil
	}
	if err := r.writeLocked(); err != nil {
		return "", err
	}
	return r.written, nil
}

func (r *Recorder) writeLocked() error {
	rec := r.rec
	rec.Intents = append([]pack.Intent(nil), r.rec.Intents...)
	rec.Results = append([]pack.Result(nil), r.rec.Results...)
	rec.CaptureMode = r.opts.CaptureMode
	env := map[string]any{"os": runtime.GOOS, "arch": runtime.GOARCH, "runtime": "go", "source": "mcp"}
	if len(r.tools) > 0 {
		env[EnvTools] = r.tools
	}
	rec.Run.Env = canonical(env)
	rec.Run.Timeline = canonical([]map[string]string{{"event": "first_call", "ts": r.createdAt}, {"event": "last_call", "ts": r.lastAt}})
	rp, err := pack.Build(&rec, pack.RecordOptions{})
	if err != nil {
		return err
	}
	path := pack.DefaultPath(r.opts.Dir, r.runID)
	if err := os.MkdirAll(r.opts.Dir, 0o750); err != nil {
		return err
	}
	if err := rp.WriteFile(path); err != nil {
		return err
	}
	r.written = path
	return nil
}

// Close writes the final runpack and closes the journal.
func (r *Recorder) Close() (string, error) {
	path, err := r.Write()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.journal != nil {
		if cerr := r.journal.Close(); err == nil {
			err = cerr
		}
		r.journal = nil
	}
	if err == nil {
		path = r.written
	}
	return path, err
}
