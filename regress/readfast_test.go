package regress

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
)

// strictGrader is how encoding/json decodes a grader.
func strictGrader(raw []byte) (docGraderIn, error) {
	var g docGraderIn
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(&g)
	return g, err
}

// checkParseGrader fails when parseGrader accepts raw and decodes it other
// than encoding/json does.
func checkParseGrader(t *testing.T, raw []byte) {
	t.Helper()
	if !json.Valid(raw) {
		return // the decoder refuses it before parseGrader sees it
	}
	var fast docGraderIn
	if !parseGrader(raw, &fast) {
		return
	}
	if fast.details != nil {
		// Compare as encoding/json decodes details: a map.
		fast.Details = map[string]json.RawMessage{}
		for _, p := range fast.details {
			fast.Details[p.key] = p.raw
		}
		fast.details = nil
	}
	want, err := strictGrader(raw)
	if err != nil {
		t.Fatalf("parseGrader accepted %q, encoding/json refuses it: %v", raw, err)
	}
	if !reflect.DeepEqual(fast, want) {
		t.Fatalf("parseGrader(%q) = %#v, encoding/json gives %#v", raw, fast, want)
	}
}

var graderSeeds = []string{
	`{"name": "f/diff", "status": "pass", "reason_codes": [], "details": {"a": [1, {"b": "}"}], "c": "x\"y", "d": null, "e": -1.5e3}}`,
	`{"name":"f/g","status":"fail","reason_codes":["x","y"],"context_conformance":"none","details":{}}`,
	`{"name": "f/g", "details": {"a": 1}, "details": {"b": 2}}`,
	`{"Name": "f/g"}`, `{"name": "f\u00e9/g"}`, `{"name": "f/g", "extra": 1}`, `{"reason_codes": null}`, `{}`,
	`{"details": {"k": "v\\"}}`, `{"details": {"message": 1, "message": "x"}}`, `{"details": {"a": 1}, "details": {"a": 2, "b": 3}}`, `{"details": {"k": [ ]  , "l" : { } }}`, `{"name": "\xff"}`,
}

func TestParseGraderMatchesEncodingJSON(t *testing.T) {
	for _, s := range graderSeeds {
		checkParseGrader(t, []byte(s))
	}
	// Every grader of random documents as gait writes them.
	r := rand.New(rand.NewPCG(5, 6))
	fast := 0
	for range 500 {
		var doc bytes.Buffer
		if err := WriteDocument(&doc, randomDocReport(r)); err != nil {
			t.Fatal(err)
		}
		var in struct {
			Graders []json.RawMessage `json:"graders"`
		}
		if err := json.Unmarshal(doc.Bytes(), &in); err != nil {
			t.Fatal(err)
		}
		for _, raw := range in.Graders {
			checkParseGrader(t, raw)
			var g docGraderIn
			if parseGrader(raw, &g) {
				fast++
			}
		}
	}
	if fast == 0 {
		t.Fatal("parseGrader read no grader gait wrote")
	}
}

func FuzzParseGrader(f *testing.F) {
	for _, s := range graderSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkParseGrader(t, raw) })
}
