package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/filelock"
)

// Rate limits and destructive budgets count calls across evaluations, so
// they live outside the pure decision: Evaluate reports the matched rule's
// limits in the Decision, and Limits.Apply counts them against stored
// counters at a given time and blocks the call once a limit is spent.
//
// The counters use Gait v1's state file (gait.gate.rate_limit_state, by
// default .gait-out/gate_rate_limits.json) with v1's keys
//
//	<window>|<scope>|<window start, RFC 3339 UTC>|<scope key>
//
// where the scope key is the tool name (scope tool), the identity (scope
// identity) or both joined by "|" (scope tool_identity); a destructive
// budget prefixes the tool name with "destructive_budget|", so under scopes
// tool and tool_identity it has counters of its own, and under scope
// identity it shares the identity's rate-limit counter, as v1 does.

// Limit state file identifiers and location.
const (
	LimitStateSchemaID = "gait.gate.rate_limit_state"
	// DefaultLimitStatePath is where gate eval keeps its counters, relative
	// to the working directory.
	DefaultLimitStatePath = ".gait-out/gate_rate_limits.json"
)

// Reason codes and violations of spent limits.
const (
	CodeRateLimitExceeded         = "rate_limit_exceeded"
	CodeDestructiveBudgetExceeded = "destructive_budget_exceeded"
)

// maxLimitStateBytes bounds the state file read into memory.
const maxLimitStateBytes = 16 << 20

// LimitUsage reports the rate limit counted for one call.
type LimitUsage struct {
	Scope     string `json:"rate_limit_scope"`
	Key       string `json:"rate_limit_key"`
	Used      int    `json:"rate_limit_used"`
	Remaining int    `json:"rate_limit_remaining,omitempty"`
}

// NeedsLimits reports whether counting d's limits for in can change it: the
// matched rule has a rate limit, or a destructive budget and in is
// destructive. When it is false Apply returns d unchanged without I/O.
func (d *Decision) NeedsLimits(in *Intent) bool {
	return in != nil && (d.RateLimit.Requests > 0 || (d.DestructiveBudget.Requests > 0 && in.destructive))
}

// Limits counts rate limits and destructive budgets across calls, in a
// state file shared by processes (NewLimits) or in memory (NewMemoryLimits,
// or the zero value). It is safe for concurrent use.
type Limits struct {
	path string
	mu   sync.Mutex
	mem  map[string]int
}

// NewLimits keeps the counters in the state file at path, locked while
// they are read and written, so concurrent processes never lose a count.
func NewLimits(path string) *Limits { return &Limits{path: path} }

// NewMemoryLimits keeps the counters in memory, for one process.
func NewMemoryLimits() *Limits { return &Limits{mem: map[string]int{}} }

// Path is the state file; empty for in-memory counters.
func (l *Limits) Path() string { return l.path }

// Apply counts d's rate limit and, for a destructive intent, its
// destructive budget at time now. A limit with room left counts the call;
// a spent one is not counted and turns the verdict into block with reason
// and violation rate_limit_exceeded or destructive_budget_exceeded. Both
// limits are checked, whatever the verdict. usage is nil when the rule has
// no rate limit. An unreadable state file is an input error (exit 6); the
// decision is then not usable.
func (l *Limits) Apply(d Decision, in *Intent, now time.Time) (Decision, *LimitUsage, error) {
	if !d.NeedsLimits(in) {
		return d, nil, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.path == "" {
		if l.mem == nil {
			l.mem = map[string]int{}
		}
		d, usage := countLimits(l.mem, d, in, now)
		return d, usage, nil
	}
	lock, err := filelock.Acquire(lockPathFor(l.path))
	if err != nil {
		return d, nil, fmt.Errorf("rate limit state: %w", err)
	}
	defer func() { _ = lock.Release() }()
	counters, err := readLimitState(l.path)
	if err != nil {
		return d, nil, err
	}
	d, usage := countLimits(counters, d, in, now)
	if err := writeLimitState(l.path, counters); err != nil {
		return d, nil, fmt.Errorf("%s: cannot write rate limit state: %w", l.path, err)
	}
	return d, usage, nil
}

// lockPathFor names the lock of a state file. It is not v1's
// "<state>.lock", which v1 creates exclusively and removes: a lock file
// Gait leaves in place would stall v1 processes.
func lockPathFor(state string) string {
	return filepath.Join(filepath.Dir(state), "."+filepath.Base(state)+".lock")
}

// countLimits is the pure step of Apply: it prunes and updates counters.
func countLimits(counters map[string]int, d Decision, in *Intent, now time.Time) (Decision, *LimitUsage) {
	var usage *LimitUsage
	var codes []string
	if lim := d.RateLimit; lim.Requests > 0 {
		key, scoped := limitKey(lim, in.ToolName, in.Context.Identity, now)
		pruneCounters(counters, lim.Window, now)
		used, ok := take(counters, key, lim.Requests)
		usage = &LimitUsage{Scope: lim.Scope, Key: scoped, Used: used, Remaining: max(lim.Requests-used, 0)}
		if !ok {
			codes = append(codes, CodeRateLimitExceeded)
		}
	}
	if lim := d.DestructiveBudget; lim.Requests > 0 && in.destructive {
		key, _ := limitKey(lim, "destructive_budget|"+in.ToolName, in.Context.Identity, now)
		pruneCounters(counters, lim.Window, now)
		if _, ok := take(counters, key, lim.Requests); !ok {
			codes = append(codes, CodeDestructiveBudgetExceeded)
		}
	}
	if len(codes) > 0 {
		d.Verdict = Block
		d.ReasonCodes = mergeSorted(d.ReasonCodes, codes...)
		d.Violations = mergeSorted(d.Violations, codes...)
	}
	return d, usage
}

// take counts one call under key unless the limit is spent; it returns the
// count after the call and whether the call fits.
func take(counters map[string]int, key string, limit int) (int, bool) {
	n := counters[key]
	if n >= limit {
		return n, false
	}
	counters[key] = n + 1
	return n + 1, true
}

// limitKey returns the counter key and the scope key (what gate eval
// reports as rate_limit_key).
func limitKey(lim Limit, tool, identity string, now time.Time) (string, string) {
	var scoped string
	switch lim.Scope {
	case "tool":
		scoped = tool
	case "identity":
		scoped = identity
	default: // tool_identity
		scoped = tool + "|" + identity
	}
	return lim.Window + "|" + lim.Scope + "|" + windowStart(lim.Window, now) + "|" + scoped, scoped
}

func windowStart(window string, now time.Time) string {
	d := time.Minute
	if window == "hour" {
		d = time.Hour
	}
	return now.UTC().Truncate(d).Format(time.RFC3339)
}

// pruneCounters drops what v1 drops before counting under a window: spent
// or malformed counters, and counters of the same window size whose window
// is not the current one.
func pruneCounters(counters map[string]int, window string, now time.Time) {
	current := windowStart(window, now)
	for key, n := range counters {
		parts := strings.SplitN(key, "|", 4)
		if n <= 0 || len(parts) < 4 || (parts[0] == window && parts[2] != current) {
			delete(counters, key)
		}
	}
}

type limitStateFile struct {
	SchemaID      string         `json:"schema_id"`
	SchemaVersion string         `json:"schema_version"`
	Counters      []limitCounter `json:"counters"`
}

type limitCounter struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

func readLimitState(path string) (map[string]int, error) {
	data, err := readBounded(path, maxLimitStateBytes)
	if err != nil {
		if _, statErr := os.Stat(path); errors.Is(statErr, os.ErrNotExist) {
			return map[string]int{}, nil
		}
		return nil, exitcode.Invalidf("%s: cannot read rate limit state: %v; delete it to reset the counters", path, err)
	}
	var doc limitStateFile
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, exitcode.Invalidf("%s: rate limit state is not valid (%v); delete it to reset the counters", path, err)
	}
	counters := make(map[string]int, len(doc.Counters))
	for _, c := range doc.Counters {
		counters[c.Key] = c.Count
	}
	return counters, nil
}

func writeLimitState(path string, counters map[string]int) error {
	doc := limitStateFile{SchemaID: LimitStateSchemaID, SchemaVersion: SchemaVersion, Counters: make([]limitCounter, 0, len(counters))}
	for k, n := range counters {
		doc.Counters = append(doc.Counters, limitCounter{Key: k, Count: n})
	}
	slices.SortFunc(doc.Counters, func(a, b limitCounter) int { return strings.Compare(a.Key, b.Key) })
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, buf.Bytes(), 0o600)
}
