package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"unicode"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
)

// The top-actions report document.
const (
	TopSchemaID      = "gait.report.top_actions"
	TopSchemaVersion = "1.0.0"
	TopFile          = "report_top_actions.json"
	// TopDefaultLimit is how many actions the report keeps when no limit is given.
	TopDefaultLimit = 5
	// topCreatedAt is fixed so the same inputs give the same bytes.
	topCreatedAt = "1980-01-01T00:00:00Z"
	// unknownRun is the run id of actions that carry none (gate traces).
	unknownRun = "unknown"
)

// Tool classes, from most to least dangerous.
const (
	ClassDestructive = "destructive"
	ClassWrite       = "write" // writes and egress: the call changes or sends something
	ClassExecute     = "execute"
	ClassRead        = "read"
)

// Score weights. A class is worth more than everything else an action can
// add (blast radius, verdict and violations are capped below the gap between
// two classes), so a destructive call always outranks a write, a write an
// execute, and an execute a read.
var classScore = map[string]int{ClassDestructive: 400, ClassWrite: 300, ClassExecute: 200, ClassRead: 100}

const (
	blastWeight     = 10
	maxBlast        = 5 // blast radius counted up to this many targets
	violationWeight = 2
	maxViolations   = 5
	// unknownDestructiveBlast is the blast radius of a destructive call whose
	// targets are not known (a trace records only the args digest).
	unknownDestructiveBlast = 3
	// broadBlast is added for a recursive, cascading or wildcard call.
	broadBlast = 2
)

var verdictScore = map[gate.Verdict]int{gate.Block: 16, gate.RequireApproval: 14, gate.DryRun: 1}

// TopReport is the gait.report.top_actions document: the highest-risk tool
// calls found in runpacks and gate traces, ranked.
type TopReport struct {
	SchemaID        string      `json:"schema_id"`
	SchemaVersion   string      `json:"schema_version"`
	CreatedAt       string      `json:"created_at"`
	ProducerVersion string      `json:"producer_version"`
	RunCount        int         `json:"run_count"`
	TraceCount      int         `json:"trace_count"`
	ActionCount     int         `json:"action_count"`
	TopActions      []TopAction `json:"top_actions"`
}

// TopAction is one ranked tool call.
type TopAction struct {
	Rank           int      `json:"rank"`
	Score          int      `json:"score"`
	ToolClass      string   `json:"tool_class"`
	BlastRadius    int      `json:"blast_radius"`
	RunID          string   `json:"run_id"`
	IntentID       string   `json:"intent_id,omitempty"`
	IntentDigest   string   `json:"intent_digest,omitempty"`
	TraceID        string   `json:"trace_id,omitempty"`
	ToolName       string   `json:"tool_name"`
	Verdict        string   `json:"verdict,omitempty"`
	ReasonCodes    []string `json:"reason_codes,omitempty"`
	SourceType     string   `json:"source_type"`
	SourceArtifact string   `json:"source_artifact"`

	seq int // position inside its source, the last tie-break
}

// TopOptions name the inputs of Top.
type TopOptions struct {
	Runs            []string // runpack paths
	Traces          []string // gait.gate.trace JSON paths
	Limit           int      // actions kept; TopDefaultLimit when 0
	ProducerVersion string
}

// TopSources expands the --runs and --traces arguments into file paths.
// Each is a comma-separated list; an item is a directory (its runpack_*.zip,
// respectively trace_*.json files), a file, or for runs a run id that
// resolves to <outDir>/runpack_<id>.zip. Paths are cleaned, de-duplicated and
// kept in the order given, directory entries sorted by name.
func TopSources(runs, traces, outDir string) (runPaths, tracePaths []string, err error) {
	runPaths, err = expand(runs, "runpack_*.zip", func(item string) string { return pack.Resolve(item, outDir) }, "runpack", "a run id, a runpack zip or a directory of them")
	if err != nil {
		return nil, nil, err
	}
	tracePaths, err = expand(traces, "trace_*.json", func(item string) string { return item }, "trace", "a trace JSON file or a directory of them")
	if err != nil {
		return nil, nil, err
	}
	return runPaths, tracePaths, nil
}

func expand(list, glob string, resolve func(string) string, what, want string) ([]string, error) {
	var out []string
	add := func(p string) {
		p = filepath.Clean(p)
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if st, err := os.Stat(item); err == nil && st.IsDir() {
			matches, err := filepath.Glob(filepath.Join(item, glob))
			if err != nil {
				return nil, exitcode.Invalidf("%s: %v", item, err)
			}
			slices.Sort(matches)
			for _, m := range matches {
				add(m)
			}
			continue
		}
		p := resolve(item)
		if _, err := os.Stat(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, exitcode.Invalidf("%s: no such %s; pass %s", p, what, want)
			}
			return nil, exitcode.Invalidf("%s: %v", p, err)
		}
		add(p)
	}
	return out, nil
}

// Top reads every runpack and trace, scores each tool call and returns the
// highest-risk ones, ranked. The ranking is deterministic: score, then
// class, blast radius, run id, source and position break ties, and the
// document holds no wall-clock time, so the same inputs give the same bytes.
func Top(opts TopOptions) (*TopReport, error) {
	limit := opts.Limit
	if limit == 0 {
		limit = TopDefaultLimit
	}
	if limit < 0 {
		return nil, exitcode.Invalidf("--limit %d: pass a positive number of actions", limit)
	}
	if len(opts.Runs) == 0 && len(opts.Traces) == 0 {
		return nil, exitcode.Invalidf("no runpacks or traces to rank; pass --runs <run_id|runpack.zip|dir> and/or --traces <trace.json|dir>")
	}
	var actions []TopAction
	runs := map[string]bool{}
	for _, p := range opts.Runs {
		rp, err := pack.OpenWith(p, pack.ReadOptions{Args: true})
		if err != nil {
			return nil, exitcode.Invalidf("%s: %v; pass a runpack written by `gait run record` or `gait demo`", p, err)
		}
		runs[rp.Manifest.RunID] = true
		for i, in := range rp.Intents {
			actions = append(actions, runpackAction(rp, in, i, p))
		}
	}
	for _, p := range opts.Traces {
		tr, err := readTrace(p)
		if err != nil {
			return nil, err
		}
		runs[unknownRun] = true
		actions = append(actions, traceAction(tr, p))
	}
	slices.SortFunc(actions, compareActions)
	rep := &TopReport{
		SchemaID: TopSchemaID, SchemaVersion: TopSchemaVersion, CreatedAt: topCreatedAt,
		ProducerVersion: opts.ProducerVersion, RunCount: len(runs), TraceCount: len(opts.Traces),
		ActionCount: len(actions), TopActions: []TopAction{},
	}
	for i, a := range actions[:min(limit, len(actions))] {
		a.Rank = i + 1
		rep.TopActions = append(rep.TopActions, a)
	}
	return rep, nil
}

func readTrace(path string) (gate.Trace, error) {
	var tr gate.Trace
	data, err := os.ReadFile(path)
	if err != nil {
		return tr, exitcode.Invalidf("%s: %v", path, err)
	}
	if err := json.Unmarshal(data, &tr); err != nil {
		return tr, exitcode.Invalidf("%s: not a gate trace: %v; pass a trace written by `gait gate eval --trace-out`", path, err)
	}
	if tr.SchemaID != "gait.gate.trace" {
		return tr, exitcode.Invalidf("%s: schema_id %q is not gait.gate.trace; pass a trace written by `gait gate eval --trace-out`", path, tr.SchemaID)
	}
	if tr.ToolName == "" {
		return tr, exitcode.Invalidf("%s: trace has no tool_name; pass a trace written by `gait gate eval --trace-out`", path)
	}
	return tr, nil
}

func runpackAction(rp *pack.Runpack, in pack.Intent, seq int, source string) TopAction {
	class := ToolClass(in.ToolName)
	blast := 1
	if len(in.Args) > 0 {
		var args map[string]any
		if json.Unmarshal(in.Args, &args) == nil {
			if n, err := gate.Normalize(gate.IntentFromToolCall(in.ToolName, args, gate.ToolCallContext{})); err == nil {
				blast = max(blast, len(n.Targets))
				if broad(args, n.Targets) {
					blast += broadBlast
				}
				if n.Destructive() && deletes(n.Targets) {
					class = ClassDestructive
				}
			}
		}
	}
	runID := cmp.Or(in.RunID, rp.Manifest.RunID, unknownRun)
	a := TopAction{
		ToolClass: class, BlastRadius: blast, RunID: runID, IntentID: in.IntentID, ToolName: in.ToolName,
		SourceType: "runpack", SourceArtifact: filepath.ToSlash(source), seq: seq,
	}
	a.Score = score(class, blast, "", 0)
	return a
}

// broad reports whether a call reaches past its named targets: a recursive,
// cascading or all-matching flag, or a wildcard target.
func broad(args map[string]any, targets []gate.Target) bool {
	for _, k := range []string{"recursive", "cascade", "all", "force"} {
		if v, ok := args[k].(bool); ok && v {
			return true
		}
	}
	return slices.ContainsFunc(targets, func(t gate.Target) bool { return strings.Contains(t.Value, "*") })
}

// deletes reports whether a target is deleted (not merely executed): a
// command argument makes the gate treat a call as destructive, but only a
// delete-like operation makes its class destructive here.
func deletes(targets []gate.Target) bool {
	return slices.ContainsFunc(targets, func(t gate.Target) bool { return t.EndpointClass == "fs.delete" })
}

func traceAction(tr gate.Trace, source string) TopAction {
	class := ToolClass(tr.ToolName)
	blast := 1
	if class == ClassDestructive {
		blast = unknownDestructiveBlast
	}
	var reasons []string
	if tr.Verdict != "" && tr.Verdict != gate.Allow {
		reasons = append(reasons, "trace_verdict_"+string(tr.Verdict))
	}
	for _, v := range tr.Violations {
		reasons = append(reasons, "violation_"+v)
	}
	slices.Sort(reasons)
	reasons = slices.Compact(reasons)
	a := TopAction{
		ToolClass: class, BlastRadius: blast, RunID: unknownRun, IntentDigest: tr.IntentDigest, TraceID: tr.TraceID,
		ToolName: tr.ToolName, Verdict: string(tr.Verdict), ReasonCodes: reasons,
		SourceType: "trace", SourceArtifact: filepath.ToSlash(source),
	}
	a.Score = score(class, blast, tr.Verdict, len(tr.Violations))
	return a
}

func score(class string, blast int, verdict gate.Verdict, violations int) int {
	return classScore[class] + blastWeight*min(blast, maxBlast) + verdictScore[verdict] + violationWeight*min(violations, maxViolations)
}

func compareActions(a, b TopAction) int {
	return cmp.Or(
		cmp.Compare(b.Score, a.Score),
		cmp.Compare(classScore[b.ToolClass], classScore[a.ToolClass]),
		cmp.Compare(b.BlastRadius, a.BlastRadius),
		strings.Compare(a.RunID, b.RunID),
		strings.Compare(a.SourceArtifact, b.SourceArtifact),
		cmp.Compare(a.seq, b.seq),
		strings.Compare(a.ToolName, b.ToolName),
	)
}

// classWords are the verbs that name a tool's class, matched against the
// words of its name; built on first use, not when gait starts.
var classWords = sync.OnceValue(func() [3]map[string]bool {
	return [3]map[string]bool{
		words("delete del remove rm rmdir unlink drop truncate destroy purge wipe erase kill terminate revoke uninstall reset format shred"),
		words("write create update put post patch insert upsert save set append edit modify move rename copy upload send email mail publish push commit merge deploy transfer pay refund charge invite share grant approve submit"),
		words("read get list fetch search query find lookup view show describe cat head stat download inspect browse scan count check"),
	}
})

func words(s string) map[string]bool {
	m := map[string]bool{}
	for w := range strings.FieldsSeq(s) {
		m[w] = true
	}
	return m
}

// ToolClass classifies a tool by the verbs in its name: destructive (delete,
// drop, ...), write (writes and egress: write, post, send, ...), read (read,
// fetch, search, ...), and execute for anything else, so an unknown tool
// ranks above a read.
func ToolClass(toolName string) string {
	ws := nameWords(toolName)
	for _, set := range []struct {
		words map[string]bool
		class string
	}{{classWords()[0], ClassDestructive}, {classWords()[1], ClassWrite}, {classWords()[2], ClassRead}} {
		if slices.ContainsFunc(ws, func(w string) bool { return set.words[w] }) {
			return set.class
		}
	}
	return ClassExecute
}

// NameWords splits a tool name into lowercase words at punctuation and
// camelCase boundaries, the words ToolClass looks at.
func NameWords(name string) []string { return nameWords(name) }

// nameWords splits a tool name at punctuation and camelCase boundaries.
func nameWords(name string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	prevLower := false
	for _, r := range name {
		switch {
		case unicode.IsUpper(r):
			if prevLower {
				flush()
			}
			cur = append(cur, r)
			prevLower = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur = append(cur, r)
			prevLower = true
		default:
			flush()
			prevLower = false
		}
	}
	flush()
	return out
}

// EncodeTop returns the report as compact JSON with no trailing newline,
// the form the file is written in.
func EncodeTop(rep *TopReport) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// WriteTop writes the report to path, atomically.
func WriteTop(path string, rep *TopReport) error {
	data, err := EncodeTop(rep)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o644)
}

// TopText renders the ranked actions as an aligned table.
func TopText(w io.Writer, rep *TopReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RANK\tSCORE\tCLASS\tBLAST\tVERDICT\tTOOL\tRUN\tSOURCE")
	for _, a := range rep.TopActions {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%s\t%s\t%s\t%s\n", a.Rank, a.Score, a.ToolClass, a.BlastRadius,
			cmp.Or(a.Verdict, "-"), a.ToolName, a.RunID, a.SourceArtifact)
	}
	return tw.Flush()
}
