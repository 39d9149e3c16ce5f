package conformance_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/internal/safezip"
	"github.com/gait-dev/gait/pack"
)

func build(t testing.TB, rec *pack.RunRecord, opts pack.RecordOptions) []byte {
	t.Helper()
	rp, err := pack.Build(rec, opts)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rp.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The demo runpack is byte-identical to Gait v1's.
func TestPackDemoMatchesCorpus(t *testing.T) {
	want, err := os.ReadFile(need(t, "conformance/gait-v1/artifacts/runpack_run_demo.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if got := build(t, pack.DemoRecord(), pack.RecordOptions{}); !bytes.Equal(got, want) {
		t.Fatal("demo runpack differs from the conformance corpus")
	}
}

// Recording the corpus run record gives the same payload and manifest digest
// as Gait v1 (whose copy is additionally signed).
func TestPackRecordMatchesCorpus(t *testing.T) {
	data, err := os.ReadFile(need(t, "conformance/gait-v1/inputs/run_record.json"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := pack.ParseRunRecord("run_record.json", data)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := pack.Build(rec, pack.RecordOptions{ContextEvidenceMode: "best_effort"})
	if err != nil {
		t.Fatal(err)
	}
	signedPath := need(t, "conformance/gait-v1/artifacts/signed/runpack_run_legacy_fixture.zip")
	signed, err := pack.Open(signedPath)
	if err != nil {
		t.Fatal(err)
	}
	// A runpack read back does not keep its JSONL files' bytes: compare the
	// entries themselves.
	a, err := safezip.Open(signedPath, pack.RunpackLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if rp.Manifest.ManifestDigest != signed.Manifest.ManifestDigest {
		t.Fatalf("manifest digest %s, corpus %s", rp.Manifest.ManifestDigest, signed.Manifest.ManifestDigest)
	}
	for _, name := range pack.PayloadFiles {
		if theirs, err := a.ReadFile(name); err != nil || !bytes.Equal(rp.File(name), theirs) {
			t.Errorf("%s differs from the corpus", name)
		}
	}
}

// TestPackVerifyCorpus: every v1 runpack verifies, replays and diffs.
func TestPackVerifyCorpus(t *testing.T) {
	pub, err := keys.LoadPublic(need(t, "conformance/gait-v1/artifacts/signed/gait_public.key"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path       string
		opts       pack.VerifyOptions
		wantStatus string
	}{
		{"artifacts/runpack_run_demo.zip", pack.VerifyOptions{}, pack.SignatureMissing},
		{"artifacts/regress/fixtures/run_demo/runpack.zip", pack.VerifyOptions{}, pack.SignatureMissing},
		{"artifacts/sessions/gait-out/runpack_sess_cp_0001.zip", pack.VerifyOptions{}, pack.SignatureMissing},
		{"artifacts/sessions/gait-out/runpack_sess_cp_0002.zip", pack.VerifyOptions{}, pack.SignatureMissing},
		{"artifacts/signed/runpack_run_legacy_fixture.zip", pack.VerifyOptions{PublicKey: pub, RequireSignature: true}, pack.SignatureVerified},
		{"artifacts/signed/runpack_run_legacy_fixture.zip", pack.VerifyOptions{}, pack.SignatureUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p := need(t, "conformance/gait-v1/"+tt.path)
			res, err := pack.Verify(p, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK || res.SignatureStatus != tt.wantStatus || res.FilesChecked != 4 {
				t.Fatalf("result %+v", res)
			}
			rp, err := pack.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			if rep := pack.Replay(rp); len(rep.Steps) != len(rp.Intents) {
				t.Fatalf("replay %+v", rep)
			}
			if d := pack.Diff(rp, rp, "a", "b"); !d.Same {
				t.Fatalf("self diff %+v", d)
			}
		})
	}
	if _, err := pack.Verify(need(t, "conformance/gait-v1/artifacts/runpack_run_demo.zip"), pack.VerifyOptions{RequireSignature: true}); exitcode.Of(err) != exitcode.VerifyFailed {
		t.Fatalf("unsigned with --require-signature: %v", err)
	}
}
