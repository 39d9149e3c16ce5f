package conformance_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/job"
	"github.com/gait-dev/gait/pack"
)

// TestJobCorpusChainVerifies: v1's session chain verifies from its folder
// and its journal reads with v1's counts.
func TestJobCorpusChainVerifies(t *testing.T) {
	t.Chdir(need(t, "conformance/gait-v1/artifacts/sessions"))
	res, err := job.VerifyChain("demo.journal_chain.json", pack.VerifyOptions{})
	if err != nil || res.CheckpointsChecked != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	j, err := job.ReadJournal("demo.journal.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if st := j.Status(); st.EventCount != 3 || st.CheckpointCount != 2 || st.JournalSizeBytes != 4494 {
		t.Fatalf("status %+v", st)
	}
	p, err := job.RunpackFromChain("demo.journal_chain.json", "1")
	if err != nil || !strings.HasSuffix(p, "runpack_sess_cp_0001.zip") {
		t.Fatalf("RunpackFromChain: %s %v", p, err)
	}
}

// TestJobDurableDemoMatchesCorpus: the demo job reproduces v1's durable
// demo job documents byte for byte.
func TestJobDurableDemoMatchesCorpus(t *testing.T) {
	theirs, err := pack.OpenPack(need(t, "conformance/gait-v1/artifacts/pack_job_demo_durable.zip"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := job.RunDurableDemo(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ours, err := pack.OpenPack(res.PackPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{pack.FileJobPayload, pack.FileJobState} {
		if !bytes.Equal(ours.File(name), theirs.File(name)) {
			t.Errorf("%s:\nours   %s\ncorpus %s", name, ours.File(name), theirs.File(name))
		}
	}
}

// TestJobInteropReference: the reference binary accepts a session chain, a
// job pack and a run pack of a checkpoint written by Gait.
func TestJobInteropReference(t *testing.T) {
	ref := referenceBin(t)
	dir := t.TempDir()
	gait := func(args ...string) {
		t.Helper()
		cmd := exec.Command(gaitBin, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gait %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	gait("run", "session", "start", "--journal", "s.journal.jsonl", "--session-id", "sess_i", "--run-id", "run_i")
	gait("run", "session", "append", "--journal", "s.journal.jsonl", "--tool", "tool.write", "--verdict", "allow")
	gait("run", "session", "checkpoint", "--journal", "s.journal.jsonl")
	gait("run", "session", "append", "--journal", "s.journal.jsonl", "--tool", "tool.read", "--verdict", "allow")
	gait("run", "session", "checkpoint", "--journal", "s.journal.jsonl")
	gait("demo", "--durable")
	gait("pack", "build", "--type", "run", "--from", filepath.Join("gait-out", "runpack_i_cp_0001.zip"), "--out", "run_pack.zip")
	for _, args := range [][]string{
		{"verify", "session-chain", "--chain", "s.journal_chain.json", "--json"},
		{"pack", "verify", filepath.Join("gait-out", "pack_job_demo_durable.zip"), "--json"},
		{"pack", "verify", "run_pack.zip", "--json"},
	} {
		cmd := exec.Command(ref, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("reference %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
