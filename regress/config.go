// Package regress turns runpacks into CI regression fixtures and grades
// them: gait.yaml lists fixtures; each fixture folder holds the runpack and
// fixture.json with the behaviour observed when it was made; Run replays
// every fixture with stubbed tools and reports which graders fail.
package regress

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/capped"
	"github.com/gait-dev/gait/internal/exitcode"
)

// Schema ids of the regress documents.
const (
	SchemaConfig  = "gait.regress.config"
	SchemaFixture = "gait.regress.fixture"
	SchemaResult  = "gait.regress.result"
	SchemaVersion = "1.0.0"
)

// DefaultConfig is the config file name, relative to the working directory.
const DefaultConfig = "gait.yaml"

// Config is gait.yaml.
type Config struct {
	SchemaID      string       `json:"schema_id" yaml:"schema_id"`
	SchemaVersion string       `json:"schema_version" yaml:"schema_version"`
	FixtureSet    string       `json:"fixture_set" yaml:"fixture_set"`
	Fixtures      []FixtureRef `json:"fixtures" yaml:"fixtures"`
	// Agent, when set, runs a candidate agent against each fixture's
	// recorded tools (see AgentConfig). Gait v1 configs have none.
	Agent *AgentConfig `json:"agent,omitempty" yaml:"agent,omitempty"`
}

// FixtureRef is one fixture entry in gait.yaml. Runpack is relative to the
// config file's directory.
type FixtureRef struct {
	Name    string `json:"name" yaml:"name"`
	RunID   string `json:"run_id" yaml:"run_id"`
	Runpack string `json:"runpack" yaml:"runpack"`
}

// fixtureNamePattern is compiled on first use, not when gait starts.
var fixtureNamePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`) })

// LoadConfig reads and checks a config. Every problem is bad input (exit 6)
// naming the file and what to fix: an unknown key (a typo such as
// `fixture:` would otherwise test nothing), no fixtures, an unknown major
// version.
func LoadConfig(path string) (*Config, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	if len(cfg.Fixtures) == 0 {
		return nil, exitcode.Invalidf("%s: no fixtures; add one with `gait regress add --from <run_id|runpack.zip>`", path)
	}
	return cfg, nil
}

// MaxConfigSize bounds a regress config (gait.yaml): over 10,000 fixtures.
const MaxConfigSize = 2 << 20

// loadConfig is LoadConfig without the fixture count check, for init to
// extend a config that has none yet.
func loadConfig(path string) (*Config, error) {
	data, err := capped.ReadFile(path, MaxConfigSize)
	if err != nil {
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil, exitcode.Invalidf("%s: no regress config; create one with `gait regress init --from <run_id|runpack.zip>` (no run yet? record one first with `gait demo`)", path)
		case errors.Is(err, capped.ErrTooLarge):
			return nil, exitcode.Invalidf("%s: %v; a config lists fixtures, split it into several (see Limits in docs/formats.md)", path, err)
		}
		return nil, exitcode.Invalidf("%s: %v", path, err)
	}
	var cfg Config
	// gait writes the config as JSON (which is YAML); read that with the
	// JSON decoder and anything else with a YAML parser.
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed) {
		if err := decodeStrict(trimmed, &cfg); err != nil {
			return nil, exitcode.Invalidf("%s: %v", path, err)
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return nil, exitcode.Invalidf("%s: %s", path, yamlProblem(err))
		}
	}
	if cfg.FixtureSet == "" {
		cfg.FixtureSet = "default"
	}
	return &cfg, cfg.check(path)
}

// yamlProblem words a YAML decoding error, naming an unknown key.
func yamlProblem(err error) string {
	msg := oneLine(err.Error())
	if m := unknownYAMLKey().FindStringSubmatch(msg); m != nil {
		return unknownKey(m[2], " (line "+m[1]+")").Error()
	}
	return "malformed config: " + msg + "; fix the YAML"
}

var unknownYAMLKey = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`line (\d+): field (\S+) not found`) })

func (c *Config) check(path string) error {
	if c.SchemaID != "" && c.SchemaID != SchemaConfig {
		return exitcode.Invalidf("%s: schema_id %q, want %q", path, c.SchemaID, SchemaConfig)
	}
	if major, _, _ := strings.Cut(c.SchemaVersion, "."); c.SchemaVersion != "" && major != "1" {
		return exitcode.Invalidf("%s: schema_version %q has an unknown major version (this gait reads 1.x)", path, c.SchemaVersion)
	}
	seen := map[string]bool{}
	for i, f := range c.Fixtures {
		switch {
		case !fixtureNamePattern().MatchString(f.Name):
			return exitcode.Invalidf("%s: fixtures[%d]: name %q is not a plain name (letters, digits, '_', '-', '.')", path, i, f.Name)
		case seen[f.Name]:
			return exitcode.Invalidf("%s: fixture name %q appears twice; names must be unique", path, f.Name)
		case f.Runpack == "":
			return exitcode.Invalidf("%s: fixture %q has no runpack path", path, f.Name)
		case !localPath(f.Runpack):
			return exitcode.Invalidf("%s: fixture %q: runpack path %q escapes the config directory; keep fixtures inside the repository", path, f.Name, f.Runpack)
		}
		seen[f.Name] = true
	}
	if c.Agent != nil {
		if err := c.Agent.Check(); err != nil {
			return exitcode.Invalidf("%s: agent: %v", path, err)
		}
	}
	return nil
}

// localPath reports whether p is a relative path that stays inside its base.
func localPath(p string) bool {
	return !strings.Contains(p, `\`) && filepath.IsLocal(filepath.FromSlash(p))
}

// Save writes the config atomically, fixtures sorted by name as v1 keeps
// them. A new config, or one gait wrote, is indented JSON (valid YAML, and
// the layout Gait v1 writes); a hand-written YAML config stays YAML: its
// node tree is edited in place, so its comments, key order and other keys
// are kept.
func (c *Config) Save(path string) error {
	slices.SortStableFunc(c.Fixtures, func(a, b FixtureRef) int { return strings.Compare(a.Name, b.Name) })
	if old, err := os.ReadFile(path); err == nil && !isJSONDocument(old) {
		data, err := c.editYAML(old)
		if err != nil {
			return exitcode.Invalidf("%s: %v; fix the YAML", path, err)
		}
		return atomicfile.WriteFile(path, data, 0o644)
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o644)
}

// isJSONDocument reports whether data is a JSON object, the form gait writes.
func isJSONDocument(data []byte) bool {
	trimmed := bytes.TrimSpace(data)
	return len(trimmed) == 0 || trimmed[0] == '{' && json.Valid(trimmed)
}

// editYAML returns the YAML document old with c's top-level fields and
// fixtures written into its node tree. Fixture entries that stay keep
// their nodes (and comments); new ones are added in name order.
func (c *Config) editYAML(old []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(old, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("the config is not a YAML mapping")
	}
	root := doc.Content[0]
	// Top-level keys the file leaves out keep their defaults unwritten.
	for _, kv := range [][2]string{{"schema_id", c.SchemaID}, {"schema_version", c.SchemaVersion}, {"fixture_set", c.FixtureSet}} {
		if mappingValue(root, kv[0]) != nil {
			setScalar(root, kv[0], kv[1])
		}
	}
	seq := mappingValue(root, "fixtures")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		fresh := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if seq == nil {
			root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "fixtures"}, fresh)
		} else {
			*seq = *fresh
		}
		seq = mappingValue(root, "fixtures")
	}
	byName := map[string]*yaml.Node{}
	for _, item := range seq.Content {
		if name := mappingValue(item, "name"); name != nil {
			byName[name.Value] = item
		}
	}
	items := make([]*yaml.Node, 0, len(c.Fixtures))
	for _, f := range c.Fixtures {
		item := byName[f.Name]
		if item == nil {
			item = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		}
		setScalar(item, "name", f.Name)
		setScalar(item, "run_id", f.RunID)
		setScalar(item, "runpack", f.Runpack)
		items = append(items, item)
	}
	if len(seq.Content) == 0 {
		seq.Style = 0 // `fixtures: []` becomes a block list
	}
	seq.Content = items
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// mappingValue is the value node of key in mapping m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// setScalar sets key in mapping m to the string value, keeping the node
// (and its comments) when it exists; an empty value adds nothing.
func setScalar(m *yaml.Node, key, value string) {
	if v := mappingValue(m, key); v != nil {
		if v.Kind != yaml.ScalarNode || v.Value != value {
			v.Kind, v.Tag, v.Value, v.Content, v.Style = yaml.ScalarNode, "!!str", value, nil, 0
		}
		return
	}
	if value == "" {
		return
	}
	m.Content = append(m.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value})
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
