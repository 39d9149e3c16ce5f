package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
)

func init() {
	register(func(root *cobra.Command, a *app) {
		cmd := &cobra.Command{
			Use:   "policy",
			Short: "Author and test gate policies",
			Long: `policy validates, formats and tests gait.gate.policy files.
Rollout: observe with "gait gate eval --simulate", enforce without it.`,
		}
		cmd.AddCommand(newPolicyValidateCmd(a), newPolicyFmtCmd(a), newPolicyTestCmd(a), newPolicySimulateCmd(a))
		root.AddCommand(cmd)
	})
}

func newPolicyValidateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "validate <policy.yaml>",
		Short: "Check a policy and print its digest",
		Long:  "policy validate parses and compiles a policy and prints its digest, default verdict and rule count. Exit 6 when the policy is invalid.",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			p, err := gate.LoadPolicy(args[0])
			if err != nil {
				return err
			}
			a.emit(struct {
				OK             bool         `json:"ok"`
				PolicyDigest   string       `json:"policy_digest"`
				DefaultVerdict gate.Verdict `json:"default_verdict"`
				RuleCount      int          `json:"rule_count"`
			}{true, p.Digest(), p.DefaultVerdict(), p.RuleCount()},
				kv("policy", "ok", "policy_digest", p.Digest(), "default_verdict", string(p.DefaultVerdict()),
					"rule_count", strconv.Itoa(p.RuleCount()), "next", "gait policy test "+args[0]+" <intent.json>"))
			return nil
		},
	}
}

func newPolicyFmtCmd(a *app) *cobra.Command {
	var write bool
	cmd := &cobra.Command{
		Use:   "fmt <policy.yaml>",
		Short: "Print a policy in canonical form",
		Long: `policy fmt prints the normalized policy: rules in evaluation order (priority,
then name), lists sorted and de-duplicated, defaults spelled out. The digest
does not change. --write replaces the file (atomically).`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			p, err := gate.LoadPolicy(args[0])
			if err != nil {
				return err
			}
			formatted, err := p.Format()
			if err != nil {
				return err
			}
			orig, _ := os.ReadFile(args[0])
			changed := !bytes.Equal(orig, formatted)
			if write && changed {
				if err := atomicfile.WriteFile(args[0], formatted, 0o644); err != nil {
					return fmt.Errorf("%s: cannot write: %w", args[0], err)
				}
			}
			if a.json {
				a.writeJSON(struct {
					OK           bool   `json:"ok"`
					Changed      bool   `json:"changed"`
					Written      bool   `json:"written"`
					PolicyDigest string `json:"policy_digest"`
					Formatted    string `json:"formatted"`
				}{true, changed, write && changed, p.Digest(), string(formatted)})
				return nil
			}
			if write {
				a.emit(nil, kv("changed", strconv.FormatBool(changed), "policy", args[0]))
				return nil
			}
			_, err = a.out.Write(formatted)
			return err
		},
	}
	cmd.Flags().BoolVar(&write, "write", false, "rewrite the file in place")
	return cmd
}

func newPolicyTestCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "test <policy.yaml> <intent.json>",
		Short: "Evaluate one intent fixture against a policy",
		Long: `policy test prints the policy's own decision for one intent fixture, without
approval or delegation tokens and without writing a trace. Exit codes follow
the verdict: 0 allow, 3 block, 4 require_approval.`,
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			p, err := gate.LoadPolicy(args[0])
			if err != nil {
				return err
			}
			req, err := gate.LoadIntent(args[1], gate.ProfileStandard)
			if err != nil {
				return err
			}
			var d gate.Decision
			digest := ""
			in, nerr := gate.Normalize(req)
			if nerr != nil {
				var ok bool
				if d, ok = p.InvalidIntentDecision(req.Context.RiskClass); !ok {
					return exitcode.Invalidf("%s: %v; fix the intent (schema gait.gate.intent_request)", args[1], gate.IntentProblem(nerr))
				}
			} else {
				d = p.Evaluate(in)
				digest = in.IntentDigest
			}
			code := d.Verdict.ExitCode()
			a.emit(struct {
				OK           bool         `json:"ok"`
				Verdict      gate.Verdict `json:"verdict"`
				ReasonCodes  []string     `json:"reason_codes"`
				Violations   []string     `json:"violations"`
				MatchedRule  string       `json:"matched_rule,omitempty"`
				MinApprovals int          `json:"min_approvals,omitempty"`
				IntentDigest string       `json:"intent_digest,omitempty"`
				PolicyDigest string       `json:"policy_digest"`
				ExitCode     int          `json:"exit_code"`
			}{true, d.Verdict, d.ReasonCodes, d.Violations, d.MatchedRule, d.MinApprovals, digest, p.Digest(), int(code)},
				kv("verdict", string(d.Verdict), "reason_codes", strings.Join(d.ReasonCodes, ","),
					"violations", strings.Join(d.Violations, ","), "matched_rule", d.MatchedRule, "exit_code", strconv.Itoa(int(code))))
			if code != exitcode.OK {
				return silent(code)
			}
			return nil
		},
	}
}

func newPolicySimulateCmd(a *app) *cobra.Command {
	var candidate, baseline, fixtures string
	cmd := &cobra.Command{
		Use:   "simulate --baseline B --policy P --fixtures DIR",
		Short: "Show which verdicts change between two policies",
		Long: `policy simulate evaluates every intent fixture (JSON files, or directories
walked for *.json; comma-separated) under the baseline and the candidate
policy and lists the decisions that change. A change that makes a verdict
less restrictive (for example block -> allow) is marked loosened. Exit 0 when
nothing changes, 2 when something does.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			base, err := gate.LoadPolicy(baseline)
			if err != nil {
				return err
			}
			cand, err := gate.LoadPolicy(candidate)
			if err != nil {
				return err
			}
			files, err := gate.ExpandFixtures(fixtures)
			if err != nil {
				return err
			}
			changes, err := gate.Simulate(base, cand, files)
			if err != nil {
				return err
			}
			var changed []gate.Change
			loosened := 0
			for _, c := range changes {
				if c.Changed {
					changed = append(changed, c)
					if c.Loosened {
						loosened++
					}
				}
			}
			text := kv("fixtures", strconv.Itoa(len(changes)), "changed", strconv.Itoa(len(changed)), "loosened", strconv.Itoa(loosened),
				"baseline_digest", base.Digest(), "policy_digest", cand.Digest())
			for _, c := range changed {
				text = append(text, field{"change", fmt.Sprintf("%s %s->%s rule=%s->%s", c.Fixture, c.BaselineVerdict, c.CandidateVerdict, orDash(c.BaselineRule), orDash(c.CandidateRule))})
			}
			a.emit(struct {
				OK             bool          `json:"ok"`
				BaselineDigest string        `json:"baseline_digest"`
				PolicyDigest   string        `json:"policy_digest"`
				Fixtures       int           `json:"fixtures"`
				Changed        int           `json:"changed"`
				Loosened       int           `json:"loosened"`
				Changes        []gate.Change `json:"changes"`
			}{len(changed) == 0, base.Digest(), cand.Digest(), len(changes), len(changed), loosened, nonNilChanges(changed)}, text)
			if len(changed) > 0 {
				return silent(exitcode.VerifyFailed)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&candidate, "policy", "", "candidate policy")
	f.StringVar(&baseline, "baseline", "", "baseline policy")
	f.StringVar(&fixtures, "fixtures", "", "intent fixture files or directories (comma-separated)")
	for _, n := range []string{"policy", "baseline", "fixtures"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func nonNilChanges(c []gate.Change) []gate.Change {
	if c == nil {
		return []gate.Change{}
	}
	return c
}
