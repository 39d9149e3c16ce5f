package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/job"
)

// newRunSessionCmd is the `run session` group; run.go adds it to `run`.
func newRunSessionCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "session",
		Short: "Session journals whose checkpoints are chained runpacks",
		Long: `run session records gated tool calls in a JSONL journal (start, append) and
turns each new segment into a runpack (checkpoint), linked into
<journal>_chain.json by sequence numbers and the previous checkpoint's digest.
Check a chain with "gait verify session-chain --chain F".`,
	}
	cmd.AddCommand(newSessionStartCmd(a), newSessionAppendCmd(a), newSessionStatusCmd(a), newSessionCheckpointCmd(a), newSessionCompactCmd(a))
	return cmd
}

type sessionResult struct {
	OK         bool                   `json:"ok"`
	Operation  string                 `json:"operation"`
	Journal    string                 `json:"journal"`
	Status     *job.SessionStatus     `json:"status,omitempty"`
	Event      *job.SessionEvent      `json:"event,omitempty"`
	Checkpoint *job.SessionCheckpoint `json:"checkpoint,omitempty"`
	ChainPath  string                 `json:"chain_path,omitempty"`
	Runpack    string                 `json:"runpack,omitempty"`
}

func sessions() *job.Sessions {
	s := job.NewSessions()
	s.ProducerVersion = producerVersion()
	return s
}

func (a *app) emitSessionStatus(op, journal string, st job.SessionStatus) {
	a.emit(sessionResult{OK: true, Operation: op, Journal: journal, Status: &st},
		kv("journal", journal, "session_id", st.SessionID, "run_id", st.RunID, "events", fmt.Sprint(st.EventCount),
			"last_sequence", fmt.Sprint(st.LastSequence), "checkpoints", fmt.Sprint(st.CheckpointCount),
			"next", "gait run session append --journal "+journal+" --tool <name> --verdict allow"))
}

func newSessionStartCmd(a *app) *cobra.Command {
	var journal, sessionID, runID string
	cmd := &cobra.Command{
		Use: "start --journal J --session-id ID --run-id run_ID", Short: "Start a session journal", Args: cobra.NoArgs,
		Long: "run session start writes a journal's header. Starting an existing journal with the same ids does nothing; other ids are refused.",
		RunE: func(*cobra.Command, []string) error {
			st, err := sessions().Start(journal, sessionID, runID)
			if err != nil {
				return err
			}
			a.emitSessionStatus("start", journal, st)
			return nil
		},
	}
	cmd.Flags().StringVar(&journal, "journal", "", "session journal (JSONL)")
	cmd.Flags().StringVar(&sessionID, "session-id", "", "session id")
	cmd.Flags().StringVar(&runID, "run-id", "", "run id of the session (run_...)")
	_ = cmd.MarkFlagRequired("journal")
	return cmd
}

// csvList splits a comma-separated flag value.
func csvList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' })
}

func newSessionAppendCmd(a *app) *cobra.Command {
	var journal, reasons, violations string
	var o job.AppendOptions
	cmd := &cobra.Command{
		Use: "append --journal J --tool T --verdict V", Short: "Append a gated tool call to a journal", Args: cobra.NoArgs,
		Long: "run session append records one tool call and its gate verdict (allow, block, dry_run, require_approval) with the next sequence number.",
		RunE: func(*cobra.Command, []string) error {
			o.ReasonCodes, o.Violations = csvList(reasons), csvList(violations)
			ev, err := sessions().Append(journal, o)
			if err != nil {
				return err
			}
			a.emit(sessionResult{OK: true, Operation: "append", Journal: journal, Event: ev},
				kv("journal", journal, "sequence", fmt.Sprint(ev.Sequence), "tool", ev.ToolName, "verdict", ev.Verdict,
					"next", "gait run session checkpoint --journal "+journal))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&journal, "journal", "", "session journal (JSONL)")
	f.StringVar(&o.Tool, "tool", "", "tool name")
	f.StringVar(&o.Verdict, "verdict", "", "allow, block, dry_run or require_approval")
	f.StringVar(&o.IntentID, "intent-id", "", "intent id (default intent_<sequence>)")
	f.StringVar(&o.TraceID, "trace-id", "", "gate trace id")
	f.StringVar(&o.TracePath, "trace-path", "", "gate trace file")
	f.StringVar(&o.IntentDigest, "intent-digest", "", "intent digest (hex sha256)")
	f.StringVar(&o.PolicyDigest, "policy-digest", "", "policy digest (hex sha256)")
	f.StringVar(&reasons, "reason-codes", "", "comma-separated reason codes")
	f.StringVar(&violations, "violations", "", "comma-separated violations")
	_ = cmd.MarkFlagRequired("journal")
	return cmd
}

func newSessionStatusCmd(a *app) *cobra.Command {
	var journal string
	cmd := &cobra.Command{
		Use: "status --journal J", Short: "Summarize a session journal", Args: cobra.NoArgs,
		Long: "run session status reads a journal and prints its event and checkpoint counts.",
		RunE: func(*cobra.Command, []string) error {
			j, err := job.ReadJournal(journal)
			if err != nil {
				return err
			}
			a.emitSessionStatus("status", journal, j.Status())
			return nil
		},
	}
	cmd.Flags().StringVar(&journal, "journal", "", "session journal (JSONL)")
	_ = cmd.MarkFlagRequired("journal")
	return cmd
}

func newSessionCompactCmd(a *app) *cobra.Command {
	var journal, out string
	var dryRun bool
	cmd := &cobra.Command{
		Use: "compact --journal J [--out journal.jsonl] [--dry-run]", Short: "Drop the events the checkpoints already hold", Args: cobra.NoArgs,
		Long: `run session compact rewrites a journal without the events its checkpoints
already hold (their runpacks keep them): the header, every checkpoint and the
events after the last one, to --out (default: the journal itself, replaced
atomically). Status, append and checkpoint go on from it as before, as with
v1's compacted journals. --dry-run only reports what it would do.`,
		RunE: func(*cobra.Command, []string) error {
			c, err := sessions().Compact(journal, out, dryRun)
			if err != nil {
				return err
			}
			a.emit(struct {
				OK         bool            `json:"ok"`
				Operation  string          `json:"operation"`
				Journal    string          `json:"journal"`
				Compaction *job.Compaction `json:"compaction"`
			}{true, "compact", journal, c}, kv("journal", journal, "output", c.OutputPath, "dry_run", strconv.FormatBool(c.DryRun),
				"events_before", strconv.Itoa(c.EventsBefore), "events_after", strconv.Itoa(c.EventsAfter),
				"bytes_before", strconv.FormatInt(c.BytesBefore, 10), "bytes_after", strconv.FormatInt(c.BytesAfter, 10)))
			return nil
		},
	}
	cmd.Flags().StringVar(&journal, "journal", "", "session journal (JSONL)")
	cmd.Flags().StringVar(&out, "out", "", "write the compacted journal here (default: replace the journal)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report what compaction would do without writing")
	_ = cmd.MarkFlagRequired("journal")
	return cmd
}

func newSessionCheckpointCmd(a *app) *cobra.Command {
	var journal, out, chainOut string
	cmd := &cobra.Command{
		Use: "checkpoint --journal J [--out runpack.zip] [--chain-out chain.json]", Short: "Write a runpack of the new events and chain it", Args: cobra.NoArgs,
		Long: `run session checkpoint writes the events since the last checkpoint as a runpack
(default gait-out/runpack_<run>_cp_NNNN.zip), records the checkpoint in the
journal and rewrites the chain (default <journal without .jsonl>_chain.json;
with --chain-out elsewhere, a chain at the default path is rewritten too, so
it never falls a checkpoint behind). With no new events it exits 6.`,
		RunE: func(*cobra.Command, []string) error {
			res, err := sessions().Checkpoint(journal, out, chainOut)
			if err != nil {
				return err
			}
			cp := res.Checkpoint
			a.emit(sessionResult{OK: true, Operation: "checkpoint", Journal: journal, Checkpoint: &cp, ChainPath: res.ChainPath, Runpack: res.Runpack},
				kv("journal", journal, "checkpoint_index", fmt.Sprint(cp.CheckpointIndex),
					"sequence", fmt.Sprintf("%d..%d", cp.SequenceStart, cp.SequenceEnd), "runpack", res.Runpack,
					"manifest_digest", cp.ManifestDigest, "checkpoint_digest", cp.CheckpointDigest, "chain", res.ChainPath,
					"next", "gait verify session-chain --chain "+res.ChainPath, "next", "gait regress bootstrap --from "+res.Runpack))
			return nil
		},
	}
	cmd.Flags().StringVar(&journal, "journal", "", "session journal (JSONL)")
	cmd.Flags().StringVar(&out, "out", "", "checkpoint runpack path")
	cmd.Flags().StringVar(&chainOut, "chain-out", "", "session chain path")
	_ = cmd.MarkFlagRequired("journal")
	return cmd
}

// newVerifySessionChainCmd is `verify session-chain`; verify.go adds it.
func newVerifySessionChainCmd(a *app) *cobra.Command {
	var chain string
	var vf verifyFlags
	cmd := &cobra.Command{
		Use: "session-chain --chain F", Short: "Verify a session chain and its checkpoint runpacks", Args: cobra.NoArgs,
		Long: `verify session-chain checks every link of a session chain (checkpoint index,
non-overlapping sequence ranges, previous checkpoint digest, checkpoint digest)
and verifies every checkpoint runpack against its manifest digest. Runpack
paths are taken relative to the working directory, then to the chain's folder.
Exit 0 when it holds, 2 naming each broken link, 6 when F is not a chain.`,
		RunE: func(*cobra.Command, []string) error {
			opts, err := vf.options(a)
			if err != nil {
				return err
			}
			res, err := job.VerifyChain(chain, opts)
			if err != nil {
				return a.verifyFailed(res, err)
			}
			a.emit(res, kv("verify", "ok", "chain", chain, "session_id", res.SessionID, "run_id", res.RunID,
				"checkpoints_checked", fmt.Sprint(res.CheckpointsChecked),
				"next", "gait regress bootstrap --from "+latestCheckpoint(chain)))
			return nil
		},
	}
	cmd.Flags().StringVar(&chain, "chain", "", "session chain JSON")
	vf.add(cmd, "every checkpoint runpack")
	_ = cmd.MarkFlagRequired("chain")
	return cmd
}

// latestCheckpoint is the runpack of a chain's latest checkpoint, for a
// hint; a placeholder when the chain names none.
func latestCheckpoint(chain string) string {
	if p, err := job.RunpackFromChain(chain, "latest"); err == nil && p != "" {
		return filepath.ToSlash(p)
	}
	return "<checkpoint runpack>"
}
