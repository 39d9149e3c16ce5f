package pack

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/jcs"
	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/internal/safezip"
)

func build(t testing.TB, rec *RunRecord, opts RecordOptions) []byte {
	t.Helper()
	rp, err := Build(rec, opts)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rp.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeTemp(t testing.TB, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "runpack_x.zip")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSignAndVerify(t *testing.T) {
	pair, _ := keys.Generate()
	other, _ := keys.Generate()
	p := writeTemp(t, build(t, DemoRecord(), RecordOptions{PrivateKey: pair.Private}))
	if res, err := Verify(p, VerifyOptions{PublicKey: pair.Public, RequireSignature: true}); err != nil || res.SignatureKeyID != keys.ID(pair.Public) {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := Verify(p, VerifyOptions{PublicKey: other.Public}); exitcode.Of(err) != exitcode.VerifyFailed {
		t.Fatalf("wrong key accepted: %v", err)
	}
}

func TestDeterministic(t *testing.T) {
	a := build(t, DemoRecord(), RecordOptions{RunID: "run_again"})
	b := build(t, DemoRecord(), RecordOptions{RunID: "run_again"})
	if !bytes.Equal(a, b) {
		t.Fatal("same input gave different bytes")
	}
}

// Any single changed byte makes verify fail, naming what broke.
func TestVerifyDetectsEveryByteFlip(t *testing.T) {
	data := build(t, DemoRecord(), RecordOptions{})
	dir := t.TempDir()
	p := filepath.Join(dir, "runpack.zip")
	for i := range data {
		mut := bytes.Clone(data)
		mut[i] ^= 0x01
		if err := os.WriteFile(p, mut, 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := Verify(p, VerifyOptions{})
		code := exitcode.Of(err)
		if code != exitcode.VerifyFailed && code != exitcode.InvalidInput {
			t.Fatalf("flip at %d: exit %v, %+v", i, code, res)
		}
		if res.Problem == "" {
			t.Fatalf("flip at %d: no problem reported", i)
		}
	}
}

func TestVerifyEntrySetChanges(t *testing.T) {
	rp, _ := Build(DemoRecord(), RecordOptions{})
	files := func(edit func(map[string][]byte)) []byte {
		m := map[string][]byte{}
		for k, v := range rp.files {
			m[k] = v
		}
		edit(m)
		var list []safezip.File
		for k, v := range m {
			list = append(list, safezip.File{Name: k, Data: v})
		}
		b, err := safezip.Bytes(list)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"removed", files(func(m map[string][]byte) { delete(m, FileRefs) }), "refs.json: declared in the manifest but missing"},
		{"added", files(func(m map[string][]byte) { m["extra.txt"] = []byte("x") }), "extra.txt: present in the archive but not declared"},
		{"changed", files(func(m map[string][]byte) { m[FileIntents] = append(m[FileIntents], '\n') }), "intents.jsonl: sha256"},
		{"manifest major", files(func(m map[string][]byte) {
			m[FileManifest] = bytes.Replace(m[FileManifest], []byte(`"schema_version":"1.0.0"`), []byte(`"schema_version":"2.0.0"`), 1)
		}), "unknown major version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(writeTemp(t, tt.data), VerifyOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestBuildRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(*RunRecord)
	}{
		{"bad run id", func(r *RunRecord) { r.Run.RunID = "run/demo" }},
		{"duplicate intent", func(r *RunRecord) { r.Intents[1].IntentID = r.Intents[0].IntentID }},
		{"args not object", func(r *RunRecord) { r.Intents[0].Args = []byte(`[1]`) }},
		{"major version", func(r *RunRecord) { r.Intents[0].SchemaVersion = "2.0.0" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := DemoRecord()
			tt.edit(rec)
			if _, err := Build(rec, RecordOptions{}); exitcode.Of(err) != exitcode.InvalidInput {
				t.Fatalf("err = %v, want invalid input", err)
			}
		})
	}
}

// FuzzParseRunRecord is seeded from testdata/fuzz (the repository's run records).
func FuzzParseRunRecord(f *testing.F) {
	f.Add([]byte(`{"run":{"run_id":"run_x","created_at":"2026-01-01T00:00:00Z"},"intents":[{"intent_id":"i","tool_name":"t","args":{"a":1}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := ParseRunRecord("fuzz.json", data)
		if err != nil {
			return
		}
		rp, err := Build(rec, RecordOptions{})
		if err != nil {
			return
		}
		// Property: a built runpack reads back with the same manifest digest.
		var buf bytes.Buffer
		if err := rp.Write(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := OpenBytes("fuzz.zip", buf.Bytes())
		if err != nil {
			t.Fatalf("built runpack does not read back: %v", err)
		}
		if back.Manifest.ManifestDigest != rp.Manifest.ManifestDigest {
			t.Fatal("digest changed on read back")
		}
	})
}

// The hand-assembled JSONL lines equal the generic canonical encoding.
func TestLinesAreCanonical(t *testing.T) {
	in := Intent{Args: []byte(`{"a":1}`), ArgsDigest: "d", CreatedAt: "t", IntentID: "i\u2028<&>", ProducerVersion: "p\b", RunID: "run_x", SchemaID: SchemaIntent, SchemaVersion: "1.0.0", ToolName: "tool.\"q\"\\é"}
	r := Result{CreatedAt: "t", IntentID: "i", ProducerVersion: "p", ResultDigest: "d", RunID: "run_x", SchemaID: SchemaResult, SchemaVersion: "1.0.0", Status: "ok"}
	for _, tc := range []struct {
		got  []byte
		want any
	}{
		{encodeLines([]Intent{in}, intentLine), in},
		{encodeLines([]Result{r}, resultLine), r},
	} {
		want, err := jcs.Marshal(tc.want)
		if err != nil {
			t.Fatal(err)
		}
		if string(tc.got) != string(want)+"\n" {
			t.Errorf("line\n%s\nwant\n%s", tc.got, want)
		}
	}
}

// With payloads canonicalized on all cores, the error still names the
// first bad record, every time.
func TestBuildReportsFirstBadRecord(t *testing.T) {
	rec := bigRecord(2000, 10)
	rec.Intents[1700].Args = []byte(`[1]`)
	rec.Intents[3].Args = []byte(`"x"`)
	for range 5 {
		c := *rec
		c.Intents = append([]Intent(nil), rec.Intents...)
		c.Results = append([]Result(nil), rec.Results...)
		_, err := Build(&c, RecordOptions{})
		if err == nil || !strings.Contains(err.Error(), "intents[3] ") {
			t.Fatalf("err = %v", err)
		}
	}
}
