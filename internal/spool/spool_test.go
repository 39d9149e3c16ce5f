package spool

import (
	"bytes"
	"os"
	"testing"
)

func TestSpool(t *testing.T) {
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("fixture\n"), 100_000)
	for i := 0; i < len(want); i += 8 {
		if _, err := s.Write(want[i : i+8]); err != nil {
			t.Fatal(err)
		}
	}
	var got bytes.Buffer
	if _, err := s.WriteTo(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("read back %d bytes, want %d", got.Len(), len(want))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("spool left %v behind", left)
	}
}
