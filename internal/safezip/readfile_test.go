package safezip_test

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/gait-dev/gait/internal/safezip"
	"github.com/gait-dev/gait/internal/safezip/ziptest"
)

// Once Sum has proven an entry's size, ReadFile reads it into a buffer of
// exactly that size (on all cores for large chunked entries) and returns
// the same bytes as the sequential reader.
func TestReadFileAfterSum(t *testing.T) {
	content := make([]byte, 9<<20+321)
	for i := range content {
		content[i] = byte(i*7 + i/1000 + i*i/4099)
	}
	data, err := safezip.Bytes([]safezip.File{{Name: "big", Data: content}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := open(data, safezip.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	cold, err := a.ReadFile("big")
	if err != nil || !bytes.Equal(cold, content) {
		t.Fatalf("sequential read: %v", err)
	}
	sum, err := a.Sum("big", sha256.New)
	if want := sha256.Sum256(content); err != nil || !bytes.Equal(sum, want[:]) {
		t.Fatalf("sum: %v", err)
	}
	var warm []byte
	n := ziptest.Allocated(func() { warm, err = a.ReadFile("big") })
	if err != nil || !bytes.Equal(warm, content) {
		t.Fatalf("read after sum: %v", err)
	}
	if n > uint64(len(content))+8<<20 {
		t.Fatalf("read after sum allocated %d bytes for %d", n, len(content))
	}
}
