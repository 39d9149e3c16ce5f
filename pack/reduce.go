package pack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/gait-dev/gait/internal/exitcode"
)

// Reduce predicates: what makes a run fail.
const (
	PredicateMissingResult = "missing_result" // an intent has no result
	PredicateNonOKStatus   = "non_ok_status"  // a result's status is not ok
)

// SchemaReduceReport is the schema of a reduce report.
const SchemaReduceReport = "gait.runpack.reduce_report"

// Predicates lists the reduce predicates.
var Predicates = []string{PredicateMissingResult, PredicateNonOKStatus}

// ReduceReport describes a reduction. The fields up to StillFailing are
// v1's; the rest say what delta debugging kept and removed.
type ReduceReport struct {
	SchemaID            string `json:"schema_id"`
	SchemaVersion       string `json:"schema_version"`
	CreatedAt           string `json:"created_at"`
	ProducerVersion     string `json:"producer_version"`
	RunID               string `json:"run_id"`
	ReducedRunID        string `json:"reduced_run_id"`
	Predicate           string `json:"predicate"`
	SelectedIntentID    string `json:"selected_intent_id"`
	OriginalIntentCount int    `json:"original_intent_count"`
	ReducedIntentCount  int    `json:"reduced_intent_count"`
	OriginalResultCount int    `json:"original_result_count"`
	ReducedResultCount  int    `json:"reduced_result_count"`
	OriginalRefCount    int    `json:"original_ref_count"`
	ReducedRefCount     int    `json:"reduced_ref_count"`
	StillFailing        bool   `json:"still_failing"`

	KeptIntentIDs          []string `json:"kept_intent_ids"`
	StepsRemoved           int      `json:"steps_removed"`
	OriginalTimelineCount  int      `json:"original_timeline_count"`
	ReducedTimelineCount   int      `json:"reduced_timeline_count"`
	PredicateEvaluations   int      `json:"predicate_evaluations"`
	ReducedManifestDigest  string   `json:"reduced_manifest_digest"`
	OriginalManifestDigest string   `json:"original_manifest_digest"`
}

// ReducedRunID names the reduced run of runID under predicate.
func ReducedRunID(runID, predicate string) string {
	return runID + "_reduced_" + strings.ReplaceAll(predicate, "_", "")
}

// Reduce shrinks rp to a smallest run that still fails predicate, by delta
// debugging over its intents. A kept intent keeps its result, the intents
// and reference receipts its args name (by intent_id or ref_id), and the
// timeline events that name only kept intents; events that name no intent
// stay. The reduced runpack is unsigned. It is exit 6 when the predicate
// does not fire on rp, or when the built runpack no longer fails.
func Reduce(rp *Runpack, predicate string, opts RecordOptions) (*Runpack, ReduceReport, error) {
	if !slices.Contains(Predicates, predicate) {
		return nil, ReduceReport{}, exitcode.Invalidf("unsupported predicate %q; pass --predicate %s", predicate, strings.Join(Predicates, " or "))
	}
	g, err := newReduceGraph(rp)
	if err != nil {
		return nil, ReduceReport{}, err
	}
	evals := 0
	fails := func(keep []int) bool {
		evals++
		return g.fails(predicate, g.closure(keep))
	}
	all := make([]int, len(rp.Intents))
	for i := range all {
		all[i] = i
	}
	if !fails(all) {
		return nil, ReduceReport{}, exitcode.Invalidf("predicate %s does not fire on run %s: nothing to reduce; pick the predicate the run fails (%s)",
			predicate, rp.Manifest.RunID, strings.Join(Predicates, ", "))
	}
	kept := g.closure(ddmin(all, fails))

	rec := g.record(kept)
	if opts.RunID == "" {
		opts.RunID = ReducedRunID(rp.Manifest.RunID, predicate)
	}
	if opts.CaptureMode == "" {
		opts.CaptureMode = rp.Manifest.CaptureMode
	}
	out, err := Build(rec.RunRecord, opts)
	if err != nil {
		return nil, ReduceReport{}, fmt.Errorf("build the reduced run: %w", err)
	}
	reopened, err := OpenBytes(opts.RunID, out.bytesForCheck())
	if err != nil {
		return nil, ReduceReport{}, fmt.Errorf("reopen the reduced run: %w", err)
	}
	rg, err := newReduceGraph(reopened)
	if err != nil {
		return nil, ReduceReport{}, err
	}
	still := rg.fails(predicate, rg.closure(nil))
	if !still {
		return nil, ReduceReport{}, exitcode.Invalidf("the reduced run %s no longer fails %s; keep the original runpack as the fixture", opts.RunID, predicate)
	}
	rep := ReduceReport{
		SchemaID: SchemaReduceReport, SchemaVersion: SchemaVersion, CreatedAt: rp.Run.CreatedAt, ProducerVersion: rp.Run.ProducerVersion,
		RunID: rp.Manifest.RunID, ReducedRunID: opts.RunID, Predicate: predicate,
		OriginalIntentCount: len(rp.Intents), ReducedIntentCount: len(out.Intents),
		OriginalResultCount: len(rp.Results), ReducedResultCount: len(out.Results),
		OriginalRefCount: len(rp.Refs.Receipts), ReducedRefCount: len(out.Refs.Receipts),
		StillFailing: still, StepsRemoved: len(rp.Intents) - len(out.Intents),
		OriginalTimelineCount: len(g.events), ReducedTimelineCount: len(rec.eventsKept),
		PredicateEvaluations: evals, ReducedManifestDigest: out.Manifest.ManifestDigest, OriginalManifestDigest: rp.Manifest.ManifestDigest,
	}
	for _, in := range out.Intents {
		rep.KeptIntentIDs = append(rep.KeptIntentIDs, in.IntentID)
		if rep.SelectedIntentID == "" && rg.intentFails(predicate, in.IntentID) {
			rep.SelectedIntentID = in.IntentID
		}
	}
	return out, rep, nil
}

// bytesForCheck is the runpack as written, for re-reading it.
func (rp *Runpack) bytesForCheck() []byte {
	var b bytes.Buffer
	if err := rp.Write(&b); err != nil {
		return nil
	}
	return b.Bytes()
}

// ddmin is Zeller's delta debugging minimisation: a 1-minimal subset of
// items for which fails holds, given that it holds for all of them.
func ddmin(items []int, fails func([]int) bool) []int {
	c := items
	n := 2
	for len(c) >= 2 {
		chunks := split(c, n)
		reduced := false
		for _, ch := range chunks {
			if fails(ch) {
				c, n, reduced = ch, 2, true
				break
			}
		}
		if !reduced && n > 2 {
			for i := range chunks {
				comp := complement(chunks, i)
				if fails(comp) {
					c, n, reduced = comp, max(n-1, 2), true
					break
				}
			}
		}
		if !reduced {
			if n >= len(c) {
				break
			}
			n = min(2*n, len(c))
		}
	}
	return c
}

func split(c []int, n int) [][]int {
	out := make([][]int, 0, n)
	for i := range n {
		lo, hi := i*len(c)/n, (i+1)*len(c)/n
		if lo < hi {
			out = append(out, c[lo:hi])
		}
	}
	return out
}

func complement(chunks [][]int, skip int) []int {
	var out []int
	for i, ch := range chunks {
		if i != skip {
			out = append(out, ch...)
		}
	}
	return out
}

// reduceGraph is what reduction needs to know about a run: which intents,
// receipts and timeline events each intent depends on.
type reduceGraph struct {
	rp         *Runpack
	intentIdx  map[string]int
	results    map[string][]int // intent id → result indexes
	needs      [][]int          // intent → intents its args name
	refNeeds   [][]int          // intent → receipts its args name
	refIdx     map[string]int
	events     []json.RawMessage
	eventNames [][]int // event → intents it names
	eventRefs  [][]int // event → receipts it names
}

func newReduceGraph(rp *Runpack) (*reduceGraph, error) {
	g := &reduceGraph{rp: rp, intentIdx: map[string]int{}, results: map[string][]int{}, refIdx: map[string]int{}}
	for i, in := range rp.Intents {
		g.intentIdx[in.IntentID] = i
	}
	for i, r := range rp.Results {
		g.results[r.IntentID] = append(g.results[r.IntentID], i)
	}
	for i, raw := range rp.Refs.Receipts {
		var r struct {
			RefID string `json:"ref_id"`
		}
		if json.Unmarshal(raw, &r) == nil && r.RefID != "" {
			g.refIdx[r.RefID] = i
		}
	}
	g.needs = make([][]int, len(rp.Intents))
	g.refNeeds = make([][]int, len(rp.Intents))
	for i, in := range rp.Intents {
		g.needs[i], g.refNeeds[i] = g.named(in.Args, in.IntentID)
	}
	if len(rp.Run.Timeline) > 0 && string(rp.Run.Timeline) != "null" {
		if err := json.Unmarshal(rp.Run.Timeline, &g.events); err != nil {
			return nil, exitcode.Wrap(exitcode.InvalidInput, fmt.Errorf("run.json timeline: %w", err))
		}
	}
	for _, ev := range g.events {
		in, refs := g.named(ev, "")
		g.eventNames = append(g.eventNames, in)
		g.eventRefs = append(g.eventRefs, refs)
	}
	return g, nil
}

// named lists the intents (other than self) and receipts whose ids appear
// as string values anywhere in doc.
func (g *reduceGraph) named(doc json.RawMessage, self string) (intents, refs []int) {
	if len(doc) == 0 {
		return nil, nil
	}
	var v any
	if json.Unmarshal(doc, &v) != nil {
		return nil, nil
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if i, ok := g.intentIdx[x]; ok && x != self && !slices.Contains(intents, i) {
				intents = append(intents, i)
			}
			if i, ok := g.refIdx[x]; ok && !slices.Contains(refs, i) {
				refs = append(refs, i)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return intents, refs
}

// closure adds to keep every intent a kept intent names, transitively, and
// returns the set in run order. A nil keep means every intent.
func (g *reduceGraph) closure(keep []int) []int {
	if keep == nil {
		keep = make([]int, len(g.rp.Intents))
		for i := range keep {
			keep[i] = i
		}
	}
	in := make([]bool, len(g.rp.Intents))
	stack := slices.Clone(keep)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if in[i] {
			continue
		}
		in[i] = true
		stack = append(stack, g.needs[i]...)
	}
	var out []int
	for i, ok := range in {
		if ok {
			out = append(out, i)
		}
	}
	return out
}

func (g *reduceGraph) intentFails(predicate, id string) bool {
	rs := g.results[id]
	switch predicate {
	case PredicateMissingResult:
		return len(rs) == 0
	case PredicateNonOKStatus:
		for _, r := range rs {
			if g.rp.Results[r].Status != "ok" {
				return true
			}
		}
	}
	return false
}

func (g *reduceGraph) fails(predicate string, kept []int) bool {
	for _, i := range kept {
		if g.intentFails(predicate, g.rp.Intents[i].IntentID) {
			return true
		}
	}
	return false
}

// reducedRecord is the run record of a reduction, with the events it kept.
type reducedRecord struct {
	*RunRecord
	eventsKept []json.RawMessage
}

// record builds the run record holding the kept intents, their results,
// the receipts they and the kept events name, and those events.
func (g *reduceGraph) record(kept []int) reducedRecord {
	rp := g.rp
	keep := make([]bool, len(rp.Intents))
	for _, i := range kept {
		keep[i] = true
	}
	rec := &RunRecord{Run: rp.Run, Refs: rp.Refs, CaptureMode: rp.Manifest.CaptureMode}
	refKeep := make([]bool, len(rp.Refs.Receipts))
	keptIDs := make(map[string]bool, len(kept))
	for _, i := range kept {
		rec.Intents = append(rec.Intents, rp.Intents[i])
		keptIDs[rp.Intents[i].IntentID] = true
		for _, r := range g.refNeeds[i] {
			refKeep[r] = true
		}
	}
	for _, r := range rp.Results {
		if keptIDs[r.IntentID] {
			rec.Results = append(rec.Results, r)
		}
	}
	var events []json.RawMessage
	for e, ev := range g.events {
		ok := true
		for _, i := range g.eventNames[e] {
			ok = ok && keep[i]
		}
		if !ok {
			continue
		}
		events = append(events, ev)
		for _, r := range g.eventRefs[e] {
			refKeep[r] = true
		}
	}
	rec.Refs.Receipts = nil
	for i, raw := range rp.Refs.Receipts {
		if refKeep[i] {
			rec.Refs.Receipts = append(rec.Refs.Receipts, raw)
		}
	}
	if len(rec.Refs.Receipts) != len(rp.Refs.Receipts) {
		rec.Refs.ContextSetDigest = "" // it described the whole set
	}
	if events == nil {
		events = []json.RawMessage{}
	}
	tl, _ := json.Marshal(events)
	rec.Run.Timeline = tl
	return reducedRecord{rec, events}
}
