package guard

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/exitcode"
)

// SchemaEncrypted is the schema of an encrypted artifact.
const (
	SchemaEncrypted = "gait.guard.encrypted_artifact"
	AlgAES256GCM    = "aes-256-gcm"
)

// KeySource records where the key came from (never the key): an
// environment variable (mode env, ref its name) or a command (mode command).
type KeySource struct {
	Mode string `json:"mode"`
	Ref  string `json:"ref,omitempty"`
}

// Encrypted is a .gaitenc file: AES-256-GCM ciphertext (tag appended) of an
// artifact with the digest and size of the plaintext, so decryption checks
// both the tag and the content.
type Encrypted struct {
	SchemaID        string    `json:"schema_id"`
	SchemaVersion   string    `json:"schema_version"`
	CreatedAt       string    `json:"created_at"`
	ProducerVersion string    `json:"producer_version"`
	Algorithm       string    `json:"algorithm"`
	KeySource       KeySource `json:"key_source"`
	Nonce           string    `json:"nonce"`
	Ciphertext      string    `json:"ciphertext"`
	PlainSHA256     string    `json:"plain_sha256"`
	PlainSize       int       `json:"plain_size"`
}

// ParseKey decodes a key given as text: base64 (standard or URL, padded or
// not) or hex of exactly 32 bytes.
func ParseKey(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	if len(text) == 64 {
		if b, err := digest.Decode(text); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(text); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("the key is %d bytes, AES-256 needs 32", len(b))
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("the key is neither base64 nor hex of 32 bytes")
}

// Encrypt seals plain with key under a fresh nonce from random.
func Encrypt(plain, key []byte, src KeySource, now time.Time, producerVersion string, random io.Reader) (Encrypted, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return Encrypted{}, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := io.ReadFull(random, nonce); err != nil {
		return Encrypted{}, fmt.Errorf("nonce: %w", err)
	}
	return Encrypted{
		SchemaID: SchemaEncrypted, SchemaVersion: SchemaVersion, CreatedAt: now.UTC().Format(time.RFC3339Nano),
		ProducerVersion: producerVersion, Algorithm: AlgAES256GCM, KeySource: src,
		Nonce:       base64.StdEncoding.EncodeToString(nonce),
		Ciphertext:  base64.StdEncoding.EncodeToString(gcm.Seal(nil, nonce, plain, nil)),
		PlainSHA256: digest.Bytes(plain), PlainSize: len(plain),
	}, nil
}

// Decrypt opens an encrypted artifact: exit 6 when doc is not one, exit 2
// when the tag fails (a wrong key or changed ciphertext) or the plaintext's
// digest or size differ from what was recorded.
func Decrypt(name string, doc, key []byte) ([]byte, Encrypted, error) {
	var e Encrypted
	if err := json.Unmarshal(doc, &e); err != nil || e.SchemaID != SchemaEncrypted {
		return nil, e, exitcode.Invalidf("%s: not an encrypted artifact (%s); pass a file `gait guard encrypt` wrote", name, SchemaEncrypted)
	}
	if e.Algorithm != AlgAES256GCM {
		return nil, e, exitcode.Invalidf("%s: algorithm %q is not %s; upgrade gait to read it", name, e.Algorithm, AlgAES256GCM)
	}
	gcm, err := newGCM(key)
	if err != nil {
		return nil, e, err
	}
	nonce, err1 := base64.StdEncoding.DecodeString(e.Nonce)
	ct, err2 := base64.StdEncoding.DecodeString(e.Ciphertext)
	if err1 != nil || err2 != nil || len(nonce) != gcm.NonceSize() {
		return nil, e, exitcode.VerifyFailedf("%s: nonce or ciphertext is not valid base64 of the right size; the file was changed", name)
	}
	plain, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, e, exitcode.VerifyFailedf("%s: authentication failed: the key is wrong or the ciphertext was changed; check the key source", name)
	}
	if got := digest.Bytes(plain); got != e.PlainSHA256 || len(plain) != e.PlainSize {
		return nil, e, exitcode.VerifyFailedf("%s: the plaintext has sha256 %s and %d bytes, the file records %s and %d; the file was changed", name, got, len(plain), e.PlainSHA256, e.PlainSize)
	}
	return plain, e, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, exitcode.Invalidf("the key is %d bytes, AES-256 needs 32", len(key))
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}
