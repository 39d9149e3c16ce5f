package guard

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
)

// seedPack builds an evidence pack of the demo run and returns its bytes.
func seedPack(f *testing.F) []byte {
	f.Helper()
	dir := f.TempDir()
	rp, err := pack.Build(pack.DemoRecord(), pack.RecordOptions{})
	if err != nil {
		f.Fatal(err)
	}
	run := filepath.Join(dir, "runpack.zip")
	if err := rp.WriteFile(run); err != nil {
		f.Fatal(err)
	}
	p, err := Build(run, Options{Template: "incident_response", CaseID: "INC-1"})
	if err != nil {
		f.Fatal(err)
	}
	out := filepath.Join(dir, "ev.zip")
	if err := p.WriteFile(out); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzVerify feeds arbitrary bytes to the evidence pack verifier: it must
// never panic, must answer with exit 2 or 6 on failure, and a pack it
// accepts verifies the same way when read again.
func FuzzVerify(f *testing.F) {
	f.Add(seedPack(f))
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "ev.zip")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := Verify(path, VerifyOptions{})
		if err != nil {
			if c := exitcode.Of(err); c != exitcode.VerifyFailed && c != exitcode.InvalidInput {
				t.Fatalf("exit %d: %v", c, err)
			}
			return
		}
		again, err := Verify(path, VerifyOptions{})
		if err != nil || again.PackID != res.PackID {
			t.Fatalf("verify is not stable: %v", err)
		}
	})
}

// FuzzDecrypt feeds arbitrary documents to Decrypt: no panic, exit 2 or 6
// on failure, and a success only when the plaintext matches its digest.
func FuzzDecrypt(f *testing.F) {
	key := bytes.Repeat([]byte{1}, 32)
	f.Add([]byte(`{"schema_id":"gait.guard.encrypted_artifact","algorithm":"aes-256-gcm","nonce":"AAAAAAAAAAAAAAAA","ciphertext":"AAAA","plain_sha256":"00","plain_size":0}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		_, _, err := Decrypt("fuzz", doc, key)
		if err != nil {
			if c := exitcode.Of(err); c != exitcode.VerifyFailed && c != exitcode.InvalidInput {
				t.Fatalf("exit %d: %v", c, err)
			}
		}
	})
}
