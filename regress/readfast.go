package regress

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// decodeGrader decodes one grader of a result document. Graders as gait
// writes them (known keys, strings without escapes) are read by hand from
// their bytes; anything else goes through encoding/json, so both give the
// same result and the same errors.
func decodeGrader(dec *json.Decoder, g *docGraderIn) error {
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	if parseGrader(raw, g) {
		return nil
	}
	*g = docGraderIn{}
	strict := json.NewDecoder(bytes.NewReader(raw))
	strict.DisallowUnknownFields()
	return strict.Decode(g)
}

// graderCursor reads a grader's JSON, known to be valid (the decoder has
// checked it).
type graderCursor struct {
	b []byte
	i int
}

func (c *graderCursor) ws() {
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ' ', '\t', '\r', '\n':
			c.i++
		default:
			return
		}
	}
}

// next skips white space and consumes ch when it comes next.
func (c *graderCursor) next(ch byte) bool {
	c.ws()
	if c.i < len(c.b) && c.b[c.i] == ch {
		c.i++
		return true
	}
	return false
}

// str reads a string without escapes holding valid UTF-8.
func (c *graderCursor) str() ([]byte, bool) {
	if !c.next('"') {
		return nil, false
	}
	end := bytes.IndexByte(c.b[c.i:], '"')
	if end < 0 {
		return nil, false
	}
	s := c.b[c.i : c.i+end]
	if bytes.IndexByte(s, '\\') >= 0 || !utf8.Valid(s) {
		return nil, false
	}
	c.i += end + 1
	return s, true
}

// value skips one value and returns its bytes.
func (c *graderCursor) value() ([]byte, bool) {
	c.ws()
	start, depth := c.i, 0
	for c.i < len(c.b) {
		switch ch := c.b[c.i]; ch {
		case '"':
			c.i++
			for c.i < len(c.b) && c.b[c.i] != '"' {
				if c.b[c.i] == '\\' {
					c.i++
				}
				c.i++
			}
			c.i++
		case '{', '[':
			depth++
			c.i++
		case '}', ']':
			if depth == 0 {
				return c.b[start:c.i], c.i > start
			}
			depth--
			c.i++
		case ',', ' ', '\t', '\r', '\n':
			if depth == 0 {
				return c.b[start:c.i], c.i > start
			}
			c.i++
		default:
			c.i++
		}
		if depth == 0 && c.i > start && (c.b[start] == '"' || c.b[start] == '{' || c.b[start] == '[') {
			return c.b[start:c.i], true
		}
	}
	return c.b[start:c.i], c.i > start
}

// text interns the common values.
func text(b []byte) string {
	switch string(b) {
	case StatusPass:
		return StatusPass
	case StatusFail:
		return StatusFail
	}
	return string(b)
}

// parseGrader reads raw into g when it is a grader as gait writes it; it
// reports false for anything it leaves to encoding/json.
func parseGrader(raw []byte, g *docGraderIn) bool {
	c := &graderCursor{b: raw}
	if !c.next('{') {
		return false
	}
	if c.next('}') {
		return c.end()
	}
	for {
		key, ok := c.str()
		if !ok || !c.next(':') {
			return false
		}
		switch string(key) {
		case "name", "status", "context_conformance":
			v, ok := c.str()
			if !ok {
				return false
			}
			switch string(key) {
			case "name":
				g.Name = string(v)
			case "status":
				g.Status = text(v)
			default:
				g.ContextConformance = string(v)
			}
		case "reason_codes":
			if !c.next('[') {
				return false
			}
			g.ReasonCodes = []string{}
			if !c.next(']') {
				for {
					v, ok := c.str()
					if !ok {
						return false
					}
					g.ReasonCodes = append(g.ReasonCodes, string(v))
					if c.next(']') {
						break
					}
					if !c.next(',') {
						return false
					}
				}
			}
		case "details":
			if !c.next('{') {
				return false
			}
			// An earlier "details" keeps its keys, as encoding/json does.
			if g.details == nil {
				g.details = make([]rawPair, 0, 8)
			}
			if !c.next('}') {
				for {
					k, ok := c.str()
					if !ok || !c.next(':') {
						return false
					}
					v, ok := c.value()
					if !ok {
						return false
					}
					g.setDetail(k, v)
					if c.next('}') {
						break
					}
					if !c.next(',') {
						return false
					}
				}
			}
		default:
			return false
		}
		if c.next('}') {
			return c.end()
		}
		if !c.next(',') {
			return false
		}
	}
}

// end reports whether nothing but white space is left.
func (c *graderCursor) end() bool {
	c.ws()
	return c.i == len(c.b)
}

// setDetail sets details key k, replacing an earlier value of the same
// key as a map would.
func (g *docGraderIn) setDetail(k []byte, v json.RawMessage) {
	for i := range g.details {
		if g.details[i].key == string(k) {
			g.details[i].raw = v
			return
		}
	}
	g.details = append(g.details, rawPair{key: string(k), raw: v})
}
