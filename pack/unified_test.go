package pack

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/internal/safezip"
)

var corpusDir = filepath.Join("..", "..", "shared", "conformance", "gait-v1")

func corpusPacks(t testing.TB) []string {
	t.Helper()
	packs, _ := filepath.Glob(filepath.Join(corpusDir, "artifacts", "pack_*.zip"))
	if len(packs) == 0 {
		t.Skip("conformance corpus not available")
	}
	return packs
}

func TestCorpusPacksVerify(t *testing.T) {
	for _, path := range corpusPacks(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			res, err := VerifyPack(path, VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK || res.SignatureStatus != SignatureMissing {
				t.Fatalf("result = %+v", res)
			}
			p, err := OpenPack(path)
			if err != nil {
				t.Fatal(err)
			}
			if d := DiffPacks(p, p); d.Summary.Changed {
				t.Fatalf("pack differs from itself: %+v", d)
			}
			in := InspectPack(p, path)
			if in.PackID != p.Manifest.PackID {
				t.Fatalf("inspect pack id %s", in.PackID)
			}
		})
	}
}

func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	s, err := c.Compile(filepath.Join(corpusDir, "schemas", "pack", name))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, data []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(v); err != nil {
		t.Fatalf("%s\n%s", err, data)
	}
}

// TestRunPackBuild wraps the demo runpack: deterministic bytes, schema-valid
// manifest and payload, the embedded runpack comes back unchanged.
func TestRunPackBuild(t *testing.T) {
	corpusPacks(t)
	dir := t.TempDir()
	rp, err := Build(DemoRecord(), RecordOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "runpack_run_demo.zip")
	if err := rp.WriteFile(src); err != nil {
		t.Fatal(err)
	}
	p1, err := BuildRunPack(src, PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := BuildRunPack(src, PackOptions{})
	var b1, b2 bytes.Buffer
	_ = p1.Write(&b1)
	_ = p2.Write(&b2)
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Fatal("pack bytes differ between two builds")
	}
	validate(t, compileSchema(t, "manifest.schema.json"), p1.File(FilePackManifest))
	validate(t, compileSchema(t, "run.schema.json"), p1.File(FileRunPayload))
	out := filepath.Join(dir, "pack.zip")
	if err := p1.WriteFile(out); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyPack(out, VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := RunpackFromPack(out)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(src)
	if !bytes.Equal(got, want) {
		t.Fatal("RunpackFromPack did not return the source runpack")
	}
	// The corpus run pack wraps the same demo runpack.
	corpus, err := RunpackFromPack(filepath.Join(corpusDir, "artifacts", "pack_run_run_demo.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(corpus, want) {
		t.Fatal("demo runpack bytes differ from the corpus pack's source/runpack.zip")
	}
}

func TestJobPackFromCorpusState(t *testing.T) {
	corpusPacks(t)
	p, err := OpenPack(filepath.Join(corpusDir, "artifacts", "pack_job_demo_durable.zip"))
	if err != nil {
		t.Fatal(err)
	}
	jp, err := BuildJobPack(p.File(FileJobState), p.File(FileJobEvents), PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{FileJobState, FileJobEvents, FileJobPayload} {
		if !bytes.Equal(jp.File(name), p.File(name)) {
			t.Errorf("%s differs from the corpus:\n%s\n%s", name, jp.File(name), p.File(name))
		}
	}
	validate(t, compileSchema(t, "manifest.schema.json"), jp.File(FilePackManifest))
	validate(t, compileSchema(t, "job.schema.json"), jp.File(FileJobPayload))
	b, err := RunpackFromPackBytes(t, jp)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := OpenBytes("job.zip", b)
	if err != nil {
		t.Fatal(err)
	}
	want := "job.submitted,job.checkpoint_added,job.approved,job.resumed,job.checkpoint_added"
	if got := strings.Join(rp.ToolSequence(), ","); got != want || rp.Manifest.RunID != "run_job_demo_durable" {
		t.Fatalf("job runpack %s: %s", rp.Manifest.RunID, got)
	}
	b2, _ := RunpackFromPackBytes(t, jp)
	if !bytes.Equal(b, b2) {
		t.Fatal("job runpack bytes differ between calls")
	}
}

func RunpackFromPackBytes(t *testing.T, p *Pack) ([]byte, error) {
	path := filepath.Join(t.TempDir(), "p.zip")
	if err := p.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return RunpackFromPack(path)
}

func TestSignedPack(t *testing.T) {
	corpusPacks(t)
	pair, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	p, err := OpenPack(filepath.Join(corpusDir, "artifacts", "pack_job_job_demo.zip"))
	if err != nil {
		t.Fatal(err)
	}
	sp, err := BuildJobPack(p.File(FileJobState), p.File(FileJobEvents), PackOptions{PrivateKey: pair.Private})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "signed.zip")
	if err := sp.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	validate(t, compileSchema(t, "manifest.schema.json"), sp.File(FilePackManifest))
	res, err := VerifyPack(path, VerifyOptions{PublicKey: pair.Public, RequireSignature: true})
	if err != nil || res.SignatureStatus != SignatureVerified {
		t.Fatalf("verify signed: %+v %v", res, err)
	}
	other, _ := keys.Generate()
	if _, err := VerifyPack(path, VerifyOptions{PublicKey: other.Public}); exitcode.Of(err) != exitcode.VerifyFailed {
		t.Fatalf("foreign key: %v", err)
	}
	if _, err := VerifyPack(filepath.Join(corpusDir, "artifacts", "pack_job_job_demo.zip"), VerifyOptions{RequireSignature: true}); exitcode.Of(err) != exitcode.VerifyFailed {
		t.Fatalf("unsigned with --require-signature: %v", err)
	}
}

// rezip rewrites a pack's entries with edit applied.
func rezip(t *testing.T, src string, edit func(files map[string][]byte)) string {
	t.Helper()
	a, err := safezip.Open(src, safezip.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, n := range a.Names() {
		files[n], _ = a.ReadFile(n)
	}
	a.Close()
	edit(files)
	var list []safezip.File
	for n, d := range files {
		list = append(list, safezip.File{Name: n, Data: d})
	}
	b, err := safezip.Bytes(list)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "tampered.zip")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPackTamper(t *testing.T) {
	src := filepath.Join(corpusDir, "artifacts", "pack_run_run_demo.zip")
	corpusPacks(t)
	tests := []struct {
		name string
		edit func(map[string][]byte)
		want string
	}{
		{"undeclared file", func(f map[string][]byte) { f["extra.txt"] = []byte("x") }, "not declared"},
		{"missing file", func(f map[string][]byte) { delete(f, FileRunPayload) }, "missing from the archive"},
		{"payload edited", func(f map[string][]byte) {
			f[FileRunPayload] = bytes.Replace(f[FileRunPayload], []byte(`"intents_count":3`), []byte(`"intents_count":4`), 1)
		}, "does not match"},
		{"pack id edited", func(f map[string][]byte) {
			f[FilePackManifest] = bytes.Replace(f[FilePackManifest], []byte(`"pack_type":"run"`), []byte(`"pack_type":"job"`), 1)
		}, "pack_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := VerifyPack(rezip(t, src, tt.edit), VerifyOptions{})
			if exitcode.Of(err) != exitcode.VerifyFailed || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want exit 2 containing %q", err, tt.want)
			}
		})
	}
	// Every flipped byte of a pack is caught.
	data, _ := os.ReadFile(src)
	dir := t.TempDir()
	for i := 0; i < len(data); i += 7 {
		mut := bytes.Clone(data)
		mut[i] ^= 0x20
		path := filepath.Join(dir, "flip.zip")
		_ = os.WriteFile(path, mut, 0o644)
		if _, err := VerifyPack(path, VerifyOptions{}); err == nil {
			t.Fatalf("flip at byte %d not detected", i)
		}
	}
}

func TestPackBadInput(t *testing.T) {
	dir := t.TempDir()
	notzip := filepath.Join(dir, "x.zip")
	_ = os.WriteFile(notzip, []byte("hello"), 0o644)
	for _, path := range []string{notzip, filepath.Join(dir, "missing.zip"), filepath.Join(corpusDir, "artifacts", "runpack_run_demo.zip")} {
		if _, err := OpenPack(path); exitcode.Of(err) != exitcode.InvalidInput {
			t.Errorf("%s: err = %v, want exit 6", path, err)
		}
	}
	if _, err := BuildJobPack([]byte(`{"schema_id":"other"}`), nil, PackOptions{}); exitcode.Of(err) != exitcode.InvalidInput {
		t.Errorf("bad state: %v", err)
	}
}

func FuzzParsePackManifest(f *testing.F) {
	packs, _ := filepath.Glob(filepath.Join(corpusDir, "artifacts", "pack_*.zip"))
	for _, p := range packs {
		if a, err := safezip.Open(p, safezip.DefaultLimits); err == nil {
			b, _ := a.ReadFile(FilePackManifest)
			f.Add(b)
			a.Close()
		}
	}
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParsePackManifest(data)
		if err != nil {
			return
		}
		// A manifest that parses keeps its id through a canonical rewrite.
		id, err := m.ComputeID()
		if err != nil || id != m.PackID {
			t.Fatalf("accepted manifest has id %s, recomputed %s (%v)", m.PackID, id, err)
		}
	})
}
