package regress

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	// Each, when set, is given every fixture's result in name order as
	// soon as it and the fixtures before it are graded (on one goroutine
	// at a time), with the report so far (its fixture set and config are
	// set); the report then lists only the failing fixtures in Fixtures
	// (its counts cover all). An error from Each ends the run.
	Each func(rep *Report, f *FixtureResult) error
}

// epoch is the result time when no runpack says otherwise; output never
// depends on the clock.
const epoch = "1980-01-01T00:00:00Z"

// Run grades the fixtures of the config at configPath, in name order.
// Anything that keeps a fixture from being graded (unreadable config, no
// fixtures, a missing or broken fixture.json or runpack, expectations that
// are not valid) is invalid input (exit 6); only behaviour that differs
// from a fixture's expectations fails it (exit 5). When several fixtures
// cannot be graded, the error names the first of them in name order.
//
// Every fixture.json is read first (whether any requires context evidence
// decides the graders of all); then each fixture's runpacks are read only
// to grade it, on opts.Parallel workers, so the run holds one fixture's
// runpacks per worker. With opts.Each set, results are handed on in name
// order as they are graded and the report keeps only the failing ones.
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
	notices := make([]string, len(refs))
	var cut atomic.Int64 // the first fixture known to be unusable
	cut.Store(int64(len(refs)))
	failAt := func(i int) {
		for c := cut.Load(); int64(i) < c && !cut.CompareAndSwap(c, int64(i)); c = cut.Load() {
		}
	}
	parallel(len(refs), opts.Parallel, func(i int) {
		g := &grading{ref: refs[i], evaluator: opts.Evaluator, opts: &opts}
		if g.fixture, g.dir, errs[i] = g.loadFixture(configPath); errs[i] != nil {
			failAt(i)
			return
		}
		gradings[i], notices[i] = g, g.notice
	})
	context := opts.ContextConformance || (plan != nil && plan.context)
	for _, g := range gradings {
		context = context || (g != nil && g.fixture.ContextConformance == ContextRequired)
	}
	rep := &Report{FixtureSet: cfg.FixtureSet, Config: configPath, Status: StatusPass,
		CreatedAt: epoch, ProducerVersion: opts.ProducerVersion, Fixtures: []FixtureResult{}}
	if plan != nil {
		rep.Shard = plan.info
	}
	var eachErr error
	deliver := inOrder(func(i int, res *FixtureResult) bool {
		if res == nil || eachErr != nil {
			return false
		}
		rep.Total++
		if res.Status == StatusPass {
			rep.Passed++
		} else {
			rep.Failed++
			rep.Status = StatusFail
		}
		if rep.Shard != nil {
			rep.Shard.Fixtures = append(rep.Shard.Fixtures, res.shardFixture())
		}
		if opts.Each != nil {
			if eachErr = opts.Each(rep, res); eachErr != nil {
				failAt(i)
				return false
			}
			if res.Status == StatusPass {
				return true
			}
		}
		rep.Fixtures = append(rep.Fixtures, *res)
		return true
	})
	var mu sync.Mutex
	done := 0
	createdAt := ""
	parallel(len(refs), opts.Parallel, func(i int) {
		g := gradings[i]
		gradings[i] = nil
		if g == nil || int64(i) > cut.Load() {
			deliver(i, nil)
			return
		}
		if errs[i] = g.open(configPath); errs[i] != nil {
			failAt(i)
			deliver(i, nil)
			return
		}
		g.context = context
		start := time.Now()
		res := g.grade()
		res.Elapsed = time.Since(start)
		if i == 0 {
			createdAt = g.rp.Manifest.CreatedAt
		}
		g.rp, g.candidate = nil, nil
		if opts.Progress != nil {
			mu.Lock()
			done++
			opts.Progress(done, len(refs))
			mu.Unlock()
		}
		deliver(i, &res)
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if eachErr != nil {
		return nil, eachErr
	}
	for _, n := range notices {
		if n != "" {
			rep.Notices = append(rep.Notices, n)
		}
	}
	if plan != nil && plan.first != nil {
		createdAt = plan.first.rp.Manifest.CreatedAt
	}
	if createdAt != "" {
		rep.CreatedAt = createdAt
	}
	return rep, nil
}

// inOrder returns a function that takes results in any order, from any
// goroutine, and hands them to f in index order, one at a time, from
// whichever goroutine delivered the next one; after f returns false it
// hands on nothing more.
func inOrder(f func(i int, res *FixtureResult) bool) func(i int, res *FixtureResult) {
	var mu sync.Mutex
	pending := map[int]*FixtureResult{}
	next, busy, stopped := 0, false, false
	return func(i int, res *FixtureResult) {
		mu.Lock()
		if stopped {
			mu.Unlock()
			return
		}
		pending[i] = res
		if busy {
			mu.Unlock()
			return
		}
		busy = true
		for {
			r, ok := pending[next]
			if !ok || stopped {
				busy = false
				mu.Unlock()
				return
			}
			delete(pending, next)
			idx := next
			next++
			mu.Unlock()
			keep := f(idx, r)
			mu.Lock()
			stopped = stopped || !keep
		}
	}
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
