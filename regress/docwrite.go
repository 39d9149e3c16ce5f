package regress

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/gait-dev/gait/internal/spool"
)

// WriteDocument writes the result document of rep (see Document) as
// `regress run` writes it: indented by two spaces, HTML characters as they
// are, ending in a newline. It writes the bytes encoding/json gives for
// Document, fixture by fixture, without building the document.
func WriteDocument(w io.Writer, rep *Report) error {
	b := appendDocHead(nil, rep)
	written := 0
	for i := range rep.Fixtures {
		b = appendDocFixture(b, &rep.Fixtures[i], written == 0)
		written += len(rep.Fixtures[i].Graders)
		if len(b) > 64<<10 {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	b, err := appendDocTail(b, rep, written == 0)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// appendDocHead is the document up to the opening of its graders array.
func appendDocHead(b []byte, rep *Report) []byte {
	b = append(b, "{\n  \"schema_id\": "...)
	b = appendJSONString(b, SchemaResult)
	b = append(b, ",\n  \"schema_version\": "...)
	b = appendJSONString(b, SchemaVersion)
	b = append(b, ",\n  \"created_at\": "...)
	b = appendJSONString(b, rep.CreatedAt)
	b = append(b, ",\n  \"producer_version\": "...)
	b = appendJSONString(b, rep.ProducerVersion)
	b = append(b, ",\n  \"fixture_set\": "...)
	b = appendJSONString(b, rep.FixtureSet)
	b = append(b, ",\n  \"status\": "...)
	b = appendJSONString(b, rep.Status)
	return append(b, ",\n  \"graders\": ["...)
}

// appendDocTail closes the graders array (empty when no grader was
// written) and the document, with the shard's record when there is one.
func appendDocTail(b []byte, rep *Report, empty bool) ([]byte, error) {
	if !empty {
		b = append(b, "\n  "...)
	}
	b = append(b, ']')
	if rep.Shard != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("  ", "  ")
		if err := enc.Encode(rep.Shard); err != nil {
			return nil, err
		}
		b = append(b, ",\n  \"gait_shard\": "...)
		b = append(b, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...)
	}
	return append(b, "\n}\n"...), nil
}

// appendDocFixture appends the graders of one fixture to the graders array;
// first says no grader precedes them.
func appendDocFixture(b []byte, f *FixtureResult, first bool) []byte {
	var keys []string
	for gi := range f.Graders {
		g := &f.Graders[gi]
		if !first || gi > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    {\n      \"name\": "...)
		b = appendJSONString(b, f.Name+"/"+g.Name)
		b = append(b, ",\n      \"status\": "...)
		b = appendJSONString(b, g.Status)
		b = append(b, ",\n      \"reason_codes\": "...)
		b = appendJSONValue(b, g.ReasonCodes, "      ")
		if g.ContextConformance != "" {
			b = append(b, ",\n      \"context_conformance\": "...)
			b = appendJSONString(b, g.ContextConformance)
		}
		// The details Document builds: the fixture's, the grader's own,
		// then what it adds, later keys replacing earlier ones.
		keys = append(keys[:0], detailFixture, detailRunID)
		if g.Set == SetGait {
			keys = append(keys, detailGraderSet)
		}
		for k := range g.Details {
			keys = append(keys, k)
		}
		if g.Message != "" {
			keys = append(keys, detailMessage)
		}
		if g.Step > 0 {
			keys = append(keys, detailStep)
		}
		if g.Diff != "" {
			keys = append(keys, detailDiff)
		}
		failing := g.Status != StatusPass
		if failing && f.FixtureFile != "" {
			keys = append(keys, detailFixtureFile)
		}
		if failing && f.TicketFooter != "" {
			keys = append(keys, detailTicketFooter)
		}
		slices.Sort(keys)
		keys = slices.Compact(keys)
		b = append(b, ",\n      \"details\": {"...)
		for ki, k := range keys {
			if ki > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n        "...)
			b = appendJSONString(b, k)
			b = append(b, ": "...)
			var v any
			switch {
			case k == detailMessage && g.Message != "":
				v = g.Message
			case k == detailStep && g.Step > 0:
				v = g.Step
			case k == detailDiff && g.Diff != "":
				v = g.Diff
			case k == detailFixtureFile && failing && f.FixtureFile != "":
				v = f.FixtureFile
			case k == detailTicketFooter && failing && f.TicketFooter != "":
				v = f.TicketFooter
			default:
				var ok bool
				if v, ok = g.Details[k]; !ok {
					switch k {
					case detailFixture:
						v = f.Name
					case detailRunID:
						v = f.RunID
					case detailGraderSet:
						v = SetGait
					}
				}
			}
			b = appendJSONValue(b, v, "        ")
		}
		b = append(b, "\n      }\n    }"...)
	}
	return b
}

// appendJSONArray appends list as encoding/json's indented form does, one
// element per line, each written by elem.
func appendJSONArray[T any](b []byte, list []T, indent string, elem func([]byte, T) []byte) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	if len(list) == 0 {
		return append(b, "[]"...)
	}
	b = append(b, '[')
	for i, e := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		b = append(b, indent...)
		b = append(b, "  "...)
		b = elem(b, e)
	}
	b = append(b, '\n')
	b = append(b, indent...)
	return append(b, ']')
}

// appendJSONValue appends v as encoding/json encodes it with
// SetEscapeHTML(false) and SetIndent(indent, "  ") (indent being the
// indentation of the line v starts on). Types other than the ones the
// graders and ReadResult use go through encoding/json.
func appendJSONValue(b []byte, v any, indent string) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case json.RawMessage:
		// What encoding/json does with it: compact, then indent.
		if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
			return append(b, v...) // one string: compacting changes nothing
		}
		if len(v) > 0 && (v[0] != '[' && v[0] != '{' || string(v) == "[]" || string(v) == "{}") && !bytes.ContainsAny(v, " \t\r\n") {
			return append(b, v...)
		}
		bufs := rawBuffers.Get().(*[2]bytes.Buffer)
		defer rawBuffers.Put(bufs)
		c, ind := &bufs[0], &bufs[1]
		c.Reset()
		ind.Reset()
		if json.Compact(c, v) != nil || json.Indent(ind, c.Bytes(), indent, "  ") != nil {
			return append(b, "null"...)
		}
		return append(b, ind.Bytes()...)
	case string:
		return appendJSONString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e21 && !math.IsInf(v, 0) {
			return strconv.AppendFloat(b, v, 'f', -1, 64)
		}
	case []string:
		return appendJSONArray(b, v, indent, func(b []byte, s string) []byte { return appendJSONString(b, s) })
	case []any:
		return appendJSONArray(b, v, indent, func(b []byte, e any) []byte { return appendJSONValue(b, e, indent+"  ") })
	case map[string]any:
		if v == nil {
			return append(b, "null"...)
		}
		if len(v) == 0 {
			return append(b, "{}"...)
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '\n')
			b = append(b, indent...)
			b = append(b, "  "...)
			b = appendJSONString(b, k)
			b = append(b, ": "...)
			b = appendJSONValue(b, v[k], indent+"  ")
		}
		b = append(b, '\n')
		b = append(b, indent...)
		return append(b, '}')
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(indent, "  ")
	if err := enc.Encode(v); err != nil {
		// Values graders record always encode; keep the document valid.
		return append(b, "null"...)
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...)
}

// rawBuffers are the scratch buffers of re-indenting JSON text.
var rawBuffers = sync.Pool{New: func() any { return new([2]bytes.Buffer) }}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json quotes it without
// HTML escaping: invalid UTF-8 becomes U+FFFD, U+2028 and U+2029 are
// escaped for JavaScript.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// DocumentStream writes a result document fixture by fixture: graders go to
// a spool as fixtures are added, and Finish writes the document, whose
// head (status, created_at) is known only at the end.
type DocumentStream struct {
	spool   *spool.File
	buf     []byte
	written int // graders written
}

// NewDocumentStream spools in dir (next to the document, so the spool
// holds no more than the document will).
func NewDocumentStream(dir string) (*DocumentStream, error) {
	s, err := spool.New(dir)
	if err != nil {
		return nil, err
	}
	return &DocumentStream{spool: s}, nil
}

// Add appends the graders of f, the next fixture in name order.
func (d *DocumentStream) Add(f *FixtureResult) error {
	d.buf = appendDocFixture(d.buf[:0], f, d.written == 0)
	d.written += len(f.Graders)
	_, err := d.spool.Write(d.buf)
	return err
}

// Finish writes the document of rep, whose fixtures were added, to w.
func (d *DocumentStream) Finish(w io.Writer, rep *Report) error {
	if _, err := w.Write(appendDocHead(nil, rep)); err != nil {
		return err
	}
	if _, err := d.spool.WriteTo(w); err != nil {
		return err
	}
	tail, err := appendDocTail(nil, rep, d.written == 0)
	if err != nil {
		return err
	}
	_, err = w.Write(tail)
	return err
}

// Close removes the spool.
func (d *DocumentStream) Close() error { return d.spool.Close() }
