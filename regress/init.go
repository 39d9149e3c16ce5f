package regress

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gait-dev/gait/capture"
	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/job"
	"github.com/gait-dev/gait/pack"
)

// InitOptions describe a fixture to create from a source run.
type InitOptions struct {
	From       string // run id, runpack path, or anything ResolveSource understands
	Name       string // fixture name; the run id in lower case when empty
	Policy     string // optional policy file whose verdicts the fixture pins
	ConfigPath string // gait.yaml
	OutDir     string // where run ids resolve (gait-out)
	Evaluator  PolicyEvaluator
	// Checkpoint picks a session chain's checkpoint: "latest" (default) or
	// a 1-based index.
	Checkpoint string
}

// InitResult says what init did. The fields v1 prints (ok, fixture_name,
// fixture_dir, run_id, runpack_path, config_path, next_commands, source)
// keep v1's meaning; changed and replaced are Gait's.
type InitResult struct {
	OK           bool     `json:"ok"`
	FixtureName  string   `json:"fixture_name"`
	FixtureDir   string   `json:"fixture_dir"`
	RunID        string   `json:"run_id"`
	RunpackPath  string   `json:"runpack_path"`
	ConfigPath   string   `json:"config_path"`
	Source       string   `json:"source"`
	Changed      bool     `json:"changed"`
	Replaced     bool     `json:"replaced"` // an existing fixture of that name now holds the new run
	NextCommands []string `json:"next_commands"`
}

// FixtureName is the fixture name Gait v1 gives a run id: the id in lower
// case.
func FixtureName(runID string) string { return strings.ToLower(runID) }

// Init verifies the source runpack, copies it into fixtures/<name>/, writes
// fixture.json with the behaviour observed now, and lists the fixture in
// the config (creating it), as Gait v1 does. A fixture of the same name is
// replaced by the new run (v1's refresh workflow); adding the same runpack
// again changes nothing.
func Init(opts InitOptions) (InitResult, error) {
	src, err := readSource(opts)
	if err != nil {
		return InitResult{}, err
	}
	rp, err := pack.OpenBytesWith(src.name, src.data, pack.ReadOptions{Args: opts.Policy != ""})
	if err != nil {
		return InitResult{}, err
	}
	name := opts.Name
	if name == "" {
		name = FixtureName(rp.Manifest.RunID)
	}
	if !fixtureNamePattern().MatchString(name) {
		return InitResult{}, exitcode.Invalidf("fixture name %q is not a plain name; pass --name with letters, digits, '_', '-' or '.'", name)
	}
	configDir := filepath.Dir(opts.ConfigPath)
	cfg := &Config{SchemaID: SchemaConfig, SchemaVersion: SchemaVersion, FixtureSet: "default", Fixtures: []FixtureRef{}}
	if _, err := os.Stat(opts.ConfigPath); err == nil {
		if cfg, err = loadConfig(opts.ConfigPath); err != nil {
			return InitResult{}, err
		}
	}
	rel := "fixtures/" + name + "/runpack.zip"
	dir := filepath.Join(configDir, "fixtures", name)
	runpackPath := filepath.Join(dir, "runpack.zip")
	fixture := &Fixture{
		SchemaID: SchemaFixture, SchemaVersion: SchemaVersion, Name: name, RunID: rp.Manifest.RunID,
		Runpack: "runpack.zip", SessionChain: src.chain, CheckpointIndex: src.checkpoint,
		// v1 pins exit code 0: a run with an intent that has neither a
		// result nor a stub fails its own fixture until that is fixed.
		ExpectedReplayExitCode:  0,
		ExpectedToolSequence:    ToolSequence(rp),
		ExpectedVerdictSequence: VerdictSequence(rp),
		ExpectedResultDigests:   replayDigests(pack.Replay(rp)),
	}
	if d := rp.Refs.ContextSetDigest; d != "" {
		fixture.ContextConformance, fixture.ExpectedContextSetDigest = ContextRequired, d
	}
	if opts.Policy != "" {
		if fixture.Policy, err = policyRelative(opts.Policy, configDir, dir); err != nil {
			return InitResult{}, err
		}
		g := &grading{configDir: configDir, ref: FixtureRef{Name: name, Runpack: rel}, fixture: fixture, rp: rp, candidate: rp, evaluator: opts.Evaluator}
		if fixture.ExpectedGateVerdicts, _, err = g.gateVerdicts(); err != nil {
			return InitResult{}, exitcode.Invalidf("%s: %v", opts.Policy, err)
		}
	}

	res := InitResult{OK: true, FixtureName: name, FixtureDir: filepath.ToSlash(dir), RunID: rp.Manifest.RunID,
		RunpackPath: filepath.ToSlash(runpackPath), ConfigPath: opts.ConfigPath, Source: opts.From}
	res.NextCommands = []string{"gait regress run --json"}
	if opts.ConfigPath != DefaultConfig {
		res.NextCommands = []string{"gait regress run --config " + opts.ConfigPath + " --json"}
	}
	idx := slices.IndexFunc(cfg.Fixtures, func(f FixtureRef) bool { return f.Name == name })
	if idx >= 0 {
		if existing, err := os.ReadFile(runpackPath); err == nil && !bytes.Equal(existing, src.data) {
			res.Replaced = true
		}
	}
	changed, err := writeIfDifferent(runpackPath, src.data)
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
	entry := FixtureRef{Name: name, RunID: rp.Manifest.RunID, Runpack: rel}
	_, statErr := os.Stat(opts.ConfigPath)
	switch {
	case idx < 0:
		cfg.Fixtures = append(cfg.Fixtures, entry)
	case cfg.Fixtures[idx] != entry:
		cfg.Fixtures[idx] = entry
	case statErr == nil:
		return res, nil
	}
	if err := cfg.Save(opts.ConfigPath); err != nil {
		return InitResult{}, err
	}
	res.Changed = true
	return res, nil
}

// source is the runpack behind --from, and the session chain checkpoint it
// came from, if any.
type source struct {
	data       []byte
	name       string
	chain      string
	checkpoint int
}

// readSource returns the runpack bytes behind From: a session chain's
// checkpoint (a .json chain file), the runpack inside a run or job pack, or
// a runpack given by path or run id.
func readSource(opts InitOptions) (source, error) {
	var path string
	var src source
	if isCaptureReceipt(opts.From) {
		// A receipt names exactly the runpack (and checkpoint) it pinned.
		t, err := capture.Resolve(opts.From, opts.Checkpoint, opts.OutDir)
		if err != nil {
			return src, err
		}
		if t.ArtifactType != capture.ArtifactRunpack {
			return src, exitcode.Invalidf("%s: the receipt captures a %s, not a run; capture a runpack or a session chain to make a fixture", opts.From, t.ArtifactType)
		}
		path = t.Path
		if t.ChainPath != "" {
			src.chain, src.checkpoint = filepath.ToSlash(t.ChainPath), int(t.CheckpointIndex)
		}
	} else if strings.HasSuffix(opts.From, ".json") {
		p, err := job.RunpackFromChain(opts.From, opts.Checkpoint)
		if err != nil {
			return src, err
		}
		path, src.chain = p, filepath.ToSlash(opts.From)
		if c, err := job.ReadChain(opts.From); err == nil {
			src.checkpoint = len(c.Checkpoints)
			if n, err := strconv.Atoi(strings.TrimPrefix(opts.Checkpoint, "cp_")); err == nil {
				src.checkpoint = n
			}
		}
	} else {
		path = pack.Resolve(opts.From, opts.OutDir)
		if pack.IsPack(path) {
			data, err := pack.RunpackFromPack(path)
			return source{data: data, name: path}, err
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return src, exitcode.Invalidf("%s: no such runpack; pass a path or a run id with a runpack in ./%s", path, opts.OutDir)
		}
		return src, exitcode.Invalidf("%s: %v", path, err)
	}
	src.data, src.name = data, path
	return src, nil
}

// isCaptureReceipt reports whether path is a `gait capture` receipt.
func isCaptureReceipt(path string) bool {
	if !strings.HasSuffix(path, ".json") {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20)) // receipts are small; a chain is told apart by its head
	if err != nil {
		return false
	}
	var head struct {
		SchemaID string `json:"schema_id"`
	}
	return json.Unmarshal(data, &head) == nil && head.SchemaID == capture.SchemaReceipt
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
