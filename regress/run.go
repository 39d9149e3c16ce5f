package regress

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/gait-dev/gait/internal/exitcode"
)

// RunOptions select and tune a regress run.
type RunOptions struct {
	Fixtures        []string // only these fixture names; all when empty
	Parallel        int      // grading workers; GOMAXPROCS when 0
	Evaluator       PolicyEvaluator
	ProducerVersion string
	// Progress, when set, is called after each fixture is graded.
	Progress func(done, total int)
}

// epoch is the result time when no runpack says otherwise; output never
// depends on the clock.
const epoch = "1980-01-01T00:00:00Z"

// Run grades the fixtures of the config at configPath. Config problems
// (unreadable config, unknown fixture names, missing fixture folders) are
// bad input; a broken fixture only fails that fixture.
func Run(configPath string, opts RunOptions) (*Report, error) {
	cfg, err := LoadConfig(configPath)
	if err != nil {
		return nil, err
	}
	refs, err := selectFixtures(cfg, configPath, opts.Fixtures)
	if err != nil {
		return nil, err
	}
	configDir := filepath.Dir(configPath)
	for _, ref := range refs {
		dir := fixtureDir(configPath, ref.Runpack)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, exitcode.Invalidf("%s: fixture %q: folder %s does not exist; restore it or remove the fixture from the config", configPath, ref.Name, dir)
		}
	}
	workers := opts.Parallel
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	results := make([]FixtureResult, len(refs))
	times := make([]string, len(refs))
	var next, done int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < min(workers, max(len(refs), 1)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(refs) {
					return
				}
				results[i], times[i] = gradeFixture(configDir, refs[i], opts.Evaluator)
				if opts.Progress != nil {
					mu.Lock()
					done++
					opts.Progress(done, len(refs))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	rep := &Report{FixtureSet: cfg.FixtureSet, Config: configPath, Status: StatusPass, Total: len(results),
		Fixtures: results, CreatedAt: epoch, ProducerVersion: opts.ProducerVersion}
	for i, r := range results {
		if r.Status == StatusPass {
			rep.Passed++
		} else {
			rep.Failed++
			rep.Status = StatusFail
		}
		if times[i] > rep.CreatedAt {
			rep.CreatedAt = times[i]
		}
	}
	return rep, nil
}

func selectFixtures(cfg *Config, configPath string, names []string) ([]FixtureRef, error) {
	if len(names) == 0 {
		return cfg.Fixtures, nil
	}
	byName := make(map[string]FixtureRef, len(cfg.Fixtures))
	for _, f := range cfg.Fixtures {
		byName[f.Name] = f
	}
	var out []FixtureRef
	var errs []error
	for _, n := range names {
		f, ok := byName[n]
		if !ok {
			errs = append(errs, exitcode.Invalidf("%s: no fixture named %q; list fixtures in the config or drop --fixture", configPath, n))
			continue
		}
		out = append(out, f)
	}
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return out, nil
}
