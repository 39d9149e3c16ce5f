package jcs

import (
	"bytes"
	"testing"
)

func TestCanonicalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"sorted keys", `{"b":1,"a":2}`, `{"a":2,"b":1}`},
		{"nested and whitespace", "{ \"z\": [ 1 , {\"y\":true,\"x\":null} ], \"a\" : \"s\" }", `{"a":"s","z":[1,{"x":null,"y":true}]}`},
		{"html chars stay literal", `{"a":"<&>"}`, `{"a":"<&>"}`},
		{"control escapes", `"\u0001\n\t\"\\"`, `"\u0001\n\t\"\\"`},
		{"unicode literal", `"\u00e9\u20ac"`, `"é€"`},
		{"utf16 key order", `{"\ud83d\ude00":1,"\ufb01":2}`, `{"😀":1,"ﬁ":2}`},
		{"integers", `[0,-0,1,-1,100,1e3]`, `[0,0,1,-1,100,1000]`},
		{"fractions", `[1.5,0.000001,1e-7,123456789012345680000,1e21,1.0]`, `[1.5,0.000001,1e-7,123456789012345680000,1e+21,1]`},
		{"rfc example numbers", `[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001]`, `[333333333.3333333,1e+30,4.5,0.002,1e-27]`},
		{"empty", `{"a":{},"b":[]}`, `{"a":{},"b":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonicalize([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestCanonicalizeRejects(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a":1,"a":2}`, `{"a":1} x`, `1e400`, `[1,]`} {
		if _, err := Canonicalize([]byte(in)); err == nil {
			t.Errorf("Canonicalize(%q) succeeded, want error", in)
		}
	}
}

func TestMarshal(t *testing.T) {
	got, err := Marshal(map[string]any{"b": "<x>", "a": []int{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":[1,2],"b":"<x>"}`; string(got) != want {
		t.Fatalf("got %s want %s", got, want)
	}
}

func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1.5,"x"]}`, `"\u00e9"`, `[1e21,-0.0]`, `{"\ud83d\ude00":{}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Canonicalize(data)
		if err != nil {
			return
		}
		again, err := Canonicalize(out)
		if err != nil {
			t.Fatalf("canonical output does not parse: %v\n%s", err, out)
		}
		if string(again) != string(out) {
			t.Fatalf("not idempotent:\n%s\n%s", out, again)
		}
	})
}

func TestWriteString(t *testing.T) {
	for _, v := range []string{"<x>", "\b\f", "\u2028", "é", "\x01", `"\`} {
		var buf bytes.Buffer
		WriteString(&buf, v)
		want, _ := Marshal(v)
		if buf.String() != string(want) {
			t.Errorf("WriteString(%q) = %s, want %s", v, buf.String(), want)
		}
	}
}
