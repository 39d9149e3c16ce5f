package mcp

import (
	"fmt"
	"strconv"
	"strings"
)

// Redacted replaces a redacted value in a stored payload. In a recorded
// call it also matches any value the candidate sends at that place.
const Redacted = "[redacted]"

// Path is a parsed JSON path into a tool call's arguments or result:
// "$.a.b", "$.items[*].token", "$.list[0]", "$.*.secret". The leading "$."
// is optional.
type Path struct {
	raw  string
	segs []seg
}

type seg struct {
	key   string
	index int  // >= 0 for [N]
	any   bool // * or [*]
}

// String returns the path as written.
func (p Path) String() string { return p.raw }

// ParsePath parses a JSON path of keys, [N] indexes and * wildcards.
func ParsePath(s string) (Path, error) {
	p := Path{raw: s}
	rest := strings.TrimSpace(s)
	rest = strings.TrimPrefix(rest, "$")
	rest = strings.TrimPrefix(rest, ".")
	if rest == "" {
		return p, fmt.Errorf("JSON path %q names no field; write it like $.card.number", s)
	}
	for rest != "" {
		switch rest[0] {
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return p, fmt.Errorf("JSON path %q: unclosed [", s)
			}
			in := rest[1:end]
			if in == "*" {
				p.segs = append(p.segs, seg{index: -1, any: true})
			} else if n, err := strconv.Atoi(in); err == nil && n >= 0 {
				p.segs = append(p.segs, seg{index: n})
			} else {
				return p, fmt.Errorf("JSON path %q: [%s] is not an index or *", s, in)
			}
			rest = strings.TrimPrefix(rest[end+1:], ".")
		default:
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			key := rest[:end]
			if key == "" {
				return p, fmt.Errorf("JSON path %q has an empty field name", s)
			}
			if key == "*" {
				p.segs = append(p.segs, seg{index: -1, any: true})
			} else {
				p.segs = append(p.segs, seg{key: key, index: -1})
			}
			rest = strings.TrimPrefix(rest[end:], ".")
		}
	}
	return p, nil
}

// ParsePaths parses a list of paths; each entry may hold several separated
// by commas.
func ParsePaths(list []string) ([]Path, error) {
	var out []Path
	for _, item := range list {
		for s := range strings.SplitSeq(item, ",") {
			if strings.TrimSpace(s) == "" {
				continue
			}
			p, err := ParsePath(s)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// apply calls f on the parent container and key/index of every value the
// path reaches in v. f returns the replacement; remove drops the member.
func (p Path) apply(v any, f func(old any) (repl any, remove bool)) {
	walk(v, p.segs, f, 0)
}

const maxDepth = 64

func walk(v any, segs []seg, f func(any) (any, bool), depth int) {
	if len(segs) == 0 || depth > maxDepth {
		return
	}
	s, last := segs[0], len(segs) == 1
	switch t := v.(type) {
	case map[string]any:
		if s.index >= 0 {
			return
		}
		visit := func(k string) {
			if last {
				if repl, remove := f(t[k]); remove {
					delete(t, k)
				} else {
					t[k] = repl
				}
				return
			}
			walk(t[k], segs[1:], f, depth+1)
		}
		if s.any {
			for k := range t {
				visit(k)
			}
		} else if _, ok := t[s.key]; ok {
			visit(s.key)
		}
	case []any:
		if s.key != "" {
			return
		}
		for i := range t {
			if !s.any && i != s.index {
				continue
			}
			if last {
				if repl, remove := f(t[i]); remove {
					t[i] = nil
				} else {
					t[i] = repl
				}
				continue
			}
			walk(t[i], segs[1:], f, depth+1)
		}
	}
}

// redact replaces every value the paths reach in v with Redacted, in place,
// and reports whether anything changed.
func redact(v any, paths []Path) bool {
	changed := false
	for _, p := range paths {
		p.apply(v, func(any) (any, bool) {
			changed = true
			return Redacted, false
		})
	}
	return changed
}

// drop removes every value the paths reach in v, in place.
func drop(v any, paths []Path) {
	for _, p := range paths {
		p.apply(v, func(any) (any, bool) { return nil, true })
	}
}
