package regress

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/job"
	"github.com/gait-dev/gait/pack"
)

// InitOptions describe a fixture to create from a source run.
type InitOptions struct {
	From       string // run id, runpack path, or anything ResolveSource understands
	Name       string // fixture name; the run id when empty
	Policy     string // optional policy file whose verdicts the fixture pins
	ConfigPath string // gait.yaml
	OutDir     string // where run ids resolve (gait-out)
	Evaluator  PolicyEvaluator
	// Checkpoint picks a session chain's checkpoint: "latest" (default) or
	// a 1-based index.
	Checkpoint string
}

// InitResult says what init did.
type InitResult struct {
	OK          bool   `json:"ok"`
	FixtureName string `json:"fixture_name"`
	FixtureDir  string `json:"fixture_dir"`
	RunID       string `json:"run_id"`
	RunpackPath string `json:"runpack_path"`
	ConfigPath  string `json:"config_path"`
	Changed     bool   `json:"changed"`
}

// Init verifies the source runpack, copies it into fixtures/<name>/, writes
// fixture.json with the behaviour observed now, and adds the fixture to the
// config (creating it). Adding the same runpack again changes nothing.
func Init(opts InitOptions) (InitResult, error) {
	data, srcName, err := readSource(opts)
	if err != nil {
		return InitResult{}, err
	}
	rp, err := pack.OpenBytes(srcName, data)
	if err != nil {
		return InitResult{}, err
	}
	name := opts.Name
	if name == "" {
		name = rp.Manifest.RunID
	}
	if !fixtureNamePattern.MatchString(name) {
		return InitResult{}, exitcode.Invalidf("fixture name %q is not a plain name; pass --name with letters, digits, '_', '-' or '.'", name)
	}
	configDir := filepath.Dir(opts.ConfigPath)
	cfg := &Config{SchemaID: SchemaConfig, SchemaVersion: SchemaVersion, FixtureSet: "default", Fixtures: []FixtureRef{}}
	if _, err := os.Stat(opts.ConfigPath); err == nil {
		if cfg, err = LoadConfig(opts.ConfigPath); err != nil {
			return InitResult{}, err
		}
	}
	rel := "fixtures/" + name + "/runpack.zip"
	dir := filepath.Join(configDir, "fixtures", name)
	runpackPath := filepath.Join(dir, "runpack.zip")
	fixture := &Fixture{
		SchemaID: SchemaFixture, SchemaVersion: SchemaVersion, Name: name, RunID: rp.Manifest.RunID,
		Runpack: "runpack.zip", ExpectedToolSequence: nonNil(rp.ToolSequence()),
	}
	if opts.Policy != "" {
		if fixture.Policy, err = policyRelative(opts.Policy, configDir, dir); err != nil {
			return InitResult{}, err
		}
	}
	rep := pack.Replay(rp)
	fixture.ExpectedReplayExitCode = rep.ExitCode
	fixture.ExpectedResultDigests = replayDigests(rep)
	g := &grading{configDir: configDir, ref: FixtureRef{Name: name, Runpack: rel}, fixture: fixture, rp: rp, evaluator: opts.Evaluator}
	verdicts, _, err := g.actualVerdicts()
	if err != nil {
		return InitResult{}, exitcode.Invalidf("%s: %v", opts.Policy, err)
	}
	fixture.ExpectedVerdictSequence = nonNil(verdicts)

	res := InitResult{OK: true, FixtureName: name, FixtureDir: filepath.ToSlash(dir), RunID: rp.Manifest.RunID, RunpackPath: filepath.ToSlash(runpackPath), ConfigPath: opts.ConfigPath}
	idx := slices.IndexFunc(cfg.Fixtures, func(f FixtureRef) bool { return f.Name == name })
	if idx >= 0 {
		existing, err := os.ReadFile(runpackPath)
		if err == nil && !bytes.Equal(existing, data) {
			return InitResult{}, exitcode.Invalidf("fixture %q already exists with a different runpack; pass --name to add it under another name", name)
		}
	}
	changed, err := writeIfDifferent(runpackPath, data)
	if err != nil {
		return InitResult{}, err
	}
	fixtureBytes, err := encodeIndented(fixture)
	if err != nil {
		return InitResult{}, err
	}
	fchanged, err := writeIfDifferent(filepath.Join(dir, FixtureFile), fixtureBytes)
	if err != nil {
		return InitResult{}, err
	}
	res.Changed = changed || fchanged
	if idx < 0 {
		cfg.Fixtures = append(cfg.Fixtures, FixtureRef{Name: name, RunID: rp.Manifest.RunID, Runpack: rel})
		if err := cfg.Save(opts.ConfigPath); err != nil {
			return InitResult{}, err
		}
		res.Changed = true
	} else if _, err := os.Stat(opts.ConfigPath); err != nil {
		if err := cfg.Save(opts.ConfigPath); err != nil {
			return InitResult{}, err
		}
	}
	return res, nil
}

// readSource returns the runpack bytes behind From: a session chain's
// checkpoint (a .json chain file), the runpack inside a run or job pack, or
// a runpack given by path or run id.
func readSource(opts InitOptions) ([]byte, string, error) {
	var path string
	if strings.HasSuffix(opts.From, ".json") {
		p, err := job.RunpackFromChain(opts.From, opts.Checkpoint)
		if err != nil {
			return nil, "", err
		}
		path = p
	} else {
		path = pack.Resolve(opts.From, opts.OutDir)
		if pack.IsPack(path) {
			data, err := pack.RunpackFromPack(path)
			return data, path, err
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", exitcode.Invalidf("%s: no such runpack; pass a path or a run id with a runpack in ./%s", path, opts.OutDir)
		}
		return nil, "", exitcode.Invalidf("%s: %v", path, err)
	}
	return data, path, nil
}

// policyRelative stores a policy path relative to the fixture folder and
// refuses policies outside the config's directory.
func policyRelative(policy, configDir, fixtureDir string) (string, error) {
	if _, err := os.Stat(policy); err != nil {
		return "", exitcode.Invalidf("%s: cannot read policy; pass --policy with an existing file", policy)
	}
	absPolicy, _ := filepath.Abs(policy)
	absConfig, _ := filepath.Abs(configDir)
	if rel, err := filepath.Rel(absConfig, absPolicy); err != nil || !filepath.IsLocal(rel) {
		return "", exitcode.Invalidf("%s: policy is outside the directory of the regress config; keep it in the repository", policy)
	}
	absFixture, _ := filepath.Abs(fixtureDir)
	rel, err := filepath.Rel(absFixture, absPolicy)
	if err != nil {
		return "", exitcode.Invalidf("%s: %v", policy, err)
	}
	return filepath.ToSlash(rel), nil
}

func encodeIndented(f *Fixture) ([]byte, error) {
	var buf bytes.Buffer
	if err := f.encode(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeIfDifferent writes data atomically unless path already holds it.
func writeIfDifferent(path string, data []byte) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	return true, nil
}
