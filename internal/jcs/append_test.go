package jcs

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// viaEncodingJSON is what Append must equal: encoding/json's bytes,
// canonicalized.
func viaEncodingJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return Canonicalize(raw)
}

func TestAppendMatchesEncodingJSON(t *testing.T) {
	type point struct {
		X int               `json:"x"`
		Y map[string]string `json:"y,omitempty"`
	}
	values := []any{
		nil, true, false, "", "<&>\u2028", "bad\xffutf8", "\x01\n\"\\",
		json.Number("0"), json.Number("-0"), json.Number(""), json.Number("1.50"), json.Number("1e400x"[:5]),
		json.Number("123456789012345678"), json.Number("-123456789012345"), json.Number("1234567890123456"),
		0.0, math.Copysign(0, -1), 1.5, 1e21, 1e-7, 123456789012345680000.0, 0.1, -3.0,
		7, -7, int64(math.MaxInt64), int64(math.MinInt64), float32(0.1), uint8(3),
		json.RawMessage(nil), json.RawMessage(`{"b":1, "a":[1.0,"x"]}`),
		[]any(nil), []any{}, []any{1.0, "a", nil, map[string]any{"z": 1.0, "a": []any{}}},
		[]string(nil), []string{"b", "a"},
		map[string]any(nil), map[string]any{}, map[string]any{"b": "2", "a": 1.0, "😀": true, "ﬁ": false, "\u00e9": json.Number("2")},
		map[string]any{"a\xff": 1.0, "a\xfe": 2.0}, map[string]any{"k\xff": "v"},
		map[string]string(nil), map[string]string{"y": "1", "x": "2"},
		point{X: 1, Y: map[string]string{"b": "c"}}, &point{}, []point{{X: 2}},
	}
	for _, v := range values {
		got, err := Append(nil, v)
		want, werr := viaEncodingJSON(v)
		if (err == nil) != (werr == nil) {
			t.Errorf("%#v: Append error %v, encoding/json error %v", v, err, werr)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%#v:\nAppend        %s\nencoding/json %s", v, got, want)
		}
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), json.Number("1e400"), json.Number("01"), json.Number("1 "), json.RawMessage(`{"a":`), map[string]any{"x": math.Inf(-1)}} {
		if out, err := Append(nil, bad); err == nil {
			t.Errorf("Append(%#v) = %s, want an error", bad, out)
		}
	}
}

func TestAppendKeepsPrefix(t *testing.T) {
	out, err := Append([]byte("x="), map[string]any{"b": 1.0, "a": 2.0})
	if err != nil || string(out) != `x={"a":2,"b":1}` {
		t.Fatalf("got %s, %v", out, err)
	}
	out, err = AppendCanonical([]byte("y="), []byte(` [ 1 , "a" ] `))
	if err != nil || string(out) != `y=[1,"a"]` {
		t.Fatalf("got %s, %v", out, err)
	}
}

// FuzzAppendAgainstEncodingJSON: for any document decoded the two ways
// encoding/json decodes (float64 and json.Number), Append writes what
// encoding/json followed by Canonicalize writes.
func FuzzAppendAgainstEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1.5,"x",{"z":null}]}`, `"\u00e9\ud83d\ude00"`, `[1e21,-0.0,0.1,123456789012345678]`, `{"\ud83d\ude00":{},"ﬁ":"\"\\\/"}`, "{\"a\xff\":1,\"a\xfe\":2}", `[true,false,null,""]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var asFloat any
		if json.Unmarshal(data, &asFloat) != nil {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var asNumber any
		if dec.Decode(&asNumber) != nil {
			return
		}
		for _, v := range []any{asFloat, asNumber} {
			got, err := Append(nil, v)
			want, werr := viaEncodingJSON(v)
			if (err == nil) != (werr == nil) {
				t.Fatalf("%q: Append error %v, encoding/json error %v", data, err, werr)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%q:\nAppend        %s\nencoding/json %s", data, got, want)
			}
		}
	})
}

func BenchmarkCanonicalize(b *testing.B) {
	doc := []byte(`{"tool_name":"tool.write","args":{"path":"/tmp/out.txt","content":"hello","n":3,"opts":{"force":true,"tags":["a","b"]}},"targets":[{"kind":"path","value":"/tmp/out.txt","operation":"write"}],"context":{"identity":"example-user","workspace":"/tmp/workspace","risk_class":"low"}}`)
	b.ReportAllocs()
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		var err error
		if buf, err = AppendCanonical(buf[:0], doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendArgs(b *testing.B) {
	args := map[string]any{"path": "/tmp/out.txt", "content": "hello", "n": json.Number("3"), "opts": map[string]any{"force": true, "tags": []any{"a", "b"}}}
	b.ReportAllocs()
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		var err error
		if buf, err = Append(buf[:0], args); err != nil {
			b.Fatal(err)
		}
	}
}
