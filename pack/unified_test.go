package pack

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/internal/safezip"
	"github.com/gait-dev/gait/schemas"
)

// jobState and jobEvents are a durable job as Gait wrote it (gait demo --durable).
func jobState(t testing.TB) (state, events []byte) {
	t.Helper()
	dir := filepath.Join("testdata", "job_demo_durable")
	state, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	events, err = os.ReadFile(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return state, events
}

// ownPacks builds a run pack of the demo runpack and a job pack of the
// durable demo job in a temporary folder.
func ownPacks(t testing.TB) (runPack, jobPack string) {
	t.Helper()
	dir := t.TempDir()
	rp, err := Build(DemoRecord(), RecordOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "runpack_run_demo.zip")
	if err := rp.WriteFile(src); err != nil {
		t.Fatal(err)
	}
	p, err := BuildRunPack(src, PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	runPack = filepath.Join(dir, "pack_run_run_demo.zip")
	if err := p.WriteFile(runPack); err != nil {
		t.Fatal(err)
	}
	state, events := jobState(t)
	jp, err := BuildJobPack(state, events, PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jobPack = filepath.Join(dir, "pack_job_demo_durable.zip")
	if err := jp.WriteFile(jobPack); err != nil {
		t.Fatal(err)
	}
	return runPack, jobPack
}

func TestPacksVerify(t *testing.T) {
	runPack, jobPack := ownPacks(t)
	for _, path := range []string{runPack, jobPack} {
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

// validate checks data against the project's schema called name.
func validate(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := schemas.Validate(name, data); err != nil {
		t.Fatalf("%s: %s\n%s", name, err, data)
	}
}

// TestRunPackBuild wraps the demo runpack: deterministic bytes, schema-valid
// manifest and payload, the embedded runpack comes back unchanged.
func TestRunPackBuild(t *testing.T) {
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
	validate(t, "pack/manifest", p1.File(FilePackManifest))
	validate(t, "pack/run_payload", p1.File(FileRunPayload))
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
}

// TestJobPackFromState packs a job's state and events deterministically, with a
// schema-valid manifest and payload. (Byte identity with v1's job packs is
// checked by the conformance suite.)
func TestJobPackFromState(t *testing.T) {
	state, events := jobState(t)
	jp, err := BuildJobPack(state, events, PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := BuildJobPack(jp.File(FileJobState), jp.File(FileJobEvents), PackOptions{})
	for _, name := range []string{FileJobState, FileJobEvents, FileJobPayload, FilePackManifest} {
		if !bytes.Equal(again.File(name), jp.File(name)) {
			t.Errorf("%s changes when the pack's own state is packed again", name)
		}
	}
	validate(t, "pack/manifest", jp.File(FilePackManifest))
	validate(t, "pack/job_payload", jp.File(FileJobPayload))
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
	pair, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	state, events := jobState(t)
	_, unsigned := ownPacks(t)
	sp, err := BuildJobPack(state, events, PackOptions{PrivateKey: pair.Private})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "signed.zip")
	if err := sp.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	validate(t, "pack/manifest", sp.File(FilePackManifest))
	res, err := VerifyPack(path, VerifyOptions{PublicKey: pair.Public, RequireSignature: true})
	if err != nil || res.SignatureStatus != SignatureVerified {
		t.Fatalf("verify signed: %+v %v", res, err)
	}
	other, _ := keys.Generate()
	if _, err := VerifyPack(path, VerifyOptions{PublicKey: other.Public}); exitcode.Of(err) != exitcode.VerifyFailed {
		t.Fatalf("foreign key: %v", err)
	}
	if _, err := VerifyPack(unsigned, VerifyOptions{RequireSignature: true}); exitcode.Of(err) != exitcode.VerifyFailed {
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
	src, _ := ownPacks(t)
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
	runpack := filepath.Join(dir, "runpack_run_demo.zip")
	rp, err := Build(DemoRecord(), RecordOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rp.WriteFile(runpack); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, want string }{
		{notzip, "not a zip"},
		{filepath.Join(dir, "missing.zip"), "no such"},
		{runpack, "runpack, not a pack"},
	} {
		_, err := OpenPack(tt.path)
		if exitcode.Of(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want exit 6 containing %q", tt.path, err, tt.want)
		}
	}
	if _, err := BuildJobPack([]byte(`{"schema_id":"other"}`), nil, PackOptions{}); exitcode.Of(err) != exitcode.InvalidInput {
		t.Errorf("bad state: %v", err)
	}
}

// FuzzParsePackManifest is seeded from testdata/fuzz (manifests of packs Gait built).
func FuzzParsePackManifest(f *testing.F) {
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
