package guard

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"github.com/gait-dev/gait/internal/exitcode"
)

func TestEncryptRoundTripAndRefusals(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	plain := []byte("evidence")
	enc, err := Encrypt(plain, key, KeySource{Mode: "env", Ref: "K"}, time.Unix(0, 0), "test", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(enc)
	got, _, err := Decrypt("x", doc, key)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("round trip: %q, %v", got, err)
	}
	if _, _, err := Decrypt("x", doc, bytes.Repeat([]byte{8}, 32)); exitcode.Of(err) != exitcode.VerifyFailed {
		t.Fatalf("wrong key: %v", err)
	}
	if _, _, err := Decrypt("x", doc, key[:16]); exitcode.Of(err) != exitcode.InvalidInput {
		t.Fatalf("short key: %v", err)
	}
	if _, _, err := Decrypt("x", []byte(`{"schema_id":"other"}`), key); exitcode.Of(err) != exitcode.InvalidInput {
		t.Fatalf("not encrypted: %v", err)
	}
	enc.PlainSize++
	doc, _ = json.Marshal(enc)
	if _, _, err := Decrypt("x", doc, key); exitcode.Of(err) != exitcode.VerifyFailed {
		t.Fatalf("changed size: %v", err)
	}
}

func TestParseKey(t *testing.T) {
	for _, text := range []string{
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
	} {
		k, err := ParseKey(text)
		if err != nil || len(k) != 32 || k[31] != 31 {
			t.Errorf("ParseKey(%q) = %x, %v", text, k, err)
		}
	}
	for _, text := range []string{"", "c2hvcnQ=", "not a key!"} {
		if _, err := ParseKey(text); err == nil {
			t.Errorf("ParseKey(%q) accepted", text)
		}
	}
}
