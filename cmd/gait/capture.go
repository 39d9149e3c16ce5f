package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/capture"
	"github.com/gait-dev/gait/pack"
)

func init() {
	register(func(root *cobra.Command, a *app) { root.AddCommand(newCaptureCmd(a)) })
}

func newCaptureCmd(a *app) *cobra.Command {
	var from, checkpoint, out string
	cmd := &cobra.Command{
		Use:   "capture --from <run_id|runpack.zip|trace.json|session_chain.json>",
		Short: "Pin an incident's evidence in a capture receipt",
		Long: `capture resolves a run id, runpack, gate trace or session chain to the
artifact it names and writes a capture receipt (gait.capture.receipt, default
gait-out/capture.json). A session chain resolves to one checkpoint's runpack:
--checkpoint latest (the default) or its index; an index the chain does not
have is refused. The receipt records the checkpoint and the runpack's manifest
digest; resolving the receipt again (gait capture --from capture.json) yields
exactly that runpack, and refuses it if it changed since. The receipt is
deterministic.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			r, err := capture.Capture(from, checkpoint, defaultOutDir, out)
			if err != nil {
				return err
			}
			text := kv("artifact_type", r.ArtifactType, "artifact_path", r.ArtifactPath)
			if r.SessionChainPath != "" {
				text = append(text, kv("session_chain_path", r.SessionChainPath, "checkpoint", fmt.Sprint(r.CheckpointIndex))...)
			}
			if r.RunID != "" {
				text = append(text, kv("run_id", r.RunID, "manifest_digest", r.ManifestDigest)...)
			}
			if r.TraceID != "" {
				text = append(text, kv("trace_id", r.TraceID)...)
			}
			text = append(text, kv("receipt", r.OutputPath)...)
			if r.ArtifactType == capture.ArtifactRunpack {
				text = append(text, kv("next", "gait regress add --from "+r.OutputPath)...)
				if p := firingPredicate(r.ArtifactPath); p != "" {
					text = append(text, kv("next", "gait run reduce --from "+r.ArtifactPath+" --predicate "+p)...)
				}
			}
			a.emit(r, text)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "run id, runpack, gate trace, session chain or capture receipt")
	f.StringVar(&checkpoint, "checkpoint", "latest", "session chain checkpoint: latest or an index from 1")
	f.StringVar(&out, "out", capture.DefaultOut, "receipt path")
	return cmd
}

// firingPredicate is the reduce predicate a runpack fails (a step without
// a result, else a step whose status is not ok), or "" when it fails none
// and there is nothing to reduce.
func firingPredicate(path string) string {
	rp, err := pack.Open(path)
	if err != nil {
		return ""
	}
	answered := map[string]bool{}
	notOK := false
	for _, r := range rp.Results {
		answered[r.IntentID] = true
		notOK = notOK || r.Status != "ok"
	}
	for _, in := range rp.Intents {
		if !answered[in.IntentID] {
			return pack.PredicateMissingResult
		}
	}
	if notOK {
		return pack.PredicateNonOKStatus
	}
	return ""
}
