package mcp

import (
	"bytes"
	"cmp"
	"fmt"
	"strings"

	"github.com/gait-dev/gait/internal/digest"
)

// Match modes: how a candidate's tools/call is matched to a recorded one.
const (
	MatchExact      = "exact"       // tool name and arguments
	MatchIgnoreArgs = "ignore-args" // tool name and arguments, except listed paths
	MatchToolName   = "tool-name"   // tool name only
)

// MatchMode says how a replay matches calls to the recording.
type MatchMode struct {
	Kind   string
	Ignore []Path
}

// String renders the mode as ParseMatch reads it.
func (m MatchMode) String() string {
	if m.Kind != MatchIgnoreArgs {
		return cmp.Or(m.Kind, MatchExact)
	}
	parts := make([]string, len(m.Ignore))
	for i, p := range m.Ignore {
		parts[i] = p.String()
	}
	return MatchIgnoreArgs + ":" + strings.Join(parts, ",")
}

// ParseMatch reads "exact", "tool-name" or "ignore-args:<path>[,<path>…]".
// Empty is exact.
func ParseMatch(s string) (MatchMode, error) {
	kind, rest, _ := strings.Cut(strings.TrimSpace(s), ":")
	switch kind {
	case "", MatchExact:
		return MatchMode{Kind: MatchExact}, nil
	case MatchToolName:
		return MatchMode{Kind: MatchToolName}, nil
	case MatchIgnoreArgs:
		paths, err := ParsePaths([]string{rest})
		if err != nil {
			return MatchMode{}, err
		}
		if len(paths) == 0 {
			return MatchMode{}, fmt.Errorf("match mode %q lists no argument paths; write ignore-args:$.request_id,$.timestamp", s)
		}
		return MatchMode{Kind: MatchIgnoreArgs, Ignore: paths}, nil
	}
	return MatchMode{}, fmt.Errorf("match mode %q is not exact, tool-name or ignore-args:<paths>", s)
}

// Matches reports whether a candidate call (tool, decoded args and their
// canonical bytes) matches a recorded one. recArgs is nil when the recording
// kept only the arguments' digest; then only an exact match by digest is
// possible. A recorded value equal to Redacted matches any value.
func (m MatchMode) Matches(recTool string, recArgs any, recDigest, tool string, args any, canon []byte) bool {
	if recTool != tool {
		return false
	}
	if m.Kind == MatchToolName {
		return true
	}
	if recArgs == nil {
		return m.Kind != MatchIgnoreArgs && recDigest != "" && digest.Bytes(canon) == recDigest
	}
	if m.Kind == MatchIgnoreArgs {
		recArgs, args = clone(recArgs), clone(args)
		drop(recArgs, m.Ignore)
		drop(args, m.Ignore)
	}
	return sameValue(recArgs, args, 0)
}

// View renders args as the grader compares them: canonical JSON with the
// ignored paths removed and the places the recording redacted redacted.
func (m MatchMode) View(args, recArgs any) string {
	v := clone(args)
	if m.Kind == MatchIgnoreArgs {
		drop(v, m.Ignore)
	}
	if recArgs != nil {
		maskLike(v, recArgs, 0)
	}
	return string(canonical(v))
}

// maskLike redacts in v the places rec holds Redacted.
func maskLike(v, rec any, depth int) {
	if depth > maxDepth {
		return
	}
	switch r := rec.(type) {
	case map[string]any:
		t, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, rv := range r {
			if s, ok := rv.(string); ok && s == Redacted {
				if _, has := t[k]; has {
					t[k] = Redacted
				}
				continue
			}
			if x, has := t[k]; has {
				maskLike(x, rv, depth+1)
			}
		}
	case []any:
		t, ok := v.([]any)
		if !ok {
			return
		}
		for i := range min(len(r), len(t)) {
			if s, ok := r[i].(string); ok && s == Redacted {
				t[i] = Redacted
				continue
			}
			maskLike(t[i], r[i], depth+1)
		}
	}
}

func sameValue(rec, got any, depth int) bool {
	if s, ok := rec.(string); ok && s == Redacted {
		return true
	}
	if depth > maxDepth {
		return false
	}
	switch r := rec.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(r) {
			return false
		}
		for k, rv := range r {
			gv, ok := g[k]
			if !ok || !sameValue(rv, gv, depth+1) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(r) {
			return false
		}
		for i := range r {
			if !sameValue(r[i], g[i], depth+1) {
				return false
			}
		}
		return true
	}
	return bytes.Equal(canonical(rec), canonical(got))
}

// clone deep-copies a decoded JSON value.
func clone(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = clone(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = clone(x)
		}
		return out
	}
	return v
}
