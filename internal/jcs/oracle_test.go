package jcs

// The token-based canonicalizer this package used first: slower, but built
// on encoding/json's decoder, so it serves as an oracle for the fast parser.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Canonicalize returns the canonical form of the JSON document in data.
// Duplicate object keys and trailing data are rejected.
func oracleCanonicalize(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := oracleDecode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("jcs: trailing data after JSON value")
	}
	var buf bytes.Buffer
	buf.Grow(len(data))
	if err := oracleEncode(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type oracleMember struct {
	key string
	val any
}

// decodeValue reads one value token by token so duplicate keys are seen.
func oracleDecode(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("jcs: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			var members []oracleMember
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("jcs: %w", err)
				}
				key, ok := kt.(string)
				if !ok {
					return nil, errors.New("jcs: object key is not a string")
				}
				if seen[key] {
					return nil, fmt.Errorf("jcs: duplicate object key %q", key)
				}
				seen[key] = true
				val, err := oracleDecode(dec)
				if err != nil {
					return nil, err
				}
				members = append(members, oracleMember{key, val})
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("jcs: %w", err)
			}
			return members, nil
		case '[':
			arr := []any{}
			for dec.More() {
				val, err := oracleDecode(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, val)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("jcs: %w", err)
			}
			return arr, nil
		}
		return nil, fmt.Errorf("jcs: unexpected delimiter %q", t)
	default:
		return t, nil
	}
}

func oracleEncode(buf *bytes.Buffer, v any) error {
	switch t := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		if t {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case string:
		WriteString(buf, t)
	case json.Number:
		s, err := oracleFormatNumber(string(t))
		if err != nil {
			return err
		}
		buf.WriteString(s)
	case []any:
		buf.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := oracleEncode(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case []oracleMember:
		slices.SortFunc(t, func(a, b oracleMember) int { return compareUTF16(a.key, b.key) })
		buf.WriteByte('{')
		for i, m := range t {
			if i > 0 {
				buf.WriteByte(',')
			}
			WriteString(buf, m.key)
			buf.WriteByte(':')
			if err := oracleEncode(buf, m.val); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	default:
		return fmt.Errorf("jcs: unsupported value %T", v)
	}
	return nil
}

// FuzzAgainstOracle: the fast parser and the oracle agree on what is valid
// JSON and on its canonical form.
func FuzzAgainstOracle(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1.5,"x",{"z":null}]}`, `"\u00e9\ud83d\ude00"`, `[1e21,-0.0,0.1,123456789012345678]`, `{"\ud83d\ude00":{},"a":"\"\\\/"}`, `"\ud800x"`, "[\"\xff\"]", `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Canonicalize(data)
		want, oerr := oracleCanonicalize(data)
		if (err == nil) != (oerr == nil) {
			t.Fatalf("validity differs on %q: fast %v, oracle %v", data, err, oerr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("output differs on %q:\nfast   %s\noracle %s", data, got, want)
		}
	})
}

var _ = json.Number("")
var _ = errors.New
var _ = fmt.Sprint
var _ = io.EOF
var _ = slices.Sort[[]int]

// oracleFormatNumber is the string-based ECMAScript number formatting the
// package used first, kept to check appendFloat.
func oracleFormatNumber(lit string) (string, error) {
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "", fmt.Errorf("jcs: number %s is not representable as an IEEE 754 double", lit)
	}
	if f == 0 {
		return "0", nil
	}
	neg := f < 0
	if neg {
		f = -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expStr, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expStr)
	n := exp + 1
	k := len(digits)
	var out string
	switch {
	case k <= n && n <= 21:
		out = digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		out = digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		out = "0." + strings.Repeat("0", -n) + digits
	default:
		sign := "+"
		if n-1 < 0 {
			sign = "-"
		}
		m := digits[:1]
		if k > 1 {
			m += "." + digits[1:]
		}
		out = m + "e" + sign + strconv.Itoa(abs(n-1))
	}
	if neg {
		out = "-" + out
	}
	return out, nil
}
