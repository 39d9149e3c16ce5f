package keys

import (
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/digest"
)

func TestSignVerifyDigest(t *testing.T) {
	pair, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	d := digest.Bytes([]byte("doc"))
	sig, err := SignDigest(pair.Private, d)
	if err != nil {
		t.Fatal(err)
	}
	if sig.KeyID != ID(pair.Public) || sig.SignedDigest != d || sig.Alg != AlgEd25519 {
		t.Fatalf("signature fields: %+v", sig)
	}
	if err := VerifySignature(pair.Public, sig, d); err != nil {
		t.Fatalf("verify: %v", err)
	}
	other := digest.Bytes([]byte("other"))
	if err := VerifySignature(pair.Public, sig, other); err == nil {
		t.Fatal("verify accepted a different digest")
	}
	bad := sig
	bad.Sig = strings.Repeat("A", 86) + "=="
	if err := VerifySignature(pair.Public, bad, d); err == nil {
		t.Fatal("verify accepted a forged signature")
	}
	otherPair, _ := Generate()
	if err := VerifySignature(otherPair.Public, sig, d); err == nil {
		t.Fatal("verify accepted the wrong key")
	}
	if _, err := SignDigest(pair.Private, "nothex"); err == nil {
		t.Fatal("sign accepted a non-digest")
	}
}
