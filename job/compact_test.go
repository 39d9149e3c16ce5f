package job

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gait-dev/gait/pack"
)

func TestCompactKeepsWhatCheckpointsDoNotHold(t *testing.T) {
	chdir(t, t.TempDir())
	s := fixedSessions()
	journal := filepath.Join("j", "c.jsonl")
	if _, err := s.Start(journal, "sess_c", "run_c"); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"tool.write", "tool.delete"} {
		if _, err := s.Append(journal, AppendOptions{Tool: tool, Verdict: "allow"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Checkpoint(journal, filepath.Join("gait-out", "cp1.zip"), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(journal, AppendOptions{Tool: "tool.read", Verdict: "allow"}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}

	dry, err := s.Compact(journal, "", true)
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(journal); !bytes.Equal(before, after) {
		t.Fatal("a dry run changed the journal")
	}
	if dry.EventsBefore != 3 || dry.EventsAfter != 1 || dry.Checkpoints != 1 || dry.LastCheckpointSequence != 2 || dry.BytesAfter >= dry.BytesBefore {
		t.Fatalf("dry run: %+v", dry)
	}

	other := filepath.Join("j", "copy.jsonl")
	if _, err := s.Compact(journal, other, false); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(journal); !bytes.Equal(before, after) {
		t.Fatal("--out elsewhere changed the journal")
	}

	c, err := s.Compact(journal, "", false)
	if err != nil {
		t.Fatal(err)
	}
	j, err := ReadJournal(journal)
	if err != nil {
		t.Fatalf("the compacted journal does not read: %v", err)
	}
	st := j.Status()
	if st.EventCount != 1 || st.LastSequence != 3 || st.CheckpointCount != 1 || c.BytesAfter != st.JournalSizeBytes {
		t.Fatalf("after compaction: %+v (compaction %+v)", st, c)
	}
	// sequences go on, and the next checkpoint covers only the new events
	ev, err := s.Append(journal, AppendOptions{Tool: "tool.write", Verdict: "allow"})
	if err != nil || ev.Sequence != 4 {
		t.Fatalf("append after compaction: %+v, %v", ev, err)
	}
	cp, err := s.Checkpoint(journal, filepath.Join("gait-out", "cp2.zip"), "")
	if err != nil {
		t.Fatal(err)
	}
	if cp.Checkpoint.SequenceStart != 3 || cp.Checkpoint.SequenceEnd != 4 || cp.Checkpoint.CheckpointIndex != 2 {
		t.Fatalf("checkpoint after compaction: %+v", cp.Checkpoint)
	}
	if _, err := VerifyChain(cp.ChainPath, pack.VerifyOptions{}); err != nil {
		t.Fatalf("the chain does not verify after compaction: %v", err)
	}
}
