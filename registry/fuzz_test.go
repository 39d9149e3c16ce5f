package registry

import (
	"bytes"
	"testing"

	"github.com/gait-dev/gait/internal/keys"
)

// FuzzParse checks that Parse never panics and that a pack it accepts is
// stable: its canonical form parses to the same digest.
func FuzzParse(f *testing.F) {
	f.Add(draft("acme"))
	pair, _ := keys.Generate()
	if p, err := Sign(draft("Acme"), SignOptions{PrivateKey: pair.Private}); err == nil {
		b, _ := p.Canonical()
		f.Add(b)
	}
	f.Add([]byte(`{"schema_id":"gait.registry.pack","schema_version":"1.0.0","created_at":"2026-01-01T00:00:00Z","pack_name":"x","pack_version":"1","provenance":{"n":1e400}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		d, err := p.Digest()
		if err != nil {
			return
		}
		c, err := p.Canonical()
		if err != nil {
			t.Fatalf("canonical: %v", err)
		}
		q, err := Parse(c)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%s", err, c)
		}
		d2, err := q.Digest()
		if err != nil || d2 != d {
			t.Fatalf("digest changed: %s -> %s (%v)", d, d2, err)
		}
		c2, _ := q.Canonical()
		if !bytes.Equal(c, c2) {
			t.Fatalf("canonical form not stable:\n%s\n%s", c, c2)
		}
	})
}
