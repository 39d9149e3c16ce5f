package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/guard"
	"github.com/gait-dev/gait/internal/exitcode"
)

// newVerifyChainCmd is `verify chain`; verify.go adds it.
func newVerifyChainCmd(a *app) *cobra.Command {
	var o guard.ChainOptions
	var run string
	var vf verifyFlags
	cmd := &cobra.Command{
		Use:   "chain --run <run_id|path> [--trace trace.json] [--pack evidence_pack.zip]",
		Short: "Verify a run, its gate trace and its evidence pack together",
		Long: `verify chain gives one verdict over an incident's artifacts: the runpack (as
gait verify checks it), the gate trace (schema and, with a key, signature) and
the evidence pack (as gait guard verify checks it), then the links between
them: the pack's run_id and runpack summary name this run and its manifest
digest, and a pack that summarises traces lists the given trace.
--profile strict (or --require-signature) requires every artifact given to
carry a signature that verifies with --public-key or --public-key-env; strict
without a key is refused (exit 6). Exit 0 when the chain holds, 2 when any
check fails (all are listed), 6 for missing or wrong inputs.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			path, err := runpackArg(run, nil)
			if err != nil {
				return exitcode.Invalidf("no run given; pass --run <run_id|runpack.zip>")
			}
			opts, err := vf.options(a)
			if err != nil {
				return err
			}
			o.Run, o.PublicKey, o.RequireSignature = path, opts.PublicKey, opts.RequireSignature
			if o.RequireSignature && o.PublicKey == nil {
				return exitcode.Invalidf("--profile strict and --require-signature need --public-key or --public-key-env to check signatures")
			}
			res, err := guard.VerifyChain(o)
			if err != nil {
				return a.verifyFailed(res, err)
			}
			text := kv("verify", "ok", "run", res.Run.Path, "run_id", res.Run.RunID, "run_signature", res.Run.SignatureStatus)
			if res.Trace != nil {
				text = append(text, kv("trace", res.Trace.Path, "trace_id", res.Trace.TraceID, "trace_verdict", res.Trace.Verdict, "trace_signature", res.Trace.SignatureStatus)...)
			}
			if res.Pack != nil {
				text = append(text, kv("pack", res.Pack.Path, "pack_id", res.Pack.PackID, "pack_signature", res.Pack.SignatureStatus)...)
			}
			if len(res.Links) > 0 {
				text = append(text, kv("links_checked", strings.Join(res.Links, ","))...)
			}
			a.emit(res, text)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&run, "run", "", "run id or runpack path")
	f.StringVar(&o.Trace, "trace", "", "gate trace file")
	f.StringVar(&o.Pack, "pack", "", "evidence pack zip")
	vf.add(cmd, "every artifact given")
	return cmd
}
