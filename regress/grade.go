package regress

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gait-dev/gait/internal/capped"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
)

// ToolCall is a recorded tool call handed to a policy evaluator.
type ToolCall struct {
	ToolName string
	Args     json.RawMessage
}

// Verdict is a policy's decision on one tool call.
type Verdict struct {
	Verdict     string
	MatchedRule string
	ReasonCodes []string
}

// PolicyEvaluator re-evaluates recorded tool calls under a policy file.
type PolicyEvaluator interface {
	Evaluate(policyPath string, calls []ToolCall) ([]Verdict, error)
}

// grading is one fixture loaded for its graders: the expectations, the
// fixture's runpack, and the candidate run graded against them (the
// fixture's candidate_runpack, or its own runpack).
type grading struct {
	configDir string
	dir       string // the fixture's folder
	ref       FixtureRef
	fixture   *Fixture
	rp        *pack.Runpack
	// candidate is the run whose behaviour is graded; candidatePath is
	// its path relative to the config's directory, slash-separated.
	candidate     *pack.Runpack
	candidatePath string
	evaluator     PolicyEvaluator
	opts          *RunOptions
	// context is whether the context_conformance grader runs.
	context bool
	// notice says how the fixture was found, when not from the config's
	// folder.
	notice string
}

// loadGrading reads and checks everything one fixture needs. Every problem
// is invalid input: a fixture that cannot be read says nothing about
// behaviour, so it is never reported as a regression.
func loadGrading(configPath string, ref FixtureRef, opts *RunOptions) (*grading, error) {
	g := &grading{ref: ref, evaluator: opts.Evaluator, opts: opts}
	f, dir, err := g.loadFixture(configPath)
	if err != nil {
		return nil, err
	}
	g.fixture, g.dir = f, dir
	if err := g.open(configPath); err != nil {
		return nil, err
	}
	return g, nil
}

// open reads the runpacks of a grading whose fixture is loaded.
func (g *grading) open(configPath string) error {
	ref, f := g.ref, g.fixture
	dirRel := path.Dir(ref.Runpack)
	// Payloads are kept only for what hands them on: a policy the args, an
	// agent's replay the args and results (see Limits in docs/formats.md).
	read := pack.ReadOptions{Args: f.Policy != "" || g.opts.payloads, Results: g.opts.payloads}
	var err error
	if g.rp, err = openFixtureRunpack(configPath, ref.Name, filepath.Join(g.configDir, filepath.FromSlash(ref.Runpack)), read); err != nil {
		return err
	}
	g.candidate, g.candidatePath = g.rp, ref.Runpack
	if f.CandidateRunpack != "" {
		g.candidatePath = path.Join(dirRel, f.CandidateRunpack)
		if g.candidate, err = openFixtureRunpack(configPath, ref.Name, filepath.Join(g.dir, filepath.FromSlash(f.CandidateRunpack)), read); err != nil {
			return err
		}
	}
	return nil
}

// loadFixture finds and reads the fixture.json of g.ref, setting
// g.configDir (and g.notice when found from the working directory); it
// returns the fixture and its folder.
func (g *grading) loadFixture(configPath string) (*Fixture, string, error) {
	ref := g.ref
	configDir := filepath.Dir(configPath)
	g.configDir = configDir
	dirRel := path.Dir(ref.Runpack)
	dir := filepath.Join(configDir, filepath.FromSlash(dirRel))
	// The common case first: fixture.json is where the config says.
	if data, err := capped.ReadFile(filepath.Join(dir, FixtureFile), MaxFixtureSize); err == nil {
		f, err := parseFixture(filepath.Join(dir, FixtureFile), data)
		if err != nil {
			return nil, "", err
		}
		return g.checkFixture(configPath, dir, f)
	}
	if !isDir(dir) && configDir != "." && isDir(filepath.FromSlash(dirRel)) {
		// Gait v1 resolves fixture paths from the working directory.
		g.notice = fmt.Sprintf("%s: fixture %q: %s is not under the config's folder; using ./%s from the working directory, as Gait v1 does (move the config next to its fixtures)",
			configPath, ref.Name, ref.Runpack, dirRel)
		configDir, dir = ".", filepath.FromSlash(dirRel)
		g.configDir = configDir
	}
	if !isDir(dir) {
		return nil, "", exitcode.Invalidf("%s: fixture %q: folder %s does not exist; restore it or remove the fixture from the config", configPath, ref.Name, dir)
	}
	f, err := LoadFixture(filepath.Join(dir, FixtureFile))
	if err != nil {
		return nil, "", err
	}
	return g.checkFixture(configPath, dir, f)
}

// checkFixture checks the fixture f read from dir against g.ref.
func (g *grading) checkFixture(configPath, dir string, f *Fixture) (*Fixture, string, error) {
	ref := g.ref
	fixturePath := filepath.Join(dir, FixtureFile)
	switch {
	case f.Name != ref.Name:
		return nil, "", exitcode.Invalidf("%s: name %q disagrees with %s (fixture %q); make them the same", fixturePath, f.Name, configPath, ref.Name)
	case f.RunID != ref.RunID:
		return nil, "", exitcode.Invalidf("%s: run_id %q disagrees with %s (fixture %q has run_id %q); make them the same", fixturePath, f.RunID, configPath, ref.Name, ref.RunID)
	}
	if f.Policy != "" && f.ExpectedGateVerdicts == nil && len(f.ExpectedVerdictSequence) > 0 {
		// Gait fixtures made before expected_gate_verdicts kept the gate's
		// verdicts in expected_verdict_sequence: grade them as gate
		// verdicts, not as what the results recorded.
		f.ExpectedGateVerdicts, f.ExpectedVerdictSequence = f.ExpectedVerdictSequence, nil
		g.notice = fmt.Sprintf("%s: expected_verdict_sequence holds gate verdicts under %s; graded by the policy grader (re-create the fixture with `gait regress add --policy` to pin both)", fixturePath, f.Policy)
	}
	return f, dir, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// openFixtureRunpack opens and verifies a fixture's runpack; a missing,
// unreadable or tampered runpack is invalid input.
func openFixtureRunpack(configPath, name, p string, read pack.ReadOptions) (*pack.Runpack, error) {
	rp, err := pack.OpenWith(p, read)
	if err == nil {
		return rp, nil
	}
	if _, serr := os.Stat(p); serr != nil {
		if errors.Is(serr, os.ErrNotExist) {
			return nil, exitcode.Invalidf("%s: fixture %q: runpack %s is missing; restore it or re-create the fixture with `gait regress add`", configPath, name, p)
		}
		return nil, exitcode.Invalidf("%s: fixture %q: %v", configPath, name, serr)
	}
	msg := strings.TrimPrefix(oneLine(err.Error()), p+": ")
	return nil, exitcode.Invalidf("%s: fixture %q: runpack %s is unusable: %s; restore it or re-create the fixture with `gait regress add`", configPath, name, p, msg)
}

func pass(name string, codes ...string) GraderResult {
	if codes == nil {
		codes = []string{}
	}
	return GraderResult{Name: name, Status: StatusPass, ReasonCodes: codes}
}

func fail(name, code, msg string) GraderResult {
	return GraderResult{Name: name, Status: StatusFail, Message: oneLine(msg), ReasonCodes: []string{code}}
}

// details starts a v1 grader's details with the fixture and run id.
func (g *grading) details() map[string]any {
	return map[string]any{"fixture": g.ref.Name, "run_id": g.ref.RunID}
}

// grade runs every grader of the set on the fixture, in order.
func (g *grading) grade() FixtureResult {
	dir := path.Dir(g.ref.Runpack)
	res := FixtureResult{
		Name: g.ref.Name, RunID: g.ref.RunID, Status: StatusPass,
		FixtureFile: path.Join(dir, FixtureFile), Runpack: g.ref.Runpack,
		TicketFooter: pack.TicketFooterAt(g.rp.Manifest.RunID, g.rp.Manifest.ManifestDigest, g.ref.Runpack),
	}
	for _, gr := range Graders {
		if gr.Name == GraderContext && !g.context {
			continue
		}
		r := gr.grade(g)
		r.Name, r.Set = gr.Name, gr.Set
		if r.Status != StatusPass {
			res.Status = StatusFail
		}
		res.Graders = append(res.Graders, r)
	}
	return res
}

// mismatch is the first index where two sequences differ, or -1.
func mismatch(expected, actual []string) int {
	for i := range max(len(expected), len(actual)) {
		if i >= len(expected) || i >= len(actual) || expected[i] != actual[i] {
			return i
		}
	}
	return -1
}

// at is s[i], or "<missing>" past its end, as v1 reports a mismatch.
func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<missing>"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func numbered(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%d. %s", i+1, v)
	}
	return out
}

// sortedCopy is a sorted, never-nil copy of s.
func sortedCopy(s []string) []string {
	out := append([]string{}, s...)
	slices.Sort(out)
	return out
}
