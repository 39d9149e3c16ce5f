package guard

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/procgroup"
)

// Wrapper modes: what GAIT_WRAPPER_MODE tells the child.
const (
	ModeTrace   = "trace"   // observe: summarise verdicts
	ModeTest    = "test"    // observe, in a test harness
	ModeEnforce = "enforce" // a non-allow or invalid trace fails the wrapper
)

// WrapOptions describe a child run.
type WrapOptions struct {
	Mode    string
	Command []string // program and arguments; no shell
	Dir     string   // working directory ("" is the current one)
	Timeout time.Duration
	Env     []string // the child's environment before GAIT_WRAPPER_MODE is added
}

// VerdictCount is how many collected traces had a verdict.
type VerdictCount struct {
	Verdict string `json:"verdict"`
	Count   int    `json:"count"`
}

// WrapResult is what a wrapped run produced.
type WrapResult struct {
	OK            bool           `json:"ok"`
	Mode          string         `json:"mode"`
	Command       []string       `json:"command"`
	Cwd           string         `json:"cwd"`
	ChildExitCode int            `json:"child_exit_code"`
	TimedOut      bool           `json:"timed_out,omitempty"`
	DurationMS    int64          `json:"duration_ms"`
	TracePaths    []string       `json:"trace_paths"`
	RunpackPaths  []string       `json:"runpack_paths"`
	VerdictCounts []VerdictCount `json:"verdict_counts"`
	InvalidTraces []string       `json:"invalid_traces,omitempty"`
	FailureReason string         `json:"failure_reason,omitempty"`
	Stdout        string         `json:"stdout"`
	Stderr        string         `json:"stderr"`
}

// Wrap runs a Gait-aware child: no shell, its own process group (killed
// whole on timeout), GAIT_WRAPPER_MODE set. It collects the trace_path= and
// runpack_path= lines the child prints on stdout (relative to Dir), reads
// each trace's verdict and summarises them. The error says how the run
// ends: exit 1 on a timeout; exit 6 when the child cannot start; the
// child's own non-zero exit code; exit 6 when it names no trace; in enforce mode exit 3
// for a block, dry_run or an invalid trace (fail closed) and exit 4 for
// require_approval.
func Wrap(ctx context.Context, opts WrapOptions) (WrapResult, error) {
	res := WrapResult{Mode: opts.Mode, Command: opts.Command, Cwd: cmp.Or(opts.Dir, "."), TracePaths: []string{}, RunpackPaths: []string{}, VerdictCounts: []VerdictCount{}}
	if len(opts.Command) == 0 {
		return res, exitcode.Invalidf("no child command; pass it after --, e.g. gait %s -- python agent.py", opts.Mode)
	}
	if opts.Timeout <= 0 {
		return res, exitcode.Invalidf("--timeout %s is not a positive duration", opts.Timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, opts.Command[0], opts.Command[1:]...)
	cmd.Dir = opts.Dir
	cmd.Env = append(slices.Clone(opts.Env), "GAIT_WRAPPER_MODE="+opts.Mode)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	procgroup.Own(cmd)
	cmd.WaitDelay = 2 * time.Second
	start := time.Now()
	err := cmd.Run()
	res.DurationMS = time.Since(start).Milliseconds()
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	if ctx.Err() == context.DeadlineExceeded {
		res.TimedOut, res.ChildExitCode, res.FailureReason = true, -1, "child_timed_out"
		return res, exitcode.Wrap(exitcode.Internal, fmt.Errorf("child command timed out after %s; raise --timeout or fix the child", opts.Timeout))
	}
	if err != nil {
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			res.ChildExitCode = ee.ExitCode()
		} else {
			res.FailureReason = "child_start_failed"
			return res, exitcode.Invalidf("cannot start %s: %v; check the command after --", opts.Command[0], err)
		}
	}
	counts := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(res.Stdout))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if p, ok := strings.CutPrefix(line, "runpack_path="); ok && p != "" {
			res.RunpackPaths = append(res.RunpackPaths, p)
		}
		p, ok := strings.CutPrefix(line, "trace_path=")
		if !ok || p == "" {
			continue
		}
		res.TracePaths = append(res.TracePaths, p)
		full := p
		if !filepath.IsAbs(p) && opts.Dir != "" {
			full = filepath.Join(opts.Dir, p)
		}
		verdict, err := traceVerdict(full)
		if err != nil {
			res.InvalidTraces = append(res.InvalidTraces, p+": "+err.Error())
			continue
		}
		counts[verdict]++
	}
	for _, v := range slices.Sorted(maps.Keys(counts)) {
		res.VerdictCounts = append(res.VerdictCounts, VerdictCount{v, counts[v]})
	}
	if res.ChildExitCode != 0 {
		res.FailureReason = "child_failed"
		return res, exitcode.Wrap(exitcode.Code(res.ChildExitCode), fmt.Errorf("child command exited %d", res.ChildExitCode))
	}
	if len(res.TracePaths) == 0 {
		res.FailureReason = "missing_trace_reference"
		return res, exitcode.Invalidf("the child printed no trace_path=<file> line; make it print the trace of each gated call (gait gate eval --trace-out)")
	}
	if opts.Mode == ModeEnforce {
		switch {
		case len(res.InvalidTraces) > 0:
			res.FailureReason = "invalid_trace_artifact"
			return res, exitcode.Wrap(exitcode.PolicyBlock, errors.New("the child named an invalid trace ("+res.InvalidTraces[0]+"); enforce fails closed"))
		case counts["block"] > 0 || counts["dry_run"] > 0:
			res.FailureReason = "non_allow_verdict"
			return res, exitcode.Wrap(exitcode.PolicyBlock, errors.New("a collected trace is not allow (block or dry_run); enforce fails"))
		case counts["require_approval"] > 0:
			res.FailureReason = "approval_required"
			return res, exitcode.Wrap(exitcode.ApprovalRequired, errors.New("a collected trace requires approval; enforce fails"))
		}
	}
	res.OK = true
	return res, nil
}

// traceVerdict reads a trace file's verdict.
func traceVerdict(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", unwrapPathErr(err)
	}
	var t struct {
		SchemaID string `json:"schema_id"`
		Verdict  string `json:"verdict"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return "", errors.New("not JSON")
	}
	if t.SchemaID != schemaTrace {
		return "", errors.New("schema_id is not " + schemaTrace)
	}
	switch t.Verdict {
	case "allow", "block", "dry_run", "require_approval":
		return t.Verdict, nil
	}
	return "", errors.New("unknown verdict " + t.Verdict)
}
