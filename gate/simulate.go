package gate

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gait-dev/gait/internal/exitcode"
)

// Change compares two policies' decisions for one intent fixture.
type Change struct {
	Fixture          string   `json:"fixture"`
	ToolName         string   `json:"tool_name,omitempty"`
	BaselineVerdict  Verdict  `json:"baseline_verdict"`
	CandidateVerdict Verdict  `json:"candidate_verdict"`
	BaselineRule     string   `json:"baseline_rule,omitempty"`
	CandidateRule    string   `json:"candidate_rule,omitempty"`
	BaselineReasons  []string `json:"baseline_reason_codes"`
	CandidateReasons []string `json:"candidate_reason_codes"`
	Changed          bool     `json:"changed"`
	// Loosened is true when the candidate is less restrictive than the
	// baseline (for example block → allow): the change a reviewer must see.
	Loosened bool `json:"loosened,omitempty"`
}

// ExpandFixtures turns comma-separated files and directories into a
// sorted list of .json files (directories are walked).
func ExpandFixtures(spec string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		st, err := os.Stat(part)
		if err != nil {
			return nil, exitcode.Invalidf("%s: cannot read fixtures: no such file or directory; pass intent JSON files or directories with --fixtures", part)
		}
		if !st.IsDir() {
			out = append(out, part)
			continue
		}
		err = filepath.WalkDir(part, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(p, ".json") {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, exitcode.Invalidf("%s: cannot walk fixtures: %v; check the directory", part, err)
		}
	}
	if len(out) == 0 {
		return nil, exitcode.Invalidf("no intent fixtures found in %q; pass JSON intent files or directories with --fixtures", spec)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Simulate evaluates every fixture under the baseline and the candidate
// policy and reports each pair of decisions. Fixtures that are not intent
// requests are user errors.
func Simulate(baseline, candidate *Policy, fixtures []string) ([]Change, error) {
	out := make([]Change, 0, len(fixtures))
	for _, f := range fixtures {
		req, err := LoadIntent(f, ProfileStandard)
		if err != nil {
			return nil, err
		}
		in, nerr := Normalize(req)
		b, c := decideOrFail(baseline, in, req, nerr), decideOrFail(candidate, in, req, nerr)
		if b.Verdict == "" || c.Verdict == "" {
			return nil, exitcode.Invalidf("%s: %v; fix the intent fixture", f, IntentProblem(nerr))
		}
		ch := Change{
			Fixture: f, ToolName: req.ToolName, BaselineVerdict: b.Verdict, CandidateVerdict: c.Verdict,
			BaselineRule: b.MatchedRule, CandidateRule: c.MatchedRule,
			BaselineReasons: nonNil(b.ReasonCodes), CandidateReasons: nonNil(c.ReasonCodes),
		}
		ch.Changed = b.Verdict != c.Verdict || b.MatchedRule != c.MatchedRule || !slices.Equal(b.ReasonCodes, c.ReasonCodes)
		ch.Loosened = c.Verdict.rank() < b.Verdict.rank()
		out = append(out, ch)
	}
	return out, nil
}

func decideOrFail(p *Policy, in *Intent, req IntentRequest, nerr error) Decision {
	if nerr == nil {
		return p.Evaluate(in)
	}
	d, _ := p.InvalidIntentDecision(req.Context.RiskClass)
	return d
}
