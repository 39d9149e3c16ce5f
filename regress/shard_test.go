package regress_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/pack/packtest"
	"github.com/gait-dev/gait/regress"
	"github.com/gait-dev/gait/report"
)

// shardRepo makes a config with n fixtures, every third of them failing.
func shardRepo(t *testing.T, rng *rand.Rand, n int) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.zip")
	packtest.Write(t, src, nil)
	cfg := filepath.Join(dir, regress.DefaultConfig)
	for i := range n {
		name := fmt.Sprintf("f%03d_%d", rng.IntN(1000), i)
		if _, err := regress.Init(regress.InitOptions{From: src, Name: name, ConfigPath: cfg, OutDir: dir}); err != nil {
			t.Fatal(err)
		}
		if i%3 == 1 {
			packtest.Write(t, filepath.Join(dir, "fixtures", name, "runpack.zip"), func(r *pack.RunRecord) { r.Intents[1].ToolName = "tool.delete" })
		}
	}
	return cfg
}

// requireContext sets context_conformance: required on the config's last
// fixture.
func requireContext(t *testing.T, cfg string) {
	t.Helper()
	c, err := regress.LoadConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(filepath.Dir(cfg), "fixtures", c.Fixtures[len(c.Fixtures)-1].Name, regress.FixtureFile)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	f["context_conformance"] = regress.ContextRequired
	if data, err = json.Marshal(f); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func outputs(t *testing.T, rep *regress.Report) (doc, junit []byte) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep.Document()); err != nil {
		t.Fatal(err)
	}
	var j bytes.Buffer
	if err := report.JUnit(&j, rep); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), j.Bytes()
}

// runShards runs every shard of count and reads each document back.
func runShards(t *testing.T, cfg string, count int, timings map[string]float64) ([]*regress.Report, []string) {
	t.Helper()
	var reps []*regress.Report
	var names []string
	for i := 1; i <= count; i++ {
		rep, err := regress.Run(cfg, regress.RunOptions{Shard: &regress.Shard{Index: i, Count: count, Timings: timings, Commit: "abc"}})
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := outputs(t, rep)
		name := fmt.Sprintf("shard-%d.json", i)
		back, err := regress.ReadResult(bytes.NewReader(doc), name)
		if err != nil {
			t.Fatal(err)
		}
		reps, names = append(reps, back), append(names, name)
	}
	return reps, names
}

// TestMergeEqualsUnsharded: for random fixture sets and shard counts the
// shards are disjoint, cover the set, and their merge writes the unsharded
// run's document and JUnit byte for byte.
func TestMergeEqualsUnsharded(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 1))
	for c := range 6 {
		n, count := 1+rng.IntN(12), 1+rng.IntN(6)
		t.Run(fmt.Sprintf("fixtures=%d,shards=%d", n, count), func(t *testing.T) {
			cfg := shardRepo(t, rng, n)
			if c%3 == 2 {
				// One fixture requiring context evidence turns the
				// context_conformance grader on for every fixture,
				// whichever shard grades it.
				requireContext(t, cfg)
			}
			whole, err := regress.Run(cfg, regress.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			wantDoc, wantJUnit := outputs(t, whole)
			var timings map[string]float64
			if c%2 == 1 {
				timings = map[string]float64{whole.Fixtures[0].Name: 5}
			}
			reps, names := runShards(t, cfg, count, timings)
			seen := map[string]int{}
			for _, r := range reps {
				for _, f := range r.Fixtures {
					seen[f.Name]++
				}
			}
			for _, f := range whole.Fixtures {
				if seen[f.Name] != 1 {
					t.Errorf("fixture %s is in %d shards", f.Name, seen[f.Name])
				}
			}
			if len(seen) != len(whole.Fixtures) {
				t.Errorf("shards grade %d fixtures, want %d", len(seen), len(whole.Fixtures))
			}
			rng.Shuffle(len(reps), func(i, j int) { reps[i], reps[j] = reps[j], reps[i]; names[i], names[j] = names[j], names[i] })
			merged, err := regress.MergeReports(reps, names)
			if err != nil {
				t.Fatal(err)
			}
			gotDoc, gotJUnit := outputs(t, merged)
			if !bytes.Equal(gotDoc, wantDoc) {
				t.Errorf("merged document differs:\n%s\nwant:\n%s", gotDoc, wantDoc)
			}
			if !bytes.Equal(gotJUnit, wantJUnit) {
				t.Errorf("merged JUnit differs:\n%s\nwant:\n%s", gotJUnit, wantJUnit)
			}
		})
	}
}

func TestMergeRefuses(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 2))
	cfg := shardRepo(t, rng, 6)
	reps, names := runShards(t, cfg, 3, nil)
	other, _ := runShards(t, shardRepo(t, rng, 5), 3, nil)
	commit := *reps[1]
	sh := *commit.Shard
	sh.Commit = "def"
	commit.Shard = &sh
	tests := []struct {
		name  string
		reps  []*regress.Report
		names []string
		want  string
	}{
		{"missing", reps[:2], names[:2], "shard 3/3 is missing"},
		{"twice", []*regress.Report{reps[0], reps[1], reps[2], reps[1]}, []string{"a", "b", "c", "d"}, "d: shard 2/3 is also b"},
		{"other config", []*regress.Report{reps[0], other[1], reps[2]}, []string{"a", "b", "c"}, "b: shard 2/3 graded another config"},
		{"other commit", []*regress.Report{reps[0], &commit, reps[2]}, []string{"a", "b", "c"}, `b: shard 2/3 graded commit "def"`},
		{"not a shard", []*regress.Report{{FixtureSet: "default"}}, []string{"a"}, "a: not a shard's result"},
		{"none", nil, nil, "no result documents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := regress.MergeReports(tt.reps, tt.names)
			if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want exit 6 with %q", err, tt.want)
			}
		})
	}
}

// TestAssignShardsStable: shards are balanced, and adding a fixture moves
// at most one other fixture per cut.
func TestAssignShardsStable(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 3))
	for range 200 {
		n, count := 1+rng.IntN(300), 1+rng.IntN(16)
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("fixture_%d_%d", i, rng.IntN(1e6))
		}
		before := regress.AssignShards(names, count, nil)
		sizes := make([]int, count)
		for _, s := range before {
			sizes[s]++
		}
		for _, s := range sizes {
			if s < n/count || s > n/count+1 {
				t.Fatalf("n=%d count=%d sizes %v", n, count, sizes)
			}
		}
		after := regress.AssignShards(append(names, "new_fixture"), count, nil)
		moved := 0
		for i := range before {
			if before[i] != after[i] {
				moved++
			}
		}
		if moved > count-1 {
			t.Fatalf("n=%d count=%d: adding one fixture moved %d", n, count, moved)
		}
	}
}
