package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
)

// defaultOutDir is where outputs go and where run ids resolve.
const defaultOutDir = "gait-out"

func init() {
	register(func(root *cobra.Command, a *app) {
		cmd := &cobra.Command{
			Use:   "run",
			Short: "Record, inspect, replay and diff runpacks",
			Long:  "run works with runpacks: record one from a run record, inspect it, print its ticket footer, replay it with stubbed tools, or diff two runs.",
		}
		cmd.AddCommand(newRunRecordCmd(a), newRunInspectCmd(a), newRunReceiptCmd(a), newRunReplayCmd(a), newRunDiffCmd(a), newRunReduceCmd(a))
		cmd.AddCommand(newRunSessionCmd(a))
		root.AddCommand(cmd)
	})
}

// runpackArg takes a run id or path from --from or the first argument.
func runpackArg(from string, args []string) (string, error) {
	switch {
	case from != "" && len(args) > 0:
		return "", exitcode.Invalidf("give the runpack once, as --from or as an argument")
	case from != "":
		return pack.Resolve(from, defaultOutDir), nil
	case len(args) == 1:
		return pack.Resolve(args[0], defaultOutDir), nil
	}
	return "", exitcode.Invalidf("no runpack given; pass a run id or a runpack path")
}

// openRunpackArg resolves and opens the runpack named by --from or the argument.
func openRunpackArg(from string, args []string) (*pack.Runpack, string, error) {
	path, err := runpackArg(from, args)
	if err != nil {
		return nil, "", err
	}
	rp, err := pack.Open(path)
	return rp, path, err
}

func newRunRecordCmd(a *app) *cobra.Command {
	var input, outDir, runID, captureMode, evidenceMode, envelope string
	var unsafeRaw bool
	var signing signingOptions
	cmd := &cobra.Command{
		Use:   "record [run_record.json]",
		Short: "Write a runpack from a run record",
		Long: `run record reads a run record (JSON with run, intents, results, refs) and
writes gait-out/runpack_<run_id>.zip: canonical JSON files in a deterministic
zip with a manifest of SHA-256 digests. Missing args/result digests are
computed. With --key-mode prod a --private-key is required and the manifest is
signed; in dev mode it is signed only when a key is given.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if input == "" && len(args) == 1 {
				input = args[0]
			}
			if input == "" {
				return exitcode.Invalidf("no run record given; pass --input run_record.json")
			}
			priv, _, err := signing.load()
			if err != nil {
				return err
			}
			if evidenceMode != "best_effort" && evidenceMode != "required" {
				return exitcode.Invalidf("--context-evidence-mode %q is not best_effort or required", evidenceMode)
			}
			opts := pack.RecordOptions{RunID: runID, CaptureMode: captureMode, ContextEvidenceMode: evidenceMode, ProducerVersion: producerVersion(), PrivateKey: priv}
			data, err := os.ReadFile(input)
			if err != nil {
				return exitcode.Invalidf("%s: cannot read run record: %v; pass --input with an existing file", input, unwrapPathErr(err))
			}
			rec, err := pack.ParseRunRecord(input, data)
			if err != nil {
				return err
			}
			if envelope != "" {
				// as v1: the envelope's records are the run's references
				env, err := gate.LoadContextEnvelope(envelope)
				if err != nil {
					return err
				}
				if env.HasRawRecords() && !unsafeRaw {
					return exitcode.Invalidf("%s: a record has redaction_mode raw; pass --unsafe-context-raw to store raw context, or redact it", envelope)
				}
				if rec.Refs.Receipts, err = env.Receipts(); err != nil {
					return err
				}
				rec.Refs.ContextSetDigest, rec.Refs.ContextRefCount = env.ContextSetDigest, len(env.Records)
			}
			rp, err := pack.Build(rec, opts)
			if err != nil {
				return exitcode.Wrap(exitcode.Of(err), fmt.Errorf("%s: %w", input, err))
			}
			path := pack.DefaultPath(outDir, rp.Manifest.RunID)
			_, statErr := os.Stat(path)
			replaced := statErr == nil && !rp.SameAsStored(path)
			if err := rp.WriteFile(path); err != nil {
				return err
			}
			if replaced {
				a.diag("gait: %s: replaced a runpack with different content; pass --run-id to keep both", path)
			}
			sig := pack.SignatureMissing
			keyID := ""
			if opts.PrivateKey != nil {
				sig, keyID = "signed", rp.Manifest.Signatures[0].KeyID
			}
			footer := pack.TicketFooter(rp.Manifest.RunID, rp.Manifest.ManifestDigest)
			a.emit(struct {
				OK              bool   `json:"ok"`
				RunID           string `json:"run_id"`
				Bundle          string `json:"bundle"`
				ManifestDigest  string `json:"manifest_digest"`
				SignatureStatus string `json:"signature_status"`
				SignatureKeyID  string `json:"signature_key_id,omitempty"`
				TicketFooter    string `json:"ticket_footer"`
			}{true, rp.Manifest.RunID, path, rp.Manifest.ManifestDigest, sig, keyID, footer},
				kv("run_id", rp.Manifest.RunID, "bundle", path, "manifest_digest", rp.Manifest.ManifestDigest,
					"signature_status", sig, "ticket_footer", footer,
					"next", "gait verify "+rp.Manifest.RunID, "next", "gait regress bootstrap --from "+rp.Manifest.RunID))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&input, "input", "", "run record JSON file")
	f.StringVar(&outDir, "out-dir", defaultOutDir, "output directory")
	f.StringVar(&runID, "run-id", "", "override the record's run id")
	f.StringVar(&captureMode, "capture-mode", "", "reference (default) or raw")
	signing.registerEnv(cmd, a)
	f.StringVar(&envelope, "context-envelope", "", "context envelope `file` (gait.context.envelope): its records become the run's references")
	f.BoolVar(&unsafeRaw, "unsafe-context-raw", false, "accept envelope records with redaction_mode raw (their content is stored)")
	f.StringVar(&evidenceMode, "context-evidence-mode", "best_effort", "best_effort or required")
	return cmd
}

func unwrapPathErr(err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return pe.Err
	}
	return err
}

func newRunInspectCmd(a *app) *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "inspect [run_id|path]",
		Short: "List a runpack's steps",
		Long:  "run inspect reads a runpack (checking its digests) and lists each intent with its tool, status and digests.",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			rp, path, err := openRunpackArg(from, args)
			if err != nil {
				return err
			}
			res := pack.Inspect(rp, path)
			text := kv("run_id", res.RunID, "path", path, "capture_mode", res.CaptureMode,
				"intents", fmt.Sprint(res.IntentsTotal), "results", fmt.Sprint(res.ResultsTotal), "refs", fmt.Sprint(res.RefsTotal),
				"signed", fmt.Sprint(res.Signed))
			text = append(text, stepFields(res.Entries)...)
			text = append(text, field{"ticket_footer", res.TicketFooter})
			a.emit(res, text)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "run id or runpack path")
	return cmd
}

func newRunReceiptCmd(a *app) *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "receipt [run_id|path]",
		Short: "Print the ticket footer of a runpack",
		Long: `run receipt prints the ticket footer for a runpack, the one line to paste into
an incident ticket or PR: GAIT run_id=… manifest=sha256:… verify="gait verify …".`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			rp, _, err := openRunpackArg(from, args)
			if err != nil {
				return err
			}
			footer := pack.TicketFooter(rp.Manifest.RunID, rp.Manifest.ManifestDigest)
			if a.json {
				a.writeJSON(struct {
					OK             bool   `json:"ok"`
					RunID          string `json:"run_id"`
					ManifestDigest string `json:"manifest_digest"`
					TicketFooter   string `json:"ticket_footer"`
				}{true, rp.Manifest.RunID, rp.Manifest.ManifestDigest, footer})
				return nil
			}
			fmt.Fprintln(a.out, footer)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "run id or runpack path")
	return cmd
}

func newRunReplayCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "replay <run_id|path>",
		Short: "Replay a runpack with stubbed tools",
		Long: `run replay answers every intent of a runpack with its recorded result, in
order, without running any real tool (stub mode). It exits 2 when an intent has
no recorded result to answer with.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			path := pack.Resolve(args[0], defaultOutDir)
			rp, err := pack.Open(path)
			if err != nil {
				return err
			}
			res := pack.Replay(rp)
			text := kv("run_id", res.RunID, "mode", res.Mode, "steps", fmt.Sprint(len(res.Steps)))
			for _, s := range res.Steps {
				text = append(text, field{fmt.Sprintf("step.%d", s.Index), fmt.Sprintf("tool=%s execution=%s status=%s", s.ToolName, s.Execution, s.Status)})
			}
			if len(res.MissingResults) > 0 {
				text = append(text, field{"missing_results", strings.Join(res.MissingResults, ",")})
			}
			a.emit(res, text)
			if res.ExitCode != 0 {
				return silent(exitcode.Code(res.ExitCode))
			}
			return nil
		},
	}
	return cmd
}

func newRunDiffCmd(a *app) *cobra.Command {
	var privacy, output string
	cmd := &cobra.Command{
		Use:   "diff <left> <right>",
		Short: "Compare two runs by behaviour",
		Long: `run diff compares two runpacks as v1 does: intents and results matched by
intent id (tool, argument digest; status, result digest), reference receipts
and the context set digest, and the manifest's capture mode. Run ids,
timestamps and order do not count. It says which parts changed, lists intents
and results only one side has, shows the differing steps and a unified diff,
and exits 2 when the runs differ, 0 when they match. --privacy metadata leaves
argument and result values out (no unified diff); --output also writes the
result as JSON.`,
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			if privacy != pack.PrivacyFull && privacy != pack.PrivacyMetadata {
				return exitcode.Invalidf("--privacy %q is not full or metadata", privacy)
			}
			lp, rp := pack.Resolve(args[0], defaultOutDir), pack.Resolve(args[1], defaultOutDir)
			left, err := pack.Open(lp)
			if err != nil {
				return err
			}
			right, err := pack.Open(rp)
			if err != nil {
				return err
			}
			res := pack.DiffWith(left, right, lp, rp, privacy)
			if output != "" {
				res.Output = output
				if err := atomicfile.WriteJSON(output, res, 0o644); err != nil {
					return exitcode.Invalidf("%s: cannot write the diff: %v; pass a writable --output", output, unwrapPathErr(err))
				}
			}
			if a.json {
				a.writeJSON(res)
			} else {
				fmt.Fprintf(a.out, "same=%t\nmanifest_changed=%t\nintents_changed=%t\nresults_changed=%t\nrefs_changed=%t\n",
					res.Same, res.Summary.ManifestChanged, res.Summary.IntentsChanged, res.Summary.ResultsChanged, res.Summary.RefsChanged)
				if output != "" {
					fmt.Fprintf(a.out, "output=%s\n", output)
				}
				fmt.Fprint(a.out, res.Unified)
			}
			if !res.Same {
				return silent(exitcode.VerifyFailed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&privacy, "privacy", pack.PrivacyFull, "full, or metadata: leave argument and result values out")
	cmd.Flags().StringVar(&output, "output", "", "also write the diff as JSON to this `file`")
	return cmd
}

// stepFields renders a runpack's steps as step.N lines.
func stepFields(entries []pack.InspectEntry) []field {
	var out []field
	for _, e := range entries {
		status := e.Status
		if status == "" {
			status = "missing"
		}
		out = append(out, field{fmt.Sprintf("step.%d", e.Index), fmt.Sprintf("intent=%s tool=%s status=%s", e.IntentID, e.ToolName, status)})
	}
	return out
}
