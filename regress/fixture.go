package regress

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gait-dev/gait/internal/exitcode"
)

// FixtureFile is the name of a fixture's expectation file.
const FixtureFile = "fixture.json"

// Fixture is fixture.json: what the run did when the fixture was made.
// Policy and ExpectedResultDigests are optional: fixtures without them skip
// the policy re-evaluation and pin results through the runpack digests.
type Fixture struct {
	SchemaID                string   `json:"schema_id"`
	SchemaVersion           string   `json:"schema_version"`
	Name                    string   `json:"name"`
	RunID                   string   `json:"run_id"`
	Runpack                 string   `json:"runpack"`
	Policy                  string   `json:"policy,omitempty"`
	ExpectedReplayExitCode  int      `json:"expected_replay_exit_code"`
	ExpectedToolSequence    []string `json:"expected_tool_sequence"`
	ExpectedVerdictSequence []string `json:"expected_verdict_sequence"`
	ExpectedResultDigests   []string `json:"expected_result_digests,omitempty"`
}

// LoadFixture reads a fixture.json.
func LoadFixture(path string) (*Fixture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s is missing; recreate the fixture with `gait regress add --from <runpack>`", path)
		}
		return nil, err
	}
	var f Fixture
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: malformed JSON: %w", path, err)
	}
	if f.SchemaID != SchemaFixture {
		return nil, fmt.Errorf("%s: schema_id %q, want %q", path, f.SchemaID, SchemaFixture)
	}
	if major, _, _ := strings.Cut(f.SchemaVersion, "."); major != "1" {
		return nil, exitcode.Invalidf("%s: schema_version %q has an unknown major version", path, f.SchemaVersion)
	}
	if f.Policy != "" && !localPath(f.Policy) && !strings.HasPrefix(f.Policy, "../") {
		return nil, fmt.Errorf("%s: policy path %q must be relative", path, f.Policy)
	}
	return &f, nil
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
