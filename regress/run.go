package regress

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gait-dev/gait/internal/exitcode"
)

// RunOptions select and tune a regress run.
type RunOptions struct {
	Fixtures        []string // only these fixture names; all when empty
	Parallel        int      // grading workers; GOMAXPROCS when 0
	Evaluator       PolicyEvaluator
	ProducerVersion string
	// ContextConformance requires context evidence of every fixture (v1's
	// --context-conformance); AllowContextRuntimeDrift lets a change in
	// retrieval details only pass (--allow-context-runtime-drift).
	ContextConformance       bool
	AllowContextRuntimeDrift bool
	// AllowNondeterministic is v1's --allow-nondeterministic. Gait's graders
	// read only deterministic fields, so it changes nothing; it is
	// accepted so v1 workflows run unchanged.
	AllowNondeterministic bool
	// payloads keeps recorded args and results whole (an agent is served
	// them).
	payloads bool
	// Shard, when set, grades only that shard of the fixtures; the report
	// records which (Report.Shard).
	Shard *Shard
	// Progress, when set, is called after each fixture is graded.
	Progress func(done, total int)
}

// epoch is the result time when no runpack says otherwise; output never
// depends on the clock.
const epoch = "1980-01-01T00:00:00Z"

// reloadAbove is the most a fixture's runpacks may hold between being
// checked and being graded; larger ones are read again to be graded.
const reloadAbove = 1 << 20

// Run grades the fixtures of the config at configPath, in name order.
// Anything that keeps a fixture from being graded (unreadable config, no
// fixtures, a missing or broken fixture.json or runpack, expectations that
// are not valid) is invalid input (exit 6); only behaviour that differs
// from a fixture's expectations fails it (exit 5).
func Run(configPath string, opts RunOptions) (*Report, error) {
	cfg, err := LoadConfig(configPath)
	if err != nil {
		return nil, err
	}
	refs, err := selectFixtures(cfg, configPath, opts.Fixtures)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(refs, func(a, b FixtureRef) int { return strings.Compare(a.Name, b.Name) })
	var plan *shardPlan
	if opts.Shard != nil {
		if refs, plan, err = planShard(configPath, refs, &opts); err != nil {
			return nil, err
		}
	}
	gradings := make([]*grading, len(refs))
	errs := make([]error, len(refs))
	// Every fixture is read and checked before any is graded. A large
	// runpack is let go once checked and read again when its fixture is
	// graded, so the run holds at most one per worker, not all of them.
	createdAt := ""
	parallel(len(refs), opts.Parallel, func(i int) {
		gradings[i], errs[i] = loadGrading(configPath, refs[i], &opts)
		if errs[i] != nil {
			return
		}
		if i == 0 {
			createdAt = gradings[0].rp.Manifest.CreatedAt
		}
		if gradings[i].rp.Held()+gradings[i].candidate.Held() > reloadAbove {
			gradings[i].rp, gradings[i].candidate = nil, nil
		}
	})
	var notices []string
	for i, err := range errs {
		if err != nil {
			return nil, err
		}
		if gradings[i].notice != "" {
			notices = append(notices, gradings[i].notice)
		}
	}
	context := opts.ContextConformance || (plan != nil && plan.context)
	for _, g := range gradings {
		context = context || g.fixture.ContextConformance == ContextRequired
	}
	results := make([]FixtureResult, len(refs))
	var mu sync.Mutex
	done := 0
	parallel(len(refs), opts.Parallel, func(i int) {
		g := gradings[i]
		if g.rp == nil {
			if g, errs[i] = loadGrading(configPath, refs[i], &opts); errs[i] != nil {
				return
			}
		}
		g.context = context
		start := time.Now()
		results[i] = g.grade()
		results[i].Elapsed = time.Since(start)
		gradings[i].rp, gradings[i].candidate = nil, nil
		if opts.Progress != nil {
			mu.Lock()
			done++
			opts.Progress(done, len(refs))
			mu.Unlock()
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	rep := &Report{FixtureSet: cfg.FixtureSet, Config: configPath, Status: StatusPass, Total: len(results),
		Fixtures: results, CreatedAt: epoch, ProducerVersion: opts.ProducerVersion, Notices: notices}
	if plan != nil {
		rep.Shard = plan.info
		if plan.first != nil {
			createdAt = plan.first.rp.Manifest.CreatedAt
		}
	}
	if createdAt != "" {
		rep.CreatedAt = createdAt
	}
	for _, r := range results {
		if r.Status == StatusPass {
			rep.Passed++
		} else {
			rep.Failed++
			rep.Status = StatusFail
		}
	}
	rep.recordShard()
	return rep, nil
}

// parallel calls f for 0..n-1 on up to workers goroutines (GOMAXPROCS when
// workers is 0 or less).
func parallel(n, workers int, f func(i int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(workers, max(n, 1)) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

func selectFixtures(cfg *Config, configPath string, names []string) ([]FixtureRef, error) {
	if len(names) == 0 {
		return slices.Clone(cfg.Fixtures), nil
	}
	byName := make(map[string]FixtureRef, len(cfg.Fixtures))
	for _, f := range cfg.Fixtures {
		byName[f.Name] = f
	}
	var out []FixtureRef
	for _, n := range names {
		f, ok := byName[n]
		if !ok {
			return nil, exitcode.Invalidf("%s: no fixture named %q; list fixtures in the config or drop --fixture", configPath, n)
		}
		out = append(out, f)
	}
	return out, nil
}
