package keys

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/gait-dev/gait/internal/digest"
)

// AlgEd25519 is the only signature algorithm Gait v1 documents use.
const AlgEd25519 = "ed25519"

// Signature is the signature object carried by signed Gait documents.
// SignedDigest is the hex SHA-256 of the RFC 8785 form of the document
// without its signature field; Sig is base64 (standard) of the ed25519
// signature over the 32 raw bytes of that digest.
type Signature struct {
	Alg          string `json:"alg"`
	KeyID        string `json:"key_id"`
	Sig          string `json:"sig"`
	SignedDigest string `json:"signed_digest,omitempty"`
}

// SignDigest signs a hex SHA-256 digest.
func SignDigest(priv ed25519.PrivateKey, digestHex string) (Signature, error) {
	raw, err := digest.Decode(digestHex)
	if err != nil {
		return Signature{}, err
	}
	pub, ok := priv.Public().(ed25519.PublicKey)
	if !ok || len(priv) != ed25519.PrivateKeySize {
		return Signature{}, errors.New("signing key is not an ed25519 private key")
	}
	return Signature{
		Alg:          AlgEd25519,
		KeyID:        ID(pub),
		Sig:          base64.StdEncoding.EncodeToString(ed25519.Sign(priv, raw)),
		SignedDigest: digestHex,
	}, nil
}

// VerifySignature checks sig against the digest the verifier computed
// itself (digestHex) and the public key. A signed_digest that disagrees with
// digestHex, a foreign key id, or a bad signature are all errors.
func VerifySignature(pub ed25519.PublicKey, sig Signature, digestHex string) error {
	if sig.Alg != AlgEd25519 {
		return fmt.Errorf("signature algorithm %q is not %s", sig.Alg, AlgEd25519)
	}
	if sig.SignedDigest != "" && sig.SignedDigest != digestHex {
		return errors.New("signed_digest does not match the document")
	}
	if sig.KeyID != "" && sig.KeyID != ID(pub) {
		return fmt.Errorf("signature key_id %s is not the given public key %s", sig.KeyID, ID(pub))
	}
	raw, err := digest.Decode(digestHex)
	if err != nil {
		return err
	}
	s, err := base64.StdEncoding.DecodeString(sig.Sig)
	if err != nil || len(s) != ed25519.SignatureSize {
		return errors.New("signature is not base64 of 64 bytes")
	}
	if !ed25519.Verify(pub, raw, s) {
		return errors.New("signature does not verify")
	}
	return nil
}
