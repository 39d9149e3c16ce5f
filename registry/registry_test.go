package registry

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gait-dev/gait/internal/digest"
	"github.com/gait-dev/gait/internal/keys"
)

func draft(publisher string) []byte {
	return []byte(`{"schema_id":"gait.registry.pack","schema_version":"1.0.0","created_at":"2026-01-01T00:00:00Z",
"producer_version":"0.0.0-test","pack_name":"skill-guardrails","pack_version":"1.0.0","pack_type":"skill",
"publisher":"` + publisher + `","source":"registry","artifacts":[{"path":"policy.yaml","sha256":"` + strings.Repeat("ab", 32) + `"}]}`)
}

func signed(t *testing.T, publisher string) ([]byte, keys.Pair, string) {
	t.Helper()
	pair, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Sign(draft(publisher), SignOptions{PrivateKey: pair.Private})
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	d, _ := p.Digest()
	return b, pair, d
}

// server serves body at /pack.json from a TLS test server; handler
// overrides the answer per request number when set.
func server(t *testing.T, body []byte, handler func(n int32, w http.ResponseWriter) bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		i := n.Add(1)
		if handler != nil && handler(i, w) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func host(t *testing.T, srv *httptest.Server) string {
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname()
}

func opts(t *testing.T, srv *httptest.Server, pub ed25519.PublicKey) InstallOptions {
	return InstallOptions{
		Trust:      Trust{PublicKey: pub},
		Source:     srv.URL + "/pack.json",
		AllowHosts: []string{host(t, srv)},
		CacheDir:   t.TempDir(),
		Client:     srv.Client(),
		Timeout:    2 * time.Second,
		Sleep:      func(context.Context, time.Duration) error { return nil },
	}
}

func cacheEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("cache %s was written: %v", dir, entries)
	}
}

func TestInstallRemote(t *testing.T) {
	body, pair, d := signed(t, "Acme")
	srv, _ := server(t, body, nil)
	o := opts(t, srv, pair.Public)
	o.Pin, o.Publishers = d, []string{"acme"}
	res, err := Install(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest != d || res.PackName != "skill-guardrails" || res.Attempts != 1 {
		t.Fatalf("result %+v", res)
	}
	pin, err := os.ReadFile(res.PinPath)
	if err != nil || string(pin) != "sha256:"+d+"\n" {
		t.Fatalf("pin %q %v", pin, err)
	}
	list, err := List(o.CacheDir)
	if err != nil || len(list) != 1 || !list[0].PinVerified || list[0].Digest != d {
		t.Fatalf("list %+v %v", list, err)
	}
	rep, err := Verify(res.MetadataPath, VerifyOptions{Trust: Trust{PublicKey: pair.Public}})
	if err != nil || !rep.OK() || !rep.PinPresent || !rep.PinVerified {
		t.Fatalf("verify %+v %v", rep, err)
	}
}

func TestInstallRefusals(t *testing.T) {
	body, pair, _ := signed(t, "acme")
	other, _ := keys.Generate()
	tampered := []byte(strings.Replace(string(body), `"pack_version":"1.0.0"`, `"pack_version":"1.0.1"`, 1))
	tests := []struct {
		name string
		body []byte
		edit func(*InstallOptions)
		want error
	}{
		{"tampered pack", tampered, nil, ErrSignature},
		{"wrong key", body, func(o *InstallOptions) { o.PublicKey = other.Public }, ErrSignature},
		{"wrong pin", body, func(o *InstallOptions) { o.Pin = strings.Repeat("0", 64) }, ErrPin},
		{"unlisted publisher", body, func(o *InstallOptions) { o.Publishers = []string{"other"} }, ErrPublisher},
		{"unlisted host", body, func(o *InstallOptions) { o.AllowHosts = []string{"example.invalid"} }, ErrSource},
		{"no allow-host", body, func(o *InstallOptions) { o.AllowHosts = nil }, ErrSource},
		{"plain http", body, func(o *InstallOptions) { o.Source = strings.Replace(o.Source, "https://", "http://", 1) }, ErrSource},
		{"plain http loopback needs the flag", body, func(o *InstallOptions) {
			o.Source = strings.Replace(o.Source, "https://", "http://", 1)
			o.AllowInsecureLoopbackHTTP = false
		}, ErrSource},
		{"other scheme", body, func(o *InstallOptions) { o.Source = "file:///etc/passwd" }, ErrSource},
		{"oversize", body, func(o *InstallOptions) { o.MaxSize = 100 }, ErrTooLarge},
		{"fallback without pin", body, func(o *InstallOptions) { o.AllowCachedFallback = true }, ErrSource},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := server(t, tt.body, nil)
			o := opts(t, srv, pair.Public)
			if tt.edit != nil {
				tt.edit(&o)
			}
			_, err := Install(context.Background(), o)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			cacheEmpty(t, o.CacheDir)
		})
	}
}

func TestInstallOversizeStreamed(t *testing.T) {
	_, pair, _ := signed(t, "acme")
	big := make([]byte, 2<<20)
	srv, _ := server(t, nil, func(_ int32, w http.ResponseWriter) bool {
		w.Header().Set("Content-Type", "application/json")
		// No Content-Length: the limit must hold while reading.
		for range 4 {
			_, _ = w.Write(big)
			w.(http.Flusher).Flush()
		}
		return true
	})
	o := opts(t, srv, pair.Public)
	o.MaxSize = 1 << 20
	if _, err := Install(context.Background(), o); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	cacheEmpty(t, o.CacheDir)
}

func TestInstallRetriesTransient(t *testing.T) {
	body, pair, _ := signed(t, "acme")
	srv, n := server(t, body, func(i int32, w http.ResponseWriter) bool {
		if i < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	o := opts(t, srv, pair.Public)
	var slept []time.Duration
	o.Sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	res, err := Install(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 3 || n.Load() != 3 {
		t.Fatalf("attempts %d, requests %d", res.Attempts, n.Load())
	}
	if len(slept) != 2 || slept[1] != 2*slept[0] {
		t.Fatalf("backoff %v, want doubling", slept)
	}
}

func TestInstallDoesNotRetryPermanent(t *testing.T) {
	_, pair, _ := signed(t, "acme")
	srv, n := server(t, nil, func(_ int32, w http.ResponseWriter) bool {
		w.WriteHeader(http.StatusNotFound)
		return true
	})
	o := opts(t, srv, pair.Public)
	o.Attempts = 5
	if _, err := Install(context.Background(), o); !errors.Is(err, ErrFetch) {
		t.Fatalf("err = %v", err)
	}
	if n.Load() != 1 {
		t.Fatalf("%d requests for a 404, want 1", n.Load())
	}
}

func TestInstallAttemptsBounded(t *testing.T) {
	_, pair, _ := signed(t, "acme")
	srv, n := server(t, nil, func(_ int32, w http.ResponseWriter) bool {
		w.WriteHeader(http.StatusBadGateway)
		return true
	})
	o := opts(t, srv, pair.Public)
	o.Attempts = 1000
	if _, err := Install(context.Background(), o); !errors.Is(err, ErrFetch) {
		t.Fatalf("err = %v", err)
	}
	if n.Load() != MaxAttempts {
		t.Fatalf("%d requests, want %d", n.Load(), MaxAttempts)
	}
}

func TestInstallTimeout(t *testing.T) {
	_, pair, _ := signed(t, "acme")
	block := make(chan struct{})
	srv, n := server(t, nil, func(int32, http.ResponseWriter) bool {
		<-block
		return true
	})
	defer close(block)
	o := opts(t, srv, pair.Public)
	o.Timeout, o.Attempts = 50*time.Millisecond, 2
	if _, err := Install(context.Background(), o); !errors.Is(err, ErrFetch) {
		t.Fatalf("err = %v", err)
	}
	if n.Load() != 2 {
		t.Fatalf("%d requests, want 2 (timeouts are retried)", n.Load())
	}
}

func TestInstallRedirectChecked(t *testing.T) {
	body, pair, _ := signed(t, "acme")
	srv, _ := server(t, body, func(i int32, w http.ResponseWriter) bool {
		if i == 1 {
			w.Header().Set("Location", "https://example.invalid/pack.json")
			w.WriteHeader(http.StatusFound)
			return true
		}
		return false
	})
	o := opts(t, srv, pair.Public)
	if _, err := Install(context.Background(), o); !errors.Is(err, ErrSource) && !strings.Contains(err.Error(), "not in --allow-host") {
		t.Fatalf("err = %v", err)
	}
	cacheEmpty(t, o.CacheDir)
}

func TestInstallCachedFallback(t *testing.T) {
	body, pair, d := signed(t, "acme")
	up := true
	srv, _ := server(t, body, func(_ int32, w http.ResponseWriter) bool {
		if !up {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	o := opts(t, srv, pair.Public)
	o.Pin = d
	if _, err := Install(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	up = false
	o.AllowCachedFallback = true
	res, err := Install(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.FallbackUsed || res.Digest != d {
		t.Fatalf("result %+v", res)
	}
	// A pin the cache does not hold gives no fallback.
	o.Pin = strings.Repeat("1", 64)
	if _, err := Install(context.Background(), o); !errors.Is(err, ErrFetch) {
		t.Fatalf("err = %v", err)
	}
	// A cached pack that was changed on disk fails its signature.
	path := filepath.Join(o.CacheDir, "skill-guardrails", "1.0.0", d, FilePack)
	b, _ := os.ReadFile(path)
	var p map[string]any
	_ = json.Unmarshal(b, &p)
	p["use_case"] = "changed"
	nb, _ := json.Marshal(p)
	_ = os.WriteFile(path, nb, 0o644)
	list, err := List(o.CacheDir)
	if err != nil || len(list) != 1 || list[0].PinVerified || list[0].Digest == d {
		t.Fatalf("a changed cached pack lists as %+v (%v)", list, err)
	}
	o.Pin = d
	if _, err := Install(context.Background(), o); err == nil {
		t.Fatal("a changed cached pack was accepted")
	}
}

func TestVerifyReport(t *testing.T) {
	body, pair, d := signed(t, "acme")
	dir := t.TempDir()
	path := filepath.Join(dir, FilePack)
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(path, VerifyOptions{Trust: Trust{PublicKey: pair.Public, Publishers: []string{"other"}}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.PublisherAllowed || !rep.SignatureVerified || rep.Digest != d {
		t.Fatalf("report %+v", rep)
	}
	if strings.Join(rep.FailureReasons, ",") != "publisher_not_allowed" {
		t.Fatalf("reasons %v", rep.FailureReasons)
	}
	if _, err := Verify(filepath.Join(dir, "missing.json"), VerifyOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":       `{`,
		"schema":         `{"schema_id":"x","schema_version":"1.0.0"}`,
		"version":        `{"schema_id":"gait.registry.pack","schema_version":"2.0.0"}`,
		"traversal name": `{"schema_id":"gait.registry.pack","schema_version":"1.0.0","created_at":"2026-01-01T00:00:00Z","pack_name":"../x","pack_version":"1"}`,
		"dot version":    `{"schema_id":"gait.registry.pack","schema_version":"1.0.0","created_at":"2026-01-01T00:00:00Z","pack_name":"x","pack_version":".."}`,
		"abs artifact":   `{"schema_id":"gait.registry.pack","schema_version":"1.0.0","created_at":"2026-01-01T00:00:00Z","pack_name":"x","pack_version":"1","artifacts":[{"path":"/etc/passwd","sha256":"` + strings.Repeat("a", 64) + `"}]}`,
		"bad digest":     `{"schema_id":"gait.registry.pack","schema_version":"1.0.0","created_at":"2026-01-01T00:00:00Z","pack_name":"x","pack_version":"1","artifacts":[{"path":"a","sha256":"zz"}]}`,
		"skill no src":   `{"schema_id":"gait.registry.pack","schema_version":"1.0.0","created_at":"2026-01-01T00:00:00Z","pack_name":"x","pack_version":"1","pack_type":"skill","publisher":"a"}`,
		"trailing":       `{"schema_id":"gait.registry.pack","schema_version":"1.0.0","created_at":"2026-01-01T00:00:00Z","pack_name":"x","pack_version":"1"} {}`,
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSignFillsArtifactDigests(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte("default_verdict: block\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(string(draft("acme")), `"sha256":"`+strings.Repeat("ab", 32)+`"`, `"sha256":""`, 1)
	pair, _ := keys.Generate()
	p, err := Sign([]byte(doc), SignOptions{PrivateKey: pair.Private, BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if p.Artifacts[0].SHA256 != digest.Bytes([]byte("default_verdict: block\n")) {
		t.Fatalf("artifact digest %q", p.Artifacts[0].SHA256)
	}
	// Signing again with the same key replaces the signature.
	b, _ := p.Canonical()
	p2, err := Sign(b, SignOptions{PrivateKey: pair.Private})
	if err != nil || len(p2.Signatures) != 1 {
		t.Fatalf("resign: %v, %d signatures", err, len(p2.Signatures))
	}
}
