package scout

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/gait-dev/gait/internal/capped"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/regress"
)

// MaxTraceBytes bounds a gate trace that scout signal reads. A trace is a
// few KiB; one with many script steps stays well under this.
const MaxTraceBytes = 4 << 20

// traceSchemaID is the schema of the gate traces scout signal reads.
const traceSchemaID = "gait.gate.trace"

// traceSignal is what scout signal takes from a gate trace: the run it
// belongs to (its correlation_id or trace_id) and what the gate answered.
type traceSignal struct {
	SchemaID      string   `json:"schema_id"`
	SchemaVersion string   `json:"schema_version"`
	TraceID       string   `json:"trace_id"`
	CorrelationID string   `json:"correlation_id"`
	Verdict       string   `json:"verdict"`
	Violations    []string `json:"violations"`
}

// readTrace reads the gate trace at path, at most MaxTraceBytes of it.
func readTrace(path string) (traceSignal, error) {
	data, err := capped.ReadFile(path, MaxTraceBytes)
	if err != nil {
		if errors.Is(err, capped.ErrTooLarge) {
			return traceSignal{}, exitcode.Invalidf("%s: gate trace is larger than %d MiB; pass a trace written by `gait gate eval --trace-out`", path, MaxTraceBytes>>20)
		}
		return traceSignal{}, exitcode.Invalidf("%s: cannot read the gate trace: %v; pass a trace written by `gait gate eval --trace-out`", path, unwrapPath(err))
	}
	tr, err := parseTrace(data)
	if err != nil {
		return traceSignal{}, exitcode.Invalidf("%s: %v; pass a trace written by `gait gate eval --trace-out`", path, err)
	}
	return tr, nil
}

// parseTrace decodes one gate trace: a single JSON object whose schema_id
// is gait.gate.trace (major version 1), with string ids and verdict and a
// list of string violations. Other fields are not read.
func parseTrace(data []byte) (traceSignal, error) {
	var tr traceSignal
	if err := decodeOneObject(data, &tr); err != nil {
		return tr, err
	}
	switch {
	case tr.SchemaID != traceSchemaID:
		return tr, fmt.Errorf("schema_id is %q, not %s", tr.SchemaID, traceSchemaID)
	case tr.SchemaVersion != "" && !strings.HasPrefix(tr.SchemaVersion, "1."):
		return tr, fmt.Errorf("schema_version %q has an unknown major version (this gait reads 1.x)", tr.SchemaVersion)
	}
	return tr, nil
}

// decodeOneObject decodes data, which must hold exactly one JSON object,
// into v.
func decodeOneObject(data []byte, v any) error {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("malformed JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("malformed JSON: more than one value")
	}
	return nil
}

// unwrapPath drops the path an *fs.PathError repeats.
func unwrapPath(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// codes returns the reason codes a trace adds to its run: the verdict
// (trace_verdict_<verdict>) unless it allowed, and each violation
// (violation_<violation>).
func (tr traceSignal) codes() []string {
	var out []string
	if v := signalCode(tr.Verdict); v != "allow" {
		out = append(out, "trace_verdict_"+v)
	}
	for _, v := range tr.Violations {
		out = append(out, "violation_"+signalCode(v))
	}
	return out
}

// runIDPattern finds a run id inside a trace's correlation_id or trace_id.
var runIDPattern = regexp.MustCompile(`run_[A-Za-z0-9_-]+`)

// runFor returns the id of the run a trace belongs to and whether it is
// one of runs: the first run id (run_ and letters, digits, _ or -) in its
// correlation_id, else in its trace_id.
func (tr traceSignal) runFor(runs map[string]bool) (string, bool) {
	for _, id := range []string{tr.CorrelationID, tr.TraceID} {
		if run := runIDPattern.FindString(id); run != "" {
			return run, runs[run]
		}
	}
	return "", false
}

// regressFailure is the reason code of a failing grader that names none.
const regressFailure = "regress_failure"

// regressCodes reads the regress result document at path (as `gait action
// comment` reads it: at most regress.MaxResultBytes, checked against v1's
// schema) and returns its failing graders' reason codes by run; see
// failureCodes.
func regressCodes(path string) (map[string][]string, error) {
	rep, err := regress.ReadResultFile(path)
	if err != nil {
		return nil, err
	}
	return failureCodes(rep), nil
}

// failureCodes returns, by run id, the reason codes of a regress report's
// failing graders (regress_failure for a failing grader without one). A
// fixture's run is its details.run_id, or its name when it has none.
func failureCodes(rep *regress.Report) map[string][]string {
	out := map[string][]string{}
	for _, f := range rep.Fixtures {
		run := strings.TrimSpace(f.RunID)
		if run == "" {
			run = strings.TrimSpace(f.Name)
		}
		for _, g := range f.Graders {
			if g.Status == regress.StatusPass {
				continue
			}
			if len(g.ReasonCodes) == 0 {
				out[run] = append(out[run], regressFailure)
			}
			for _, c := range g.ReasonCodes {
				out[run] = append(out[run], signalCode(c))
			}
		}
	}
	return out
}

// signalCode is s as a reason-code word: lower case, every character other
// than a-z and 0-9 made _, leading and trailing _ dropped. A value with no
// letter or digit becomes the first 16 hex digits of the SHA-256 of its
// trimmed, lower-case form, so it still counts and stays distinct.
func signalCode(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if c := normalizeIdentifier(s); c != "" {
		return c
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}
