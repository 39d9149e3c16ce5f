package regress

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gait-dev/gait/internal/capped"
	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
)

// FixtureFile is the name of a fixture's expectation file.
const FixtureFile = "fixture.json"

// Context conformance settings of a fixture.
const (
	ContextRequired = "required"
	ContextNone     = "none"
)

// Fixture is fixture.json: what the run did when the fixture was made.
// The fields up to ExpectedContextSetDigest are Gait v1's, with v1's
// meaning; Policy, ExpectedGateVerdicts and ExpectedResultDigests are
// Gait's own and optional.
type Fixture struct {
	SchemaID                 string   `json:"schema_id,omitempty"`
	SchemaVersion            string   `json:"schema_version,omitempty"`
	Name                     string   `json:"name"`
	RunID                    string   `json:"run_id"`
	Runpack                  string   `json:"runpack"`
	CandidateRunpack         string   `json:"candidate_runpack,omitempty"`
	ExpectedReplayExitCode   int      `json:"expected_replay_exit_code"`
	ExpectedToolSequence     []string `json:"expected_tool_sequence,omitempty"`
	ExpectedVerdictSequence  []string `json:"expected_verdict_sequence,omitempty"`
	SessionChain             string   `json:"session_chain,omitempty"`
	CheckpointIndex          int      `json:"checkpoint_index,omitempty"`
	DiffAllowChangedFiles    []string `json:"diff_allow_changed_files,omitempty"`
	ContextConformance       string   `json:"context_conformance,omitempty"`
	AllowContextRuntimeDrift bool     `json:"allow_context_runtime_drift,omitempty"`
	ExpectedContextSetDigest string   `json:"expected_context_set_digest,omitempty"`

	// Policy is a policy file, relative to the fixture folder, under which
	// the policy grader re-evaluates every recorded call.
	Policy string `json:"policy,omitempty"`
	// ExpectedGateVerdicts are the gate's verdicts under Policy when the
	// fixture was made, one per intent. They are kept apart from
	// ExpectedVerdictSequence (what the run's results say happened), so a
	// tool that errored is never read as a policy change.
	ExpectedGateVerdicts []string `json:"expected_gate_verdicts,omitempty"`
	// ExpectedResultDigests pin each step's replayed status and result.
	ExpectedResultDigests []string `json:"expected_result_digests,omitempty"`
}

// MaxFixtureSize bounds a fixture.json: the expectations of a run of
// pack.MaxRecords steps.
const MaxFixtureSize = 8 << 20

// LoadFixture reads and checks a fixture.json. Every problem is invalid
// input (exit 6): a fixture that cannot be read says nothing about the
// behaviour it pins.
func LoadFixture(path string) (*Fixture, error) {
	data, err := capped.ReadFile(path, MaxFixtureSize)
	if err != nil {
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil, exitcode.Invalidf("%s is missing; recreate the fixture with `gait regress add --from <runpack>`", path)
		case errors.Is(err, capped.ErrTooLarge):
			return nil, exitcode.Invalidf("%s: %v; gait reads fixtures of up to %d steps (see Limits in docs/formats.md)", path, err, pack.MaxRecords)
		}
		return nil, exitcode.Invalidf("%s: %v", path, err)
	}
	return parseFixture(path, data)
}

// parseFixture decodes and checks the bytes of the fixture.json at path.
func parseFixture(path string, data []byte) (*Fixture, error) {
	var f Fixture
	if err := decodeStrict(data, &f); err != nil {
		return nil, exitcode.Invalidf("%s: %v", path, err)
	}
	if err := f.check(); err != nil {
		return nil, exitcode.Invalidf("%s: %v", path, err)
	}
	return &f, nil
}

// decodeStrict decodes one JSON object and names the first unknown key.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if key, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return unknownKey(strings.Trim(key, `"`), "")
		}
		return fmt.Errorf("malformed JSON: %w; fix the file", err)
	}
	if dec.More() {
		return errors.New("malformed JSON: more than one value; fix the file")
	}
	return nil
}

func (f *Fixture) check() error {
	if f.SchemaID != "" && f.SchemaID != SchemaFixture {
		return fmt.Errorf("schema_id %q, want %q", f.SchemaID, SchemaFixture)
	}
	if major, _, _ := strings.Cut(f.SchemaVersion, "."); f.SchemaVersion != "" && major != "1" {
		return fmt.Errorf("schema_version %q has an unknown major version (this gait reads 1.x)", f.SchemaVersion)
	}
	if f.ExpectedReplayExitCode < 0 {
		return fmt.Errorf("expected_replay_exit_code %d must be 0 or more", f.ExpectedReplayExitCode)
	}
	if f.CheckpointIndex < 0 {
		return fmt.Errorf("checkpoint_index %d must be 0 or more", f.CheckpointIndex)
	}
	for _, v := range f.ExpectedVerdictSequence {
		if _, ok := NormalizeVerdict(v); !ok && strings.TrimSpace(v) != "" {
			return fmt.Errorf("expected_verdict_sequence: %q is not a verdict; use allow, block, require_approval, dry_run or error", v)
		}
	}
	for _, v := range f.ExpectedGateVerdicts {
		if _, ok := NormalizeVerdict(v); !ok {
			return fmt.Errorf("expected_gate_verdicts: %q is not a verdict; use allow, block, require_approval or dry_run", v)
		}
	}
	switch f.ContextConformance {
	case "", ContextRequired, ContextNone:
	default:
		return fmt.Errorf("context_conformance %q must be required or none", f.ContextConformance)
	}
	if f.ExpectedContextSetDigest != "" && !digest.Valid(f.ExpectedContextSetDigest) {
		return fmt.Errorf("expected_context_set_digest %q is not hex sha256", f.ExpectedContextSetDigest)
	}
	for _, p := range append([]string{f.CandidateRunpack}, f.DiffAllowChangedFiles...) {
		if p != "" && !localPath(p) {
			return fmt.Errorf("path %q must be relative to the fixture folder and stay inside it", p)
		}
	}
	if f.Policy != "" && !localPath(f.Policy) && !strings.HasPrefix(f.Policy, "../") {
		return fmt.Errorf("policy path %q must be relative", f.Policy)
	}
	return nil
}

// expectedTools is the expected tool sequence, trimmed, empty names dropped.
func (f *Fixture) expectedTools() []string { return cleanTools(f.ExpectedToolSequence) }

// expectedVerdicts is the expected verdict sequence, normalized, empty
// entries dropped.
func (f *Fixture) expectedVerdicts() []string {
	out := make([]string, 0, len(f.ExpectedVerdictSequence))
	for _, v := range f.ExpectedVerdictSequence {
		if n, ok := NormalizeVerdict(v); ok {
			out = append(out, n)
		}
	}
	return out
}

// encode writes fixture.json's bytes, indented as Gait v1 writes it.
func (f *Fixture) encode(w io.Writer) error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// knownKeys are the keys of Gait's regress formats, for spelling hints.
var knownKeys = []string{
	"schema_id", "schema_version", "fixture_set", "fixtures", "agent", "name", "run_id", "runpack",
	"candidate_runpack", "session_chain", "checkpoint_index", "expected_replay_exit_code",
	"expected_tool_sequence", "expected_verdict_sequence", "diff_allow_changed_files", "context_conformance",
	"allow_context_runtime_drift", "expected_context_set_digest", "policy", "expected_gate_verdicts",
	"expected_result_digests", "command", "args", "env", "transport", "timeout", "match", "trajectory",
}

// unknownKey is the error for a key a regress format does not have, with
// the known key it most likely meant.
func unknownKey(key, where string) error {
	hint := "remove it or fix its spelling (see docs/regress.md)"
	best, bestDist := "", 3
	for _, k := range knownKeys {
		if d := editDistance(key, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		hint = fmt.Sprintf("did you mean %q?", best)
	}
	return fmt.Errorf("unknown key %q%s; %s", key, where, hint)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
