package main

import (
	"crypto/ed25519"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/guard"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/keys"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		cmd := &cobra.Command{
			Use:   "guard",
			Short: "Build, verify, retain and encrypt evidence packs",
			Long: `guard works with evidence packs (gait.guard.pack_manifest): build one from a
run and the traces, regress results, approval audits and credential evidence
around it, verify it, expire old evidence, and encrypt it for hand-over.`,
		}
		cmd.AddCommand(newGuardPackCmd(a), newGuardVerifyCmd(a), newGuardRetainCmd(a), newGuardEncryptCmd(a), newGuardDecryptCmd(a))
		root.AddCommand(cmd)
	})
}

// signingKey loads --private-key (a file) or --private-key-env (a variable
// holding the key text); nil when neither is given.
func (a *app) signingKey(path, env string) (ed25519.PrivateKey, error) {
	switch {
	case path != "" && env != "":
		return nil, exitcode.Invalidf("give the private key once, as --private-key or --private-key-env")
	case path != "":
		return keys.LoadPrivate(path)
	case env != "":
		text := a.getenv(env)
		if text == "" {
			return nil, exitcode.Invalidf("--private-key-env %s: the variable is empty or unset; export the key text in it", env)
		}
		k, err := keys.ParsePrivate(text)
		if err != nil {
			return nil, exitcode.Invalidf("--private-key-env %s: %v; export the text of a key from `gait keys init`", env, err)
		}
		return k, nil
	}
	return nil, nil
}

// publicKey loads --public-key (a file) or --public-key-env (key text).
func (a *app) publicKey(path, env string) (ed25519.PublicKey, error) {
	switch {
	case path != "" && env != "":
		return nil, exitcode.Invalidf("give the public key once, as --public-key or --public-key-env")
	case path != "":
		return keys.LoadPublic(path)
	case env != "":
		text := a.getenv(env)
		if text == "" {
			return nil, exitcode.Invalidf("--public-key-env %s: the variable is empty or unset; export the key text in it", env)
		}
		k, err := keys.ParsePublic(text)
		if err != nil {
			return nil, exitcode.Invalidf("--public-key-env %s: %v; export the text of a public key from `gait keys init`", env, err)
		}
		return k, nil
	}
	return nil, nil
}

// verifyKeyFlags name the key a signature must verify with, the ways v1
// takes it: a public key (file or variable), or a private key whose public
// half is used.
type verifyKeyFlags struct{ public, publicEnv, private, privateEnv string }

func (k *verifyKeyFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&k.public, "public-key", "", "ed25519 public key file")
	f.StringVar(&k.publicEnv, "public-key-env", "", "environment variable holding the public key text")
	f.StringVar(&k.private, "private-key", "", "private key file whose public half checks the signature")
	f.StringVar(&k.privateEnv, "private-key-env", "", "environment variable holding a private key whose public half checks the signature")
}

// key returns the verifying key; nil when no flag names one.
func (k *verifyKeyFlags) key(a *app) (ed25519.PublicKey, error) {
	// With both, the public key wins, as in v1.
	if pub, err := a.publicKey(k.public, k.publicEnv); err != nil || pub != nil {
		return pub, err
	}
	priv, err := a.signingKey(k.private, k.privateEnv)
	if err != nil || priv == nil {
		return nil, err
	}
	return priv.Public().(ed25519.PublicKey), nil
}

// evidenceFlags are the inputs guard pack and incident pack share.
type evidenceFlags struct {
	template, caseID, out, keyMode, privateKey, privateKeyEnv string
	renderPDF                                                 bool
}

func (e *evidenceFlags) add(cmd *cobra.Command, defaultTemplate string) {
	f := cmd.Flags()
	f.StringVar(&e.template, "template", defaultTemplate, "control template: "+strings.Join(guard.Templates, ", "))
	f.StringVar(&e.caseID, "case-id", "", "case or ticket id recorded in the manifest")
	f.StringVar(&e.out, "out", "", "pack path (default gait-out/evidence_pack_<pack_id>.zip)")
	f.StringVar(&e.keyMode, "key-mode", "dev", "dev or prod (prod requires a private key)")
	f.StringVar(&e.privateKey, "private-key", "", "ed25519 private key file that signs the manifest")
	f.StringVar(&e.privateKeyEnv, "private-key-env", "", "environment variable holding the private key text")
	f.BoolVar(&e.renderPDF, "render-pdf", false, "add summary.pdf, a one-page summary of the pack")
}

// options checks the shared flags and loads the key.
func (e *evidenceFlags) options(a *app) (guard.Options, error) {
	if err := guard.CheckTemplate(e.template); err != nil {
		return guard.Options{}, err
	}
	mode, err := keys.ParseMode(e.keyMode)
	if err != nil {
		return guard.Options{}, err
	}
	priv, err := a.signingKey(e.privateKey, e.privateKeyEnv)
	if err != nil {
		return guard.Options{}, err
	}
	if mode == keys.ModeProd && priv == nil {
		return guard.Options{}, exitcode.Invalidf("--key-mode prod needs --private-key or --private-key-env; create a key with `gait keys init`")
	}
	return guard.Options{Template: e.template, CaseID: e.caseID, PrivateKey: priv, ProducerVersion: producerVersion(), RenderPDF: e.renderPDF}, nil
}

// writePack writes p and prints what was written.
func (a *app) writePack(p *guard.Pack, out, runPath string, extra ...string) error {
	if out == "" {
		out = guard.DefaultPath(defaultOutDir, p.Manifest.PackID)
	}
	if err := p.WriteFile(out); err != nil {
		return err
	}
	m := p.Manifest
	sig := guard.SignatureMissing
	if len(m.Signatures) > 0 {
		sig = "signed"
	}
	rendered := 0
	var windowFrom, windowTo string
	for _, c := range m.Contents {
		if c.Path == guard.FileSummaryPDF {
			rendered++
		}
	}
	if w := m.IncidentWindow; w != nil {
		windowFrom, windowTo = w.From, w.To
	}
	a.emit(struct {
		OK                bool          `json:"ok"`
		PackID            string        `json:"pack_id"`
		PackPath          string        `json:"pack_path"`
		ManifestPath      string        `json:"manifest_path"` // v1's <pack>#pack_manifest.json
		RunID             string        `json:"run_id"`
		TemplateID        string        `json:"template_id"`
		CaseID            string        `json:"case_id,omitempty"`
		Controls          int           `json:"controls"`
		Files             int           `json:"files"`
		RenderedArtifacts int           `json:"rendered_artifacts,omitempty"`
		SignatureStatus   string        `json:"signature_status"`
		Window            *guard.Window `json:"incident_window,omitempty"`
		WindowFrom        string        `json:"window_from,omitempty"` // v1's flat copies of incident_window
		WindowTo          string        `json:"window_to,omitempty"`
	}{true, m.PackID, out, out + "#" + guard.FileManifest, m.RunID, m.TemplateID, m.CaseID, len(m.ControlIndex), len(m.Contents),
		rendered, sig, m.IncidentWindow, windowFrom, windowTo},
		append(kv("pack_id", m.PackID, "pack_path", out, "run_id", m.RunID, "run", runPath, "template_id", m.TemplateID,
			"controls", fmt.Sprint(len(m.ControlIndex)), "files", fmt.Sprint(len(m.Contents)), "signature_status", sig),
			kv(append(extra, "next", "gait guard verify "+out)...)...))
	return nil
}

func newGuardPackCmd(a *app) *cobra.Command {
	var run string
	var traces, regress, approvals, credentials, inventory []string
	var ev evidenceFlags
	cmd := &cobra.Command{
		Use:   "pack --run <run_id|path>",
		Short: "Build an evidence pack for a run",
		Long: `guard pack builds an evidence pack: a deterministic zip with
pack_manifest.json (gait.guard.pack_manifest), a summary of the run and its
reference receipts, and, when given, a summary of gate traces (--trace), of
regress results (--regress), the approval audit and credential evidence
records and inventory snapshots (--inventory), and with --render-pdf a
one-page summary.pdf, indexed by the controls of --template (soc2, pci or
incident_response). Lists are comma-separated or repeated flags.

It is signed with ed25519 when --private-key or --private-key-env is given
(required by --key-mode prod); unsigned packs are byte-identical across runs.
An unknown template or an input of the wrong kind is exit 6.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			runPath, err := runpackArg(run, nil)
			if err != nil {
				return exitcode.Invalidf("no run given; pass --run <run_id|runpack.zip>")
			}
			opts, err := ev.options(a)
			if err != nil {
				return err
			}
			opts.Traces, opts.Regress, opts.ApprovalAudits, opts.CredentialRecords, opts.Inventory = traces, regress, approvals, credentials, inventory
			p, err := guard.Build(runPath, opts)
			if err != nil {
				return err
			}
			return a.writePack(p, ev.out, runPath)
		},
	}
	f := cmd.Flags()
	f.StringVar(&run, "run", "", "run id or runpack path")
	f.StringSliceVar(&traces, "trace", nil, "gate trace files")
	f.StringSliceVar(&regress, "regress", nil, "regress result files")
	f.StringSliceVar(&approvals, "approval-audit", nil, "approval audit record files")
	f.StringSliceVar(&credentials, "credential-evidence", nil, "broker credential record files")
	f.StringSliceVar(&inventory, "inventory", nil, "inventory snapshot files")
	ev.add(cmd, "soc2")
	return cmd
}

func newGuardVerifyCmd(a *app) *cobra.Command {
	var profile, publicKey, publicKeyEnv string
	var requireSig bool
	cmd := &cobra.Command{
		Use:   "verify <evidence_pack.zip>",
		Short: "Verify an evidence pack",
		Long: `guard verify reads an evidence pack with the same strict zip reader as
runpacks (duplicate, non-local or oversized entries are refused) and checks
every declared entry's SHA-256, that no entry is undeclared, that evidence
pointers and controls name declared files, that the pack id matches its
contents and, with --public-key or --public-key-env, the signature.
--profile strict (or --require-signature) fails a pack without a signature
that verifies. Exit 0 when it holds, 2 when a check fails, 6 for a file that
is not an evidence pack.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if profile != "standard" && profile != "strict" {
				return exitcode.Invalidf("--profile %q is not standard or strict", profile)
			}
			pub, err := a.publicKey(publicKey, publicKeyEnv)
			if err != nil {
				return err
			}
			res, err := guard.Verify(args[0], guard.VerifyOptions{PublicKey: pub, RequireSignature: requireSig || profile == "strict"})
			if err != nil {
				return a.verifyFailed(res, err)
			}
			a.emit(res, kv("verify", "ok", "path", res.Path, "pack_id", res.PackID, "run_id", res.RunID, "template_id", res.TemplateID,
				"files_checked", fmt.Sprint(res.FilesChecked), "controls", fmt.Sprint(res.Controls), "signature_status", res.SignatureStatus))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&profile, "profile", "standard", "standard or strict (strict requires a verified signature)")
	f.BoolVar(&requireSig, "require-signature", false, "fail unless a signature verifies")
	f.StringVar(&publicKey, "public-key", "", "ed25519 public key file")
	f.StringVar(&publicKeyEnv, "public-key-env", "", "environment variable holding the public key text")
	return cmd
}
