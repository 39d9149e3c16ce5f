package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/guard"
	"github.com/gait-dev/gait/internal/exitcode"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		tr := newWrapCmd(a, guard.ModeTrace, "Run a Gait-aware child and summarise the traces it names",
			"observe only: the verdicts are summarised, the exit code is the child's.")
		tr.AddCommand(newTraceVerifyCmd(a))
		root.AddCommand(tr,
			newWrapCmd(a, guard.ModeTest, "Run a Gait-aware test harness and summarise its traces",
				"observe only, for a test harness: the verdicts are summarised, the exit code is the child's."),
			newWrapCmd(a, guard.ModeEnforce, "Run a Gait-aware child and fail on any non-allow trace",
				"a block or dry_run verdict exits 3, require_approval exits 4, and a trace that cannot be read exits 3 (fail closed)."))
	})
}

func newWrapCmd(a *app, mode, short, what string) *cobra.Command {
	var dir string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   mode + " [--cwd dir] [--timeout 30s] -- <command> [args...]",
		Short: short,
		Long: mode + ` runs a Gait-aware child command (no shell, in its own process group,
with GAIT_WRAPPER_MODE=` + mode + `, killed with its group after --timeout) and
collects the trace_path=<file> and runpack_path=<file> lines it prints on
stdout (relative to --cwd). In ` + mode + ` mode ` + what + `
The child must name at least one trace (exit 6 otherwise: gait does not
instrument arbitrary programs); a child that fails keeps its exit code; a
timeout is exit 1. --json includes the child's stdout and stderr.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if c.ArgsLenAtDash() != 0 || len(args) == 0 {
				return exitcode.Invalidf("pass the child command after --, e.g. gait %s -- python agent.py", mode)
			}
			res, err := guard.Wrap(context.Background(), guard.WrapOptions{Mode: mode, Command: args, Dir: dir, Timeout: timeout, Env: os.Environ()})
			var counts []string
			for _, v := range res.VerdictCounts {
				counts = append(counts, fmt.Sprintf("%s:%d", v.Verdict, v.Count))
			}
			text := kv("mode", mode, "child_exit_code", fmt.Sprint(res.ChildExitCode), "traces", fmt.Sprint(len(res.TracePaths)),
				"runpacks", fmt.Sprint(len(res.RunpackPaths)), "verdicts", strings.Join(counts, ","))
			for _, p := range res.TracePaths {
				text = append(text, field{"trace_path", p})
			}
			for _, p := range res.RunpackPaths {
				text = append(text, field{"runpack_path", p})
			}
			for _, p := range res.InvalidTraces {
				text = append(text, field{"invalid_trace", p})
			}
			if err != nil {
				if a.json {
					a.writeJSON(res)
				} else if len(res.TracePaths) > 0 {
					a.emit(res, text)
				}
				a.diag("gait: %s", oneLineMessage(err))
				return silent(exitcode.Of(err))
			}
			a.emit(res, text)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "cwd", "", "working directory of the child")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "kill the child (and its process group) after this long")
	return cmd
}

func newTraceVerifyCmd(a *app) *cobra.Command {
	var key verifyKeyFlags
	var requireSig bool
	cmd := &cobra.Command{
		Use:   "verify <trace.json>",
		Short: "Verify a gate trace and its signature",
		Long: `trace verify checks a gate trace (gait.gate.trace): its schema and, with
--public-key or --public-key-env (or the public half of --private-key or
--private-key-env), its ed25519 signature over the canonical
document without "signature" (v1 traces verify too). Without a key the
signature is reported unknown; --require-signature fails unless it verifies.
Exit 2 when a check fails, 6 when the file is not a trace.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			pub, err := key.key(a)
			if err != nil {
				return err
			}
			if requireSig && pub == nil {
				return exitcode.Invalidf("--require-signature needs --public-key or --public-key-env")
			}
			res, err := guard.VerifyTrace(args[0], pub, requireSig)
			if err != nil {
				return a.verifyFailed(res, err)
			}
			a.emit(res, kv("verify", "ok", "path", res.Path, "trace_id", res.TraceID, "verdict", res.Verdict,
				"policy_digest", res.PolicyDigest, "signature_status", res.SignatureStatus))
			return nil
		},
	}
	key.add(cmd)
	cmd.Flags().BoolVar(&requireSig, "require-signature", false, "fail unless the signature verifies")
	return cmd
}
