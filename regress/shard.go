package regress

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gait-dev/gait/internal/exitcode"
)

// Shard selects part Index (from 1) of Count parts of a fixture set.
type Shard struct {
	Index, Count int
	// Timings are recorded seconds per fixture name (see ReadTimings);
	// with none every fixture weighs the same.
	Timings map[string]float64
	// Commit names the commit being graded (GITHUB_SHA in a workflow);
	// merge refuses shards of different commits.
	Commit string
}

// ShardInfo is what a shard's result document records under gait_shard:
// which part of which config at which commit it grades.
type ShardInfo struct {
	Index int `json:"index"`
	Count int `json:"count"`
	// ConfigDigest is sha256 over the config file and the grading flags.
	ConfigDigest  string `json:"config_digest"`
	Commit        string `json:"commit,omitempty"`
	FixturesTotal int    `json:"fixtures_total"`
	// Fixtures are the fixtures this shard was given, in name order, with
	// what the v1 graders of a passing fixture do not carry.
	Fixtures []ShardFixture `json:"fixtures"`
}

// ShardFixture is one fixture of a shard.
type ShardFixture struct {
	Name         string `json:"name"`
	FixtureFile  string `json:"fixture_file,omitempty"`
	TicketFooter string `json:"ticket_footer,omitempty"`
	// DurationMS is how long the fixture took to grade, for --timings of a
	// later run: the only value of the document that depends on the clock.
	DurationMS int64 `json:"duration_ms"`
}

// ParseShard reads "i/n" (1 ≤ i ≤ n); anything else is bad input whose
// message starts with "shard", for the caller to name its flag or input.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n || n > 4096 {
		return Shard{}, exitcode.Invalidf("shard %q: want i/n with 1 ≤ i ≤ n ≤ 4096, as in 2/4", s)
	}
	return Shard{Index: i, Count: n}, nil
}

// shardKey orders fixtures for assignment: by a hash of the name, so a new
// fixture lands at a random place and moves few others.
func shardKey(name string) uint64 {
	sum := sha256.Sum256([]byte(name))
	return binary.BigEndian.Uint64(sum[:8])
}

// AssignShards returns the shard (0-based) of each name for count shards.
// Names are ordered by a hash of the name and cut into count contiguous
// runs of about equal weight: a fixture belongs to the shard that holds
// the midpoint of its weight. Weights are timings[name] (seconds), or the
// median of the known timings for a name without one; with no timings,
// all weigh the same and shard sizes differ by at most one. The result
// depends only on the names, count and timings; adding a fixture moves at
// most one fixture across each of the count-1 cuts, and with timings a
// shard is off balance by at most one fixture's weight.
func AssignShards(names []string, count int, timings map[string]float64) []int {
	type item struct {
		i   int
		key uint64
		w   float64
	}
	known := make([]float64, 0, len(timings))
	for _, n := range names {
		if w, ok := timings[n]; ok && w > 0 && !math.IsInf(w, 0) {
			known = append(known, w)
		}
	}
	def := 1.0
	if len(known) > 0 {
		slices.Sort(known)
		def = known[len(known)/2]
	}
	items := make([]item, len(names))
	var total float64
	for i, n := range names {
		w, ok := timings[n]
		if !ok || w <= 0 || math.IsInf(w, 0) || math.IsNaN(w) {
			w = def
		}
		items[i] = item{i, shardKey(n), w}
		total += w
	}
	slices.SortFunc(items, func(a, b item) int {
		return cmp.Or(cmp.Compare(a.key, b.key), strings.Compare(names[a.i], names[b.i]))
	})
	out := make([]int, len(names))
	var sum float64
	for _, it := range items {
		s := int((sum + it.w/2) * float64(count) / total)
		out[it.i] = min(max(s, 0), count-1)
		sum += it.w
	}
	return out
}

// configDigest identifies what a shard grades: the config file's bytes and
// the flags that change grading.
func configDigest(configPath string, opts *RunOptions) (string, error) {
	data, err := os.ReadFile(configPath)
	if err != nil {
		return "", exitcode.Invalidf("%s: cannot read the config: %s", configPath, fileProblem(err))
	}
	h := sha256.New()
	h.Write(data)
	fmt.Fprintf(h, "\ncontext_conformance=%t allow_context_runtime_drift=%t\n", opts.ContextConformance, opts.AllowContextRuntimeDrift)
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// ReadTimings reads the grading durations that shard result documents
// (files or folders, see ResultFiles) recorded (gait_shard.durations_ms), in seconds per fixture. Documents
// without durations add none.
func ReadTimings(paths []string) (map[string]float64, error) {
	files, err := ResultFiles(paths)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, p := range files {
		rep, err := ReadResultFile(p)
		if err != nil {
			return nil, err
		}
		if rep.Shard == nil {
			continue
		}
		for _, f := range rep.Shard.Fixtures {
			out[f.Name] = float64(f.DurationMS) / 1000
		}
	}
	return out, nil
}

// shardPlan is what grading one shard needs from the whole set.
type shardPlan struct {
	info *ShardInfo
	// context is whether any fixture of the set requires context evidence
	// (that turns context_conformance on for every fixture).
	context bool
	// first is the set's first fixture, when another shard grades it: the
	// result's created_at is its runpack's.
	first *grading
}

// planShard picks opts.Shard's fixtures from refs (in name order).
func planShard(configPath string, refs []FixtureRef, opts *RunOptions) ([]FixtureRef, *shardPlan, error) {
	sh := opts.Shard
	digest, err := configDigest(configPath, opts)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.Name
	}
	assigned := AssignShards(names, sh.Count, sh.Timings)
	plan := &shardPlan{info: &ShardInfo{Index: sh.Index, Count: sh.Count, ConfigDigest: digest, Commit: sh.Commit,
		FixturesTotal: len(refs), Fixtures: []ShardFixture{}}}
	var mine, others []FixtureRef
	for i, r := range refs {
		if assigned[i] == sh.Index-1 {
			mine = append(mine, r)
		} else {
			others = append(others, r)
		}
	}
	if len(refs) > 0 && assigned[0] != sh.Index-1 {
		if plan.first, err = loadGrading(configPath, refs[0], opts); err != nil {
			return nil, nil, err
		}
	}
	// Only fixture.json is read here; a fixture that cannot be read is
	// reported by the shard that grades it.
	required := make([]bool, len(others))
	parallel(len(others), opts.Parallel, func(i int) {
		g := &grading{ref: others[i]}
		if f, _, err := g.loadFixture(configPath); err == nil {
			required[i] = f.ContextConformance == ContextRequired
		}
	})
	plan.context = slices.Contains(required, true)
	return mine, plan, nil
}

// recordShard lists the shard's fixtures, with their grading times, in
// its info.
func (r *Report) recordShard() {
	if r.Shard == nil {
		return
	}
	r.Shard.Fixtures = make([]ShardFixture, len(r.Fixtures))
	for i, f := range r.Fixtures {
		r.Shard.Fixtures[i] = f.shardFixture()
	}
}

// shardFixture is what a shard's document records of f.
func (f *FixtureResult) shardFixture() ShardFixture {
	return ShardFixture{Name: f.Name, FixtureFile: f.FixtureFile, TicketFooter: f.TicketFooter,
		DurationMS: max(f.Elapsed.Milliseconds(), 1)}
}

// addAgent folds the candidate agent's command into the config digest, so
// shards that ran different agents do not merge.
func (s *ShardInfo) addAgent(agent *AgentConfig) {
	if s == nil || agent == nil {
		return
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\nagent=%q %q %s %s %s %s\n", s.ConfigDigest, agent.Command, agent.Args, agent.Transport, agent.Timeout, agent.Match, agent.Trajectory)
	s.ConfigDigest = "sha256:" + hex.EncodeToString(h.Sum(nil))
}
