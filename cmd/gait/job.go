package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/job"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		cmd := &cobra.Command{
			Use:   "job",
			Short: "Durable agent jobs: submit, checkpoint, pause, resume, approve, cancel, stop",
			Long: `job keeps durable agent jobs in ./gait-out/jobs/<id>/: state.json (current
state, replaced atomically) and events.jsonl (append-only history). Every
change takes a per-job file lock and bumps the revision. A job stops at a
decision-needed, blocked or completed checkpoint; resume is refused while a
decision lacks an approval (exit 4) or the environment changed (exit 6, unless
--allow-env-mismatch). job stop is the emergency stop: the job never runs
again, and the gate service blocks calls that name it. Illegal transitions
exit 6 naming the current state.`,
		}
		cp := &cobra.Command{Use: "checkpoint", Short: "Add, list and show job checkpoints",
			Long: "job checkpoint records what a job reached (plan, progress, decision-needed, blocked, completed) and lists or shows recorded checkpoints."}
		cp.AddCommand(newJobCheckpointAddCmd(a), newJobCheckpointListCmd(a), newJobCheckpointShowCmd(a))
		cmd.AddCommand(newJobSubmitCmd(a), newJobStatusCmd(a), cp, newJobPauseCmd(a), newJobResumeCmd(a),
			newJobCancelCmd(a), newJobStopCmd(a), newJobInspectCmd(a), newJobApproveCmd(a))
		root.AddCommand(cmd)
	})
}

// jobResult is the JSON shape of every job command.
type jobResult struct {
	OK          bool             `json:"ok"`
	Operation   string           `json:"operation"`
	JobID       string           `json:"job_id"`
	Job         *job.State       `json:"job,omitempty"`
	Checkpoint  *job.Checkpoint  `json:"checkpoint,omitempty"`
	Checkpoints []job.Checkpoint `json:"checkpoints,omitempty"`
	Events      []job.Event      `json:"events,omitempty"`
}

// jobFlags are the flags every job command shares.
type jobFlags struct {
	id, root, actor string
}

func (f *jobFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.id, "id", "", "job id")
	cmd.Flags().StringVar(&f.root, "root", job.DefaultRoot, "jobs directory")
	_ = cmd.MarkFlagRequired("id")
}

func (f *jobFlags) addActor(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.actor, "actor", "", "who is acting")
}

func (f *jobFlags) store() *job.Store {
	s := job.NewStore(f.root)
	s.ProducerVersion = producerVersion()
	return s
}

// emitJob prints a job state as a result.
func (a *app) emitJob(op string, st *job.State, extra ...field) {
	res := jobResult{OK: true, Operation: op, JobID: st.JobID, Job: st}
	text := kv("job_id", st.JobID, "status", st.Status, "stop_reason", st.StopReason,
		"reason_code", st.StatusReasonCode, "revision", fmt.Sprint(st.Revision))
	text = append(text, extra...)
	text = append(text, jobNext(st)...)
	a.emit(res, text)
}

func jobNext(st *job.State) []field {
	id := st.JobID
	switch st.Status {
	case job.StatusDecisionNeeded:
		return kv("next", "gait job approve --id "+id+" --actor <who>", "next", "gait job resume --id "+id)
	case job.StatusPaused, job.StatusBlocked:
		return kv("next", "gait job resume --id "+id)
	case job.StatusRunning:
		return kv("next", "gait job checkpoint add --id "+id+" --type progress --summary <text>")
	case job.StatusEmergencyStopped:
		return kv("next", "gait job inspect --id "+id)
	}
	return kv("next", "gait pack build --type job --from "+id)
}

func newJobSubmitCmd(a *app) *cobra.Command {
	var f jobFlags
	var o job.SubmitOptions
	cmd := &cobra.Command{
		Use:   "submit --id ID",
		Short: "Create a durable job",
		Long:  "job submit creates a running job in ./gait-out/jobs/<id>/ with its environment fingerprint, identity and policy digest. A job id can be submitted once.",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			o.ID, o.Actor = f.id, f.actor
			st, err := f.store().Submit(o)
			if err != nil {
				return err
			}
			a.emitJob("submit", st)
			return nil
		},
	}
	f.add(cmd)
	f.addActor(cmd)
	cmd.Flags().StringVar(&o.Identity, "identity", "", "identity the job runs as")
	cmd.Flags().StringVar(&o.PolicyPath, "policy", "", "policy file whose digest the job records")
	cmd.Flags().StringVar(&o.PolicyDigest, "policy-digest", "", "policy digest to record (hex sha256)")
	cmd.Flags().StringVar(&o.PolicyRef, "policy-ref", "", "policy reference to record")
	cmd.Flags().StringVar(&o.EnvFingerprint, "env-fingerprint", "", "environment fingerprint (default: this machine's)")
	return cmd
}

func newJobStatusCmd(a *app) *cobra.Command {
	var f jobFlags
	cmd := &cobra.Command{
		Use:   "status --id ID",
		Short: "Show a job's status",
		Long:  "job status prints a job's status, stop reason and revision from state.json, without taking the lock.",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			st, err := f.store().Status(f.id)
			if err != nil {
				return err
			}
			a.emitJob("status", st)
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

func newJobCheckpointAddCmd(a *app) *cobra.Command {
	var f jobFlags
	var o job.CheckpointOptions
	cmd := &cobra.Command{
		Use:   "add --id ID --type T --summary S",
		Short: "Record a checkpoint on a running job",
		Long: `job checkpoint add records a checkpoint of type ` + strings.Join(job.CheckpointTypes, "|") + `.
decision-needed (with --required-action), blocked and completed stop the job.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			o.Actor = f.actor
			st, cp, err := f.store().AddCheckpoint(f.id, o)
			if err != nil {
				return err
			}
			res := jobResult{OK: true, Operation: "checkpoint add", JobID: st.JobID, Job: st, Checkpoint: cp}
			text := kv("job_id", st.JobID, "checkpoint_id", cp.CheckpointID, "type", cp.Type, "status", st.Status,
				"revision", fmt.Sprint(st.Revision))
			a.emit(res, append(text, jobNext(st)...))
			return nil
		},
	}
	f.add(cmd)
	f.addActor(cmd)
	cmd.Flags().StringVar(&o.Type, "type", "", "plan, progress, decision-needed, blocked or completed")
	cmd.Flags().StringVar(&o.Summary, "summary", "", "what the job reached")
	cmd.Flags().StringVar(&o.RequiredAction, "required-action", "", "the decision a decision-needed checkpoint waits for")
	_ = cmd.MarkFlagRequired("type")
	return cmd
}

func newJobCheckpointListCmd(a *app) *cobra.Command {
	var f jobFlags
	cmd := &cobra.Command{
		Use:   "list --id ID",
		Short: "List a job's checkpoints",
		Long:  "job checkpoint list prints every checkpoint of a job in order.",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			st, err := f.store().Status(f.id)
			if err != nil {
				return err
			}
			res := jobResult{OK: true, Operation: "checkpoint list", JobID: st.JobID, Checkpoints: st.Checkpoints}
			if res.Checkpoints == nil {
				res.Checkpoints = []job.Checkpoint{}
			}
			text := kv("job_id", st.JobID, "checkpoints", fmt.Sprint(len(st.Checkpoints)))
			for _, cp := range st.Checkpoints {
				text = append(text, field{"checkpoint." + cp.CheckpointID, fmt.Sprintf("type=%s summary=%q", cp.Type, cp.Summary)})
			}
			a.emit(res, text)
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

func newJobCheckpointShowCmd(a *app) *cobra.Command {
	var f jobFlags
	var id string
	cmd := &cobra.Command{
		Use:   "show --id ID --checkpoint CP",
		Short: "Show one checkpoint",
		Long:  "job checkpoint show prints one checkpoint of a job by its id (cp_0001, ...).",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cp, err := f.store().Checkpoint(f.id, id)
			if err != nil {
				return err
			}
			a.emit(jobResult{OK: true, Operation: "checkpoint show", JobID: f.id, Checkpoint: cp},
				kv("job_id", f.id, "checkpoint_id", cp.CheckpointID, "type", cp.Type, "summary", cp.Summary,
					"required_action", cp.RequiredAction, "reason_code", cp.ReasonCode, "created_at", cp.CreatedAt))
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&id, "checkpoint", "", "checkpoint id")
	_ = cmd.MarkFlagRequired("checkpoint")
	return cmd
}

func newJobPauseCmd(a *app) *cobra.Command {
	var f jobFlags
	cmd := &cobra.Command{
		Use: "pause --id ID", Short: "Pause a job", Args: cobra.NoArgs,
		Long: "job pause stops a running (or waiting) job until `gait job resume`.",
		RunE: func(*cobra.Command, []string) error {
			st, err := f.store().Pause(f.id, f.actor)
			if err != nil {
				return err
			}
			a.emitJob("pause", st)
			return nil
		},
	}
	f.add(cmd)
	f.addActor(cmd)
	return cmd
}

func newJobCancelCmd(a *app) *cobra.Command {
	var f jobFlags
	cmd := &cobra.Command{
		Use: "cancel --id ID", Short: "Cancel a job for good", Args: cobra.NoArgs,
		Long: "job cancel ends a job that has not finished; nothing can change it afterwards.",
		RunE: func(*cobra.Command, []string) error {
			st, err := f.store().Cancel(f.id, f.actor)
			if err != nil {
				return err
			}
			a.emitJob("cancel", st)
			return nil
		},
	}
	f.add(cmd)
	f.addActor(cmd)
	return cmd
}

func newJobStopCmd(a *app) *cobra.Command {
	var f jobFlags
	cmd := &cobra.Command{
		Use: "stop --id ID", Short: "Emergency-stop a job", Args: cobra.NoArgs,
		Long: `job stop is the emergency stop: a running, paused, decision-needed or blocked
job becomes emergency_stopped (reason emergency_stop_preempted) at once. It is
never resumed, paused or checkpointed again, only cancelled. The gate service
(mcp serve --policy, mcp bridge) blocks every call whose context names the job
(emergency_stop_preempted).`,
		RunE: func(*cobra.Command, []string) error {
			st, err := f.store().Stop(f.id, f.actor)
			if err != nil {
				return err
			}
			a.emitJob("stop", st)
			return nil
		},
	}
	f.add(cmd)
	f.addActor(cmd)
	return cmd
}

func newJobApproveCmd(a *app) *cobra.Command {
	var f jobFlags
	var reason string
	cmd := &cobra.Command{
		Use: "approve --id ID --actor WHO", Short: "Approve a job's pending decision", Args: cobra.NoArgs,
		Long: "job approve records an approval; it answers the decision-needed checkpoints added before it, so `gait job resume` may proceed.",
		RunE: func(*cobra.Command, []string) error {
			st, err := f.store().Approve(f.id, f.actor, reason)
			if err != nil {
				return err
			}
			a.emitJob("approve", st)
			return nil
		},
	}
	f.add(cmd)
	f.addActor(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why it is approved")
	return cmd
}

func newJobResumeCmd(a *app) *cobra.Command {
	var f jobFlags
	var o job.ResumeOptions
	cmd := &cobra.Command{
		Use: "resume --id ID", Short: "Resume a stopped job", Args: cobra.NoArgs,
		Long: `job resume sets a paused, decision-needed or blocked job running again. It is
refused with exit 4 while the latest decision-needed checkpoint has no approval,
and with exit 6 when this environment's fingerprint differs from the job's
unless --allow-env-mismatch.`,
		RunE: func(*cobra.Command, []string) error {
			o.Actor = f.actor
			st, err := f.store().Resume(f.id, o)
			if err != nil {
				return err
			}
			a.emitJob("resume", st)
			return nil
		},
	}
	f.add(cmd)
	f.addActor(cmd)
	cmd.Flags().StringVar(&o.Identity, "identity", "", "identity resuming the job (must match the job's)")
	cmd.Flags().StringVar(&o.Reason, "reason", "", "why the job resumes")
	cmd.Flags().StringVar(&o.EnvFingerprint, "env-fingerprint", "", "environment fingerprint to compare (default: this machine's)")
	cmd.Flags().BoolVar(&o.AllowEnvMismatch, "allow-env-mismatch", false, "resume even when the environment changed")
	return cmd
}

func newJobInspectCmd(a *app) *cobra.Command {
	var f jobFlags
	cmd := &cobra.Command{
		Use: "inspect --id ID", Short: "Show a job's state and full event history", Args: cobra.NoArgs,
		Long: "job inspect prints a job's state and every committed event in revision order.",
		RunE: func(*cobra.Command, []string) error {
			s := f.store()
			st, err := s.Status(f.id)
			if err != nil {
				return err
			}
			evs, err := s.Events(f.id)
			if err != nil {
				return err
			}
			text := kv("job_id", st.JobID, "status", st.Status, "revision", fmt.Sprint(st.Revision), "events", fmt.Sprint(len(evs)))
			for _, ev := range evs {
				text = append(text, field{fmt.Sprintf("event.%d", ev.Revision), fmt.Sprintf("type=%s reason_code=%s", ev.Type, ev.ReasonCode)})
			}
			a.emit(jobResult{OK: true, Operation: "inspect", JobID: st.JobID, Job: st, Events: evs}, text)
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

// runDurableDemo is `gait demo --durable`.
func runDurableDemo(a *app) error {
	res, err := job.RunDurableDemo(defaultOutDir)
	if err != nil {
		return err
	}
	next := []string{"gait job inspect --id " + res.JobID, "gait pack inspect " + res.PackPath,
		"gait regress bootstrap --from " + res.PackPath}
	a.emit(struct {
		OK   bool   `json:"ok"`
		Mode string `json:"mode"`
		*job.DemoResult
		Verify       string   `json:"verify"`
		NextCommands []string `json:"next_commands"`
	}{true, "durable", res, "ok", next},
		kv("mode", "durable", "job_id", res.JobID, "job_status", res.JobStatus, "bundle", res.StatePath,
			"pack_path", res.PackPath, "pack_id", res.PackID, "verify", "ok", "simulated_failure", res.SimulatedFailure,
			"next", next[0], "next", next[1], "next", next[2]))
	return nil
}
