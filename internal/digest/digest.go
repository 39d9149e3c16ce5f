// Package digest computes the hex SHA-256 digests used across Gait formats.
package digest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/gait-dev/gait/internal/jcs"
)

// Bytes returns the lowercase hex SHA-256 of b.
func Bytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// JSON returns the hex SHA-256 of the RFC 8785 canonical form of v.
func JSON(v any) (string, error) {
	b := bufs.Get().(*[]byte)
	defer putBuf(b)
	c, err := jcs.Append((*b)[:0], v)
	*b = c
	if err != nil {
		return "", err
	}
	return Bytes(c), nil
}

// RawJSON returns the hex SHA-256 of the canonical form of a JSON document.
func RawJSON(doc []byte) (string, error) {
	b := bufs.Get().(*[]byte)
	defer putBuf(b)
	c, err := jcs.AppendCanonical((*b)[:0], doc)
	*b = c
	if err != nil {
		return "", err
	}
	return Bytes(c), nil
}

// bufs holds the canonical bytes of a digest while they are hashed.
var bufs = sync.Pool{New: func() any { return new([]byte) }}

func putBuf(b *[]byte) {
	if cap(*b) <= 1<<20 {
		bufs.Put(b)
	}
}

// Valid reports whether s looks like a hex SHA-256 digest.
func Valid(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// Decode returns the 32 raw bytes of a hex SHA-256 digest.
func Decode(s string) ([]byte, error) {
	if !Valid(s) {
		return nil, fmt.Errorf("%q is not a hex sha256 digest", s)
	}
	return hex.DecodeString(s)
}
