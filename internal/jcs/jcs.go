// Package jcs writes RFC 8785 (JSON Canonicalization Scheme) canonical JSON:
// object keys sorted by UTF-16 code units, no insignificant whitespace,
// minimal string escaping and ECMAScript number formatting. Digests of Gait
// documents are SHA-256 over these bytes.
package jcs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// Canonicalize returns the canonical form of the JSON document in data.
// Duplicate object keys, trailing data and nesting deeper than 10,000
// levels are rejected. Invalid UTF-8 in strings becomes U+FFFD, as
// encoding/json decodes it.
func Canonicalize(data []byte) ([]byte, error) {
	return AppendCanonical(make([]byte, 0, len(data)), data)
}

// AppendCanonical appends the canonical form of the JSON document in data
// to dst, with Canonicalize's rules.
func AppendCanonical(dst, data []byte) ([]byte, error) {
	p := parsers.Get().(*parser)
	defer p.release()
	p.data, p.pos = data, 0
	p.skipSpace()
	out, err := p.value(dst, 0, 0)
	if err != nil {
		return dst, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return dst, errors.New("jcs: trailing data after JSON value")
	}
	return out, nil
}

// Marshal returns the canonical form of v as encoding/json would encode it.
func Marshal(v any) ([]byte, error) {
	return Append(nil, v)
}

// Append appends the canonical form of v, as encoding/json would encode
// it, to dst. The JSON shapes of decoded documents (maps, slices, strings,
// json.Number, float64, bool, nil, json.RawMessage) are written directly;
// other values go through encoding/json first.
func Append(dst []byte, v any) ([]byte, error) {
	p := parsers.Get().(*parser)
	defer p.release()
	return p.encode(dst, v, 0, 0)
}

const maxDepth = 10000

var parsers = sync.Pool{New: func() any { return new(parser) }}

// parser is a single-pass validating canonicalizer over a byte slice. The
// scratch buffers are kept per object nesting level: sibling objects reuse
// them, so a document costs no allocations once the pool is warm.
type parser struct {
	data    []byte
	pos     int
	scratch [][]byte
	members [][]member
	keys    [][]string
	str     []byte
}

// release returns the parser to the pool unless a huge document grew its
// buffers.
func (p *parser) release() {
	p.data = nil
	size := cap(p.str)
	for _, s := range p.scratch {
		size += cap(s)
	}
	if size > 1<<20 || len(p.scratch) > 64 {
		return
	}
	for i := range p.members {
		clear(p.members[i][:cap(p.members[i])])
	}
	for i := range p.keys {
		clear(p.keys[i][:cap(p.keys[i])])
	}
	parsers.Put(p)
}

// level returns the scratch buffers of one object nesting level.
func (p *parser) level(l int) ([]byte, []member) {
	for len(p.scratch) <= l {
		p.scratch = append(p.scratch, nil)
		p.members = append(p.members, nil)
	}
	return p.scratch[l][:0], p.members[l][:0]
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("jcs: offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(out []byte, depth, level int) ([]byte, error) {
	if depth > maxDepth {
		return out, p.errorf("nesting too deep")
	}
	if p.pos >= len(p.data) {
		return out, p.errorf("unexpected end of JSON input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(out, depth, level)
	case c == '[':
		return p.array(out, depth, level)
	case c == '"':
		start := p.pos
		s, raw, err := p.string()
		if err != nil {
			return out, err
		}
		if raw {
			// No escapes and valid UTF-8: the literal is already canonical.
			return append(out, p.data[start:p.pos]...), nil
		}
		return appendString(out, s), nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number(out)
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(p.data)-p.pos >= len(lit) && string(p.data[p.pos:p.pos+len(lit)]) == lit {
				p.pos += len(lit)
				return append(out, lit...), nil
			}
		}
		return out, p.errorf("invalid character %q looking for a value", c)
	}
}

type member struct {
	key        []byte
	start, end int // the canonical value in the level's scratch buffer
}

func (p *parser) object(out []byte, depth, level int) ([]byte, error) {
	p.pos++ // {
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return append(out, "{}"...), nil
	}
	scratch, members := p.level(level)
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return out, p.errorf("object key is not a string")
		}
		start := p.pos
		s, raw, err := p.string()
		if err != nil {
			return out, err
		}
		key := p.data[start+1 : p.pos-1]
		if !raw {
			key = bytes.Clone(s) // decoded keys outlive the string buffer
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return out, p.errorf("missing ':' after object key")
		}
		p.pos++
		p.skipSpace()
		vstart := len(scratch)
		if scratch, err = p.value(scratch, depth+1, level+1); err != nil {
			return out, err
		}
		members = append(members, member{key, vstart, len(scratch)})
		p.skipSpace()
		if p.pos >= len(p.data) {
			return out, p.errorf("unexpected end of JSON input in object")
		}
		if p.data[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.data[p.pos] != '}' {
			return out, p.errorf("invalid character %q after object member", p.data[p.pos])
		}
		p.pos++
		break
	}
	p.scratch[level], p.members[level] = scratch, members
	slices.SortStableFunc(members, func(a, b member) int { return compareUTF16(a.key, b.key) })
	for i := 1; i < len(members); i++ {
		if bytes.Equal(members[i].key, members[i-1].key) {
			return out, fmt.Errorf("jcs: duplicate object key %q", members[i].key)
		}
	}
	out = append(out, '{')
	for i, m := range members {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendString(out, m.key)
		out = append(out, ':')
		out = append(out, scratch[m.start:m.end]...)
	}
	return append(out, '}'), nil
}

func (p *parser) array(out []byte, depth, level int) ([]byte, error) {
	p.pos++ // [
	out = append(out, '[')
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return append(out, ']'), nil
	}
	for i := 0; ; i++ {
		if i > 0 {
			out = append(out, ',')
		}
		p.skipSpace()
		var err error
		if out, err = p.value(out, depth+1, level); err != nil {
			return out, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return out, p.errorf("unexpected end of JSON input in array")
		}
		if p.data[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.data[p.pos] != ']' {
			return out, p.errorf("invalid character %q after array element", p.data[p.pos])
		}
		p.pos++
		return append(out, ']'), nil
	}
}

// string reads a JSON string at p.pos. raw reports that the literal has no
// escapes and is valid UTF-8, so its bytes are the value; otherwise the
// decoded value is returned (in a buffer reused by the next call).
func (p *parser) string() (s []byte, raw bool, err error) {
	p.pos++ // opening quote
	start := p.pos
	// Fast path: no escapes, valid UTF-8.
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '"' {
			s := p.data[start:p.pos]
			p.pos++
			if utf8.Valid(s) {
				return s, true, nil
			}
			p.str = fixUTF8(p.str[:0], s)
			return p.str, false, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return nil, false, p.errorf("control character in string")
		}
		p.pos++
	}
	b := append(p.str[:0], p.data[start:p.pos]...)
	defer func() { p.str = b[:0] }()
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			if !utf8.Valid(b) {
				b = fixUTF8(nil, b)
			}
			return b, false, nil
		case c < 0x20:
			return nil, false, p.errorf("control character in string")
		case c != '\\':
			b = append(b, c)
			p.pos++
			continue
		}
		if p.pos+1 >= len(p.data) {
			break
		}
		esc := p.data[p.pos+1]
		p.pos += 2
		switch esc {
		case '"', '\\', '/':
			b = append(b, esc)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return nil, false, p.errorf("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				var r2 rune
				if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
					save := p.pos
					p.pos += 2
					var ok2 bool
					if r2, ok2 = p.hex4(); !ok2 {
						return nil, false, p.errorf("invalid \\u escape")
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b = utf8.AppendRune(b, dec)
						continue
					}
					p.pos = save
				}
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
		default:
			return nil, false, p.errorf("invalid escape \\%c", esc)
		}
	}
	return nil, false, p.errorf("unterminated string")
}

// fixUTF8 appends s to dst with each invalid byte replaced by U+FFFD, as
// encoding/json does.
func fixUTF8[T string | []byte](dst []byte, s T) []byte {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

func (p *parser) hex4() (rune, bool) {
	if p.pos+4 > len(p.data) {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.pos += 4
	return r, true
}

// number validates a JSON number and writes its canonical form.
func (p *parser) number(out []byte) ([]byte, error) {
	end, ok := scanNumber(p.data[p.pos:])
	if !ok {
		p.pos += end
		return out, p.errorf("invalid number")
	}
	lit := p.data[p.pos : p.pos+end]
	p.pos += end
	return appendNumber(out, lit)
}

// scanNumber returns the length of the JSON number at the start of b and
// whether it is well formed.
func scanNumber[T string | []byte](b T) (int, bool) {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	intStart := i
	n := digits()
	if n == 0 || (n > 1 && b[intStart] == '0') {
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return i, false
		}
	}
	return i, true
}

// appendNumber appends the canonical form of a well-formed JSON number.
// Integers of up to 15 digits are already canonical and are copied.
func appendNumber[T string | []byte](out []byte, lit T) ([]byte, error) {
	if len(lit) <= 16 && string(lit) != "-0" {
		integer := true
		for i := 0; i < len(lit); i++ {
			if c := lit[i]; c < '0' || c > '9' {
				if i == 0 && c == '-' && len(lit) > 1 {
					continue
				}
				integer = false
				break
			}
		}
		if integer && (len(lit) <= 15 || lit[0] == '-') {
			return append(out, lit...), nil
		}
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return out, fmt.Errorf("jcs: number %s is not representable as an IEEE 754 double", lit)
	}
	return appendFloat(out, f), nil
}

// compareUTF16 orders strings by their UTF-16 code units, as RFC 8785 requires.
func compareUTF16[T string | []byte](a, b T) int {
	if isASCII(a) && isASCII(b) {
		for i := 0; i < min(len(a), len(b)); i++ {
			if a[i] != b[i] {
				return int(a[i]) - int(b[i])
			}
		}
		return len(a) - len(b)
	}
	ua, ub := utf16.Encode([]rune(string(a))), utf16.Encode([]rune(string(b)))
	return slices.Compare(ua, ub)
}

func isASCII[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// WriteString appends s as a canonical JSON string, invalid UTF-8 written
// as U+FFFD as encoding/json writes it.
func WriteString(buf *bytes.Buffer, s string) { buf.Write(AppendString(buf.AvailableBuffer(), s)) }

// AppendString appends s to dst as a canonical JSON string, invalid UTF-8
// written as U+FFFD as encoding/json writes it.
func AppendString(dst []byte, s string) []byte {
	if !utf8.ValidString(s) {
		return appendString(dst, fixUTF8(nil, s))
	}
	return appendString(dst, s)
}

func appendString[T string | []byte](dst []byte, s T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue // copied in one run below; UTF-8 passes through unchanged
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, `\"`...)
		case '\\':
			dst = append(dst, `\\`...)
		case '\b':
			dst = append(dst, `\b`...)
		case '\f':
			dst = append(dst, `\f`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		default:
			dst = append(dst, `\u00`...)
			dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendFloat renders a finite double the way ECMAScript's
// Number.prototype.toString does.
func appendFloat(out []byte, f float64) []byte {
	if f == 0 {
		return append(out, '0')
	}
	if f < 0 {
		out = append(out, '-')
		f = -f
	}
	// Shortest round-trip digits and decimal exponent: f = 0.d1d2... * 10^n.
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	mant, expStr, _ := bytes.Cut(e, []byte("e"))
	var dbuf [24]byte
	digits := append(dbuf[:0], mant[0])
	if len(mant) > 2 {
		digits = append(digits, mant[2:]...)
	}
	exp, _ := strconv.Atoi(string(expStr))
	n := exp + 1
	k := len(digits)
	switch {
	case k <= n && n <= 21:
		out = append(out, digits...)
		for range n - k {
			out = append(out, '0')
		}
	case 0 < n && n <= 21:
		out = append(out, digits[:n]...)
		out = append(out, '.')
		out = append(out, digits[n:]...)
	case -6 < n && n <= 0:
		out = append(out, "0."...)
		for range -n {
			out = append(out, '0')
		}
		out = append(out, digits...)
	default:
		out = append(out, digits[0])
		if k > 1 {
			out = append(out, '.')
			out = append(out, digits[1:]...)
		}
		out = append(out, 'e')
		if n-1 < 0 {
			out = append(out, '-')
		} else {
			out = append(out, '+')
		}
		out = strconv.AppendInt(out, int64(abs(n-1)), 10)
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// encode appends the canonical form of v, with encoding/json's meaning.
func (p *parser) encode(out []byte, v any, depth, level int) ([]byte, error) {
	if depth > maxDepth {
		return out, errors.New("jcs: value nested too deeply")
	}
	switch t := v.(type) {
	case nil:
		return append(out, "null"...), nil
	case bool:
		return strconv.AppendBool(out, t), nil
	case string:
		return AppendString(out, t), nil
	case json.Number:
		if t == "" {
			return append(out, '0'), nil // as encoding/json writes an empty Number
		}
		if end, ok := scanNumber(string(t)); !ok || end != len(t) {
			return out, fmt.Errorf("jcs: invalid number literal %q", string(t))
		}
		return appendNumber(out, string(t))
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return out, fmt.Errorf("jcs: unsupported value %v", t)
		}
		return appendFloat(out, t), nil
	case int:
		return appendNumber(out, strconv.AppendInt(nil, int64(t), 10))
	case int64:
		return appendNumber(out, strconv.AppendInt(nil, t, 10))
	case json.RawMessage:
		if t == nil {
			return append(out, "null"...), nil
		}
		return AppendCanonical(out, t)
	case []any:
		if t == nil {
			return append(out, "null"...), nil
		}
		out = append(out, '[')
		for i, x := range t {
			if i > 0 {
				out = append(out, ',')
			}
			var err error
			if out, err = p.encode(out, x, depth+1, level); err != nil {
				return out, err
			}
		}
		return append(out, ']'), nil
	case []string:
		if t == nil {
			return append(out, "null"...), nil
		}
		out = append(out, '[')
		for i, x := range t {
			if i > 0 {
				out = append(out, ',')
			}
			out, _ = p.encode(out, x, depth+1, level)
		}
		return append(out, ']'), nil
	case map[string]any:
		if t == nil {
			return append(out, "null"...), nil
		}
		return encodeMap(p, out, t, depth, level)
	case map[string]string:
		if t == nil {
			return append(out, "null"...), nil
		}
		return encodeMap(p, out, t, depth, level)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return out, err
	}
	return AppendCanonical(out, raw)
}

func encodeMap[V any](p *parser, out []byte, m map[string]V, depth, level int) ([]byte, error) {
	if len(m) == 0 {
		return append(out, "{}"...), nil
	}
	for len(p.keys) <= level {
		p.keys = append(p.keys, nil)
	}
	keys := p.keys[level][:0]
	for k := range m {
		keys = append(keys, k)
	}
	p.keys[level] = keys
	slices.SortFunc(keys, compareUTF16)
	fixed := false
	for _, k := range keys {
		if !utf8.ValidString(k) {
			fixed = true
		}
	}
	if fixed {
		// encoding/json writes invalid UTF-8 in keys as U+FFFD, which can
		// make two keys equal and reorders them: take the general path.
		raw, err := json.Marshal(m)
		if err != nil {
			return out, err
		}
		return AppendCanonical(out, raw)
	}
	out = append(out, '{')
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendString(out, k)
		out = append(out, ':')
		var err error
		if out, err = p.encode(out, m[k], depth+1, level+1); err != nil {
			return out, err
		}
	}
	return append(out, '}'), nil
}
