package digest

import "testing"

func TestDigests(t *testing.T) {
	// The demo runpack's first intent: args {"query":"gait demo: offline verification"}.
	got, err := JSON(map[string]string{"query": "gait demo: offline verification"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "33d148a7de89102bce5e2be136ca2acc3398ff9970a1f922faa3838eae837e3c"; got != want {
		t.Fatalf("JSON digest = %s, want %s", got, want)
	}
	raw, err := RawJSON([]byte(`{ "query" : "gait demo: offline verification" }`))
	if err != nil || raw != got {
		t.Fatalf("RawJSON = %s, %v; want %s", raw, err, got)
	}
	if Bytes(nil) != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatal("empty digest wrong")
	}
	if !Valid(got) || Valid("abc") || Valid(got+"0") {
		t.Fatal("Valid misjudges")
	}
	if b, err := Decode(got); err != nil || len(b) != 32 {
		t.Fatalf("Decode: %v", err)
	}
}
