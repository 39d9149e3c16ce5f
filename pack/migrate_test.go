package pack

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/keys"
	"github.com/gait-dev/gait/internal/safezip"
)

// legacyRunpack writes the demo run as an older writer might have: the
// intents file is indented, not canonical, but every digest holds.
func legacyRunpack(t *testing.T, path string, priv []byte) {
	t.Helper()
	rp, err := Build(DemoRecord(), RecordOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(string(rp.File("intents.jsonl"))), "\n") {
		var buf bytes.Buffer
		if err := json.Indent(&buf, []byte(line), "", " "); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.ReplaceAll(buf.String(), "\n", ""))
	}
	intents := []byte(strings.Join(lines, "\n") + "\n")
	m := rp.Manifest
	m.Signatures = nil
	files := []safezip.File{{Name: "intents.jsonl", Data: intents}}
	for i, f := range m.Files {
		if f.Path == "intents.jsonl" {
			m.Files[i].SHA256 = digest.Bytes(intents)
			continue
		}
		files = append(files, safezip.File{Name: f.Path, Data: rp.File(f.Path)})
	}
	if m.ManifestDigest, err = m.ComputeDigest(); err != nil {
		t.Fatal(err)
	}
	if priv != nil {
		if err := m.Sign(priv); err != nil {
			t.Fatal(err)
		}
	}
	mb, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	b, err := safezip.Bytes(append(files, safezip.File{Name: FileManifest, Data: mb}))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(path, VerifyOptions{}); err != nil {
		t.Fatalf("the legacy runpack should verify before migration: %v", err)
	}
}

func TestMigrateRewritesLegacyAndKeepsCurrent(t *testing.T) {
	dir := t.TempDir()
	legacy := filepath.Join(dir, "legacy.zip")
	legacyRunpack(t, legacy, nil)
	out := filepath.Join(dir, "migrated.zip")
	res, err := Migrate(legacy, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != MigrateRewrote || res.ManifestDigest == res.OldManifestDigest {
		t.Fatalf("legacy runpack: %+v", res)
	}
	// The migrated runpack is what the current writer writes for the run.
	want, err := Build(DemoRecord(), RecordOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.ManifestDigest != want.Manifest.ManifestDigest {
		t.Fatalf("migrated manifest %s, the current writer gives %s", res.ManifestDigest, want.Manifest.ManifestDigest)
	}
	again, err := Migrate(out, filepath.Join(dir, "again.zip"), nil)
	if err != nil || again.Status != MigrateNoChange {
		t.Fatalf("migrating a current runpack: %+v, %v", again, err)
	}
}

func TestMigrateSignedLegacy(t *testing.T) {
	pair, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	legacy := filepath.Join(dir, "legacy.zip")
	legacyRunpack(t, legacy, pair.Private)
	res, err := Migrate(legacy, filepath.Join(dir, "unsigned.zip"), nil)
	if err != nil || !res.SignatureDropped || res.Signed {
		t.Fatalf("without a key the stale signature must be dropped: %+v, %v", res, err)
	}
	res, err = Migrate(legacy, filepath.Join(dir, "signed.zip"), pair.Private)
	if err != nil || res.SignatureDropped || !res.Signed {
		t.Fatalf("with a key the migrated runpack is signed: %+v, %v", res, err)
	}
	if _, err := Verify(filepath.Join(dir, "signed.zip"), VerifyOptions{PublicKey: pair.Public, RequireSignature: true}); err != nil {
		t.Fatal(err)
	}
}
