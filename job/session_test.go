package job

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/schemas"
)

func fixedSessions() *Sessions {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	s := NewSessions()
	s.Now = func() time.Time { at = at.Add(time.Second); return at }
	return s
}

// chdir runs the test from dir (chains hold paths relative to the working
// directory).
func chdir(t *testing.T, dir string) { t.Chdir(dir) }

func writeSession(t *testing.T) (journal string) {
	t.Helper()
	chdir(t, t.TempDir())
	s := fixedSessions()
	journal = filepath.Join("j", "demo.journal.jsonl")
	if _, err := s.Start(journal, "sess_t", "run_t"); err != nil {
		t.Fatal(err)
	}
	for _, v := range []AppendOptions{{Tool: "tool.write", Verdict: "allow"}, {Tool: "tool.delete", Verdict: "block", ReasonCodes: []string{"b", "a"}}} {
		if _, err := s.Append(journal, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Checkpoint(journal, "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(journal, AppendOptions{Tool: "tool.read", Verdict: "allow"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Checkpoint(journal, "", ""); err != nil {
		t.Fatal(err)
	}
	return journal
}

func TestSessionCheckpointChain(t *testing.T) {
	journal := writeSession(t)
	chain := ChainPath(journal)
	if chain != filepath.Join("j", "demo.journal_chain.json") {
		t.Fatalf("chain path %s", chain)
	}
	res, err := VerifyChain(chain, pack.VerifyOptions{})
	if err != nil || res.CheckpointsChecked != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := fixedSessions().Checkpoint(journal, "", ""); exitcode.Of(err) != exitcode.InvalidInput {
		t.Fatalf("empty checkpoint: %v", err)
	}
	rp, err := pack.Open(filepath.Join("gait-out", "runpack_t_cp_0001.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rp.ToolSequence(), ","); got != "tool.write,tool.delete" {
		t.Fatalf("tools %s", got)
	}
	if rp.Results[1].Status != "error" {
		t.Fatalf("blocked call status %s", rp.Results[1].Status)
	}
	latest, err := RunpackFromChain(chain, "latest")
	if err != nil || filepath.Base(latest) != "runpack_t_cp_0002.zip" {
		t.Fatalf("latest: %s %v", latest, err)
	}
	if _, err := RunpackFromChain(chain, "9"); exitcode.Of(err) != exitcode.InvalidInput {
		t.Fatalf("bad index: %v", err)
	}
	validateAgainst(t, "runpack/session_chain", chain)
	validateAgainst(t, "runpack/session_journal", journal)
}

// validateAgainst checks the file at path against the project's schema
// called name (JSON Lines when path ends in .jsonl).
func validateAgainst(t *testing.T, name, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".jsonl") {
		err = schemas.ValidateLines(name, b)
	} else {
		err = schemas.Validate(name, b)
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestChainTamper edits each link field and each checkpoint runpack: every
// edit fails verification with exit 2 naming the checkpoint.
func TestChainTamper(t *testing.T) {
	journal := writeSession(t)
	chainPath := ChainPath(journal)
	orig, _ := os.ReadFile(chainPath)
	edits := map[string]func(c *SessionChain){
		"checkpoint_digest":      func(c *SessionChain) { c.Checkpoints[1].CheckpointDigest = strings.Repeat("0", 64) },
		"prev_checkpoint_digest": func(c *SessionChain) { c.Checkpoints[1].PrevCheckpointDigest = strings.Repeat("a", 64) },
		"manifest_digest":        func(c *SessionChain) { c.Checkpoints[1].ManifestDigest = strings.Repeat("b", 64) },
		"sequence_end":           func(c *SessionChain) { c.Checkpoints[0].SequenceEnd = 5 },
		"index":                  func(c *SessionChain) { c.Checkpoints[1].CheckpointIndex = 3 },
		"dropped link":           func(c *SessionChain) { c.Checkpoints = c.Checkpoints[1:] },
		"runpack path":           func(c *SessionChain) { c.Checkpoints[1].RunpackPath = "gait-out/runpack_t_cp_0001.zip" },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			var c SessionChain
			_ = json.Unmarshal(orig, &c)
			edit(&c)
			b, _ := json.Marshal(c)
			p := filepath.Join(t.TempDir(), "chain.json")
			_ = os.WriteFile(p, b, 0o644)
			_, err := VerifyChain(p, pack.VerifyOptions{})
			if exitcode.Of(err) != exitcode.VerifyFailed || !strings.Contains(err.Error(), "checkpoint ") {
				t.Fatalf("err = %v, want exit 2 naming a checkpoint", err)
			}
		})
	}
	t.Run("runpack bytes", func(t *testing.T) {
		rp := filepath.Join("gait-out", "runpack_t_cp_0002.zip")
		data, _ := os.ReadFile(rp)
		defer func() { _ = os.WriteFile(rp, data, 0o644) }()
		mut := bytes.Clone(data)
		mut[len(mut)/2] ^= 1
		_ = os.WriteFile(rp, mut, 0o644)
		_, err := VerifyChain(chainPath, pack.VerifyOptions{})
		if exitcode.Of(err) != exitcode.VerifyFailed || !strings.Contains(err.Error(), "checkpoint 2") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSessionBadInput(t *testing.T) {
	journal := writeSession(t)
	before, _ := os.ReadFile(journal)
	s := fixedSessions()
	cases := []error{
		func() error { _, err := s.Append(journal, AppendOptions{Tool: "t", Verdict: "maybe"}); return err }(),
		func() error { _, err := s.Append(journal, AppendOptions{Verdict: "allow"}); return err }(),
		func() error {
			_, err := s.Append(journal, AppendOptions{Tool: "t", Verdict: "allow", IntentDigest: "xyz"})
			return err
		}(),
		func() error { _, err := s.Start(journal, "other", "run_other"); return err }(),
		func() error {
			_, err := s.Append("missing.jsonl", AppendOptions{Tool: "t", Verdict: "allow"})
			return err
		}(),
	}
	for i, err := range cases {
		if exitcode.Of(err) != exitcode.InvalidInput {
			t.Errorf("case %d: %v, want exit 6", i, err)
		}
	}
	if after, _ := os.ReadFile(journal); !bytes.Equal(before, after) {
		t.Fatal("bad input changed the journal")
	}
	// A damaged line is named and refused.
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	_ = os.WriteFile(bad, append(bytes.Clone(before), []byte("{\"record_type\":\"event\"}\n")...), 0o644)
	_, err := s.Append(bad, AppendOptions{Tool: "t", Verdict: "allow"})
	if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "line 7") {
		t.Fatalf("bad line: %v", err)
	}
	// An unfinished last line (a crashed append) is dropped, not an error.
	partial := filepath.Join(t.TempDir(), "partial.jsonl")
	_ = os.WriteFile(partial, append(bytes.Clone(before), []byte(`{"record_type":"ev`)...), 0o644)
	ev, err := s.Append(partial, AppendOptions{Tool: "t", Verdict: "allow"})
	if err != nil || ev.Sequence != 4 {
		t.Fatalf("append after partial line: %v %+v", err, ev)
	}
	if _, err := ReadJournal(partial); err != nil {
		t.Fatal(err)
	}
}

// FuzzParseJournalLine is seeded from testdata/fuzz (journal lines Gait wrote).
func FuzzParseJournalLine(f *testing.F) {
	f.Add([]byte(`{"record_type":"event","event":{}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := ParseJournalLine(line)
		if err != nil {
			return
		}
		// An accepted record survives a rewrite unchanged.
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseJournalLine(b)
		if err != nil {
			t.Fatalf("re-encoded record rejected: %v\n%s", err, b)
		}
		b2, _ := json.Marshal(again)
		if !bytes.Equal(b, b2) {
			t.Fatalf("round trip changed the record:\n%s\n%s", b, b2)
		}
	})
}
