package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/job"
	"github.com/gait-dev/gait/pack"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		cmd := &cobra.Command{
			Use:   "pack",
			Short: "Build, verify, inspect, diff and export unified packs (run|job)",
			Long: `pack works with unified packs: deterministic zips with a pack_manifest.json
(gait.pack.manifest) declaring every entry's SHA-256 and a pack_id digest. A run
pack embeds a runpack (source/runpack.zip) and its summary; a job pack embeds a
job's state and event history.`,
		}
		cmd.AddCommand(newPackBuildCmd(a), newPackVerifyCmd(a), newPackInspectCmd(a), newPackDiffCmd(a), newPackExportCmd(a))
		root.AddCommand(cmd)
	})
}

func newPackBuildCmd(a *app) *cobra.Command {
	var packType, from, out, jobRoot string
	var signing signingOptions
	cmd := &cobra.Command{
		Use:   "build --type run|job --from ID|path",
		Short: "Build a run or job pack",
		Long: `pack build wraps a runpack (--type run --from run_id|runpack.zip) or a job
(--type job --from job_id|job directory) in a unified pack, written to
gait-out/pack_<type>_<id>.zip unless --out is given. The same source always
gives the same bytes. With --private-key the manifest is signed.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			priv, _, err := signing.load()
			if err != nil {
				return err
			}
			opts := pack.PackOptions{ProducerVersion: producerVersion(), PrivateKey: priv}
			var p *pack.Pack
			switch packType {
			case pack.PackTypeRun:
				p, err = pack.BuildRunPack(pack.Resolve(from, defaultOutDir), opts)
			case pack.PackTypeJob:
				root, id := jobRoot, from
				if st, serr := os.Stat(filepath.Join(from, job.FileState)); serr == nil && !st.IsDir() {
					root, id = filepath.Dir(filepath.Clean(from)), filepath.Base(filepath.Clean(from))
				}
				s := job.NewStore(root)
				p, err = s.BuildPack(id, opts)
			default:
				return exitcode.Invalidf("--type %q is not run or job", packType)
			}
			if err != nil {
				return err
			}
			if out == "" {
				out = pack.DefaultPackPath(defaultOutDir, p.Manifest.PackType, p.Manifest.SourceRef)
			}
			if err := p.WriteFile(out); err != nil {
				return err
			}
			a.emit(struct {
				OK        bool   `json:"ok"`
				Path      string `json:"path"`
				PackID    string `json:"pack_id"`
				PackType  string `json:"pack_type"`
				SourceRef string `json:"source_ref"`
				Signed    bool   `json:"signed"`
			}{true, out, p.Manifest.PackID, p.Manifest.PackType, p.Manifest.SourceRef, len(p.Manifest.Signatures) > 0},
				kv("path", out, "pack_id", p.Manifest.PackID, "pack_type", p.Manifest.PackType, "source_ref", p.Manifest.SourceRef,
					"next", "gait pack verify "+out, "next", "gait regress bootstrap --from "+out))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&packType, "type", "", "run or job")
	f.StringVar(&from, "from", "", "run id, runpack path, job id or job directory")
	f.StringVar(&out, "out", "", "pack path (default gait-out/pack_<type>_<id>.zip)")
	f.StringVar(&jobRoot, "job-root", job.DefaultRoot, "jobs directory for a job id")
	signing.registerEnv(cmd, a)
	_ = cmd.MarkFlagRequired("type")
	_ = cmd.MarkFlagRequired("from")
	return cmd
}

func newPackVerifyCmd(a *app) *cobra.Command {
	var vf verifyFlags
	cmd := &cobra.Command{
		Use:   "verify <pack.zip>",
		Short: "Verify a pack's integrity and signature",
		Long: `pack verify checks a pack without trusting it: canonical zip, pack_id, every
entry declared with a matching SHA-256 (undeclared entries are rejected), the
entries its type requires, the payload against what it embeds and, with a
key (--public-key, --public-key-env, --private-key, --private-key-env), the
signature; --profile strict requires a key and a signature that verifies. Exit 0 when it holds, 2 when a check fails, 6 when
the input is not a pack.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts, err := vf.options(a)
			if err != nil {
				return err
			}
			res, err := pack.VerifyPack(args[0], opts)
			if err != nil {
				return a.verifyFailed(res, err)
			}
			a.emit(res, kv("verify", "ok", "path", res.Path, "pack_id", res.PackID, "pack_type", res.PackType,
				"source_ref", res.SourceRef, "files_checked", fmt.Sprint(res.FilesChecked), "signature_status", res.SignatureStatus,
				"next", "gait pack inspect "+args[0]))
			return nil
		},
	}
	vf.add(cmd, "the pack manifest")
	return cmd
}

func newPackInspectCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inspect <pack.zip>",
		Short: "Describe a pack",
		Long:  "pack inspect verifies a pack's digests and prints its manifest, payload summary and, for a job pack, its checkpoint lineage.",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			p, err := pack.OpenPack(args[0])
			if err != nil {
				return err
			}
			res := pack.InspectPack(p, args[0])
			text := kv("path", args[0], "pack_id", res.PackID, "pack_type", res.PackType, "source_ref", res.SourceRef,
				"signed", fmt.Sprint(res.Signed))
			for _, e := range res.Manifest.Contents {
				text = append(text, field{"file", e.Path + " sha256=" + e.SHA256})
			}
			if res.RunPayload != nil {
				text = append(text, kv("run_id", res.RunPayload.RunID, "manifest_digest", res.RunPayload.ManifestDigest,
					"intents", fmt.Sprint(res.RunPayload.IntentsCount))...)
			}
			if res.JobPayload != nil {
				text = append(text, kv("job_id", res.JobPayload.JobID, "status", res.JobPayload.Status,
					"checkpoints", fmt.Sprint(res.JobPayload.CheckpointCount), "approvals", fmt.Sprint(res.JobPayload.ApprovalCount))...)
			}
			if res.Run != nil {
				text = append(text, stepFields(res.Run.Entries)...)
			}
			if res.Job != nil {
				text = append(text, kv("event_count", fmt.Sprint(res.Job.EventCount), "last_event_type", res.Job.LastEventType)...)
				for _, c := range res.Job.CheckpointRefs {
					text = append(text, field{"checkpoint", fmt.Sprintf("id=%s type=%s reason_code=%s", c.CheckpointID, c.Type, c.ReasonCode)})
				}
			}
			a.emit(res, text)
			return nil
		},
	}
	return cmd
}

func newPackDiffCmd(a *app) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "diff <left.zip> <right.zip>",
		Short: "Compare two packs",
		Long: `pack diff compares two packs' declared entries and prints the added, removed
and changed files (a gait.pack.diff document with --json or --output). It
exits 2 when the packs differ, 0 when they are the same.`,
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			left, err := pack.OpenPack(args[0])
			if err != nil {
				return err
			}
			right, err := pack.OpenPack(args[1])
			if err != nil {
				return err
			}
			res := pack.DiffPacks(left, right)
			if output != "" {
				if err := atomicfile.WriteJSON(output, res, 0o644); err != nil {
					return err
				}
			}
			s := res.Summary
			text := kv("changed", fmt.Sprint(s.Changed), "left_pack_id", res.LeftPackID, "right_pack_id", res.RightPackID)
			for _, f := range s.AddedFiles {
				text = append(text, field{"added", f})
			}
			for _, f := range s.RemovedFiles {
				text = append(text, field{"removed", f})
			}
			for _, f := range s.ChangedFiles {
				text = append(text, field{"changed_file", f})
			}
			a.emit(res, text)
			if s.Changed {
				return silent(exitcode.VerifyFailed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&output, "output", "", "also write the diff document to this file")
	return cmd
}
