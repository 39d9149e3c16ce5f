package keys

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
)

func TestInitLoadVerify(t *testing.T) {
	dir := t.TempDir()
	pair, err := Init(dir, "gait", false)
	if err != nil {
		t.Fatal(err)
	}
	privPath, pubPath := Paths(dir, "gait")
	priv, err := LoadPrivate(privPath)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublic(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if ID(pub) != ID(pair.Public) || len(ID(pub)) != 64 {
		t.Fatal("key id mismatch")
	}
	if err := VerifyPair(priv, pub); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(dir, "gait", false); exitcode.Of(err) != exitcode.InvalidInput {
		t.Fatalf("second init without force: %v", err)
	}
	other, _ := Generate()
	if err := VerifyPair(priv, other.Public); exitcode.Of(err) != exitcode.VerifyFailed {
		t.Fatalf("mismatched pair: %v", err)
	}
	if fi, _ := os.Stat(privPath); fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode %v", fi.Mode())
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{"", "!!!", Encode([]byte("short"))} {
		if _, err := ParsePrivate(s); err == nil {
			t.Errorf("ParsePrivate(%q) ok", s)
		}
		if _, err := ParsePublic(s); err == nil {
			t.Errorf("ParsePublic(%q) ok", s)
		}
	}
	if _, err := LoadPrivate(filepath.Join(t.TempDir(), "missing")); exitcode.Of(err) != exitcode.InvalidInput {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := ParseMode("staging"); err == nil {
		t.Fatal("bad mode accepted")
	}
}
