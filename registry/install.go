package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/capped"
)

// Fetch limits. Attempts and delays given by the caller are clamped to
// these bounds so a flag cannot make an install hang.
const (
	DefaultAttempts  = 3
	MaxAttempts      = 10
	DefaultBaseDelay = 200 * time.Millisecond
	MaxDelay         = 5 * time.Second
	DefaultTimeout   = 20 * time.Second
)

// InstallOptions configure Install.
type InstallOptions struct {
	Trust
	Source     string   // a local path or an https URL
	AllowHosts []string // hosts a remote source may be fetched from (lower case)
	CacheDir   string
	// AllowInsecureLoopbackHTTP accepts http:// for a loopback host only.
	AllowInsecureLoopbackHTTP bool
	AllowCachedFallback       bool // when the fetch fails, use the cached pack the pin names
	Attempts                  int  // tries for transient errors; DefaultAttempts when 0
	BaseDelay                 time.Duration
	Timeout                   time.Duration // per attempt; DefaultTimeout when 0
	MaxSize                   int64         // MaxPackSize when 0
	Client                    *http.Client  // nil: a client with the timeout
	// Sleep waits between attempts (tests shorten it); nil waits for real.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Installed is what Install did.
type Installed struct {
	Source       string `json:"source"`
	PackName     string `json:"pack_name"`
	PackVersion  string `json:"pack_version"`
	Publisher    string `json:"publisher,omitempty"`
	PackSource   string `json:"pack_source,omitempty"`
	Digest       string `json:"digest"`
	MetadataPath string `json:"metadata_path"`
	PinPath      string `json:"pin_path"`
	Attempts     int    `json:"attempts,omitempty"`
	FallbackUsed bool   `json:"fallback_used,omitempty"`
	FallbackPath string `json:"fallback_path,omitempty"`
	Pack         *Pack  `json:"manifest"`
}

// Error kinds of Install.
var (
	ErrSource   = errors.New("source refused")
	ErrFetch    = errors.New("fetch failed")
	ErrTooLarge = errors.New("pack too large")
)

// DefaultCacheDir is ~/.gait/registry, where v1 caches packs too.
func DefaultCacheDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".gait", "registry"), nil
}

// Install fetches a pack (a local file, or an https URL from an allowed
// host, size- and time-limited and retried on transient errors), checks
// publisher, pin and signature, and only then writes it to the cache with
// a pin file naming its digest. When a remote fetch fails and
// AllowCachedFallback is set, the cached pack that the pin names is checked
// and used instead; without a pin there is no fallback.
func Install(ctx context.Context, opts InstallOptions) (*Installed, error) {
	src := strings.TrimSpace(opts.Source)
	if src == "" {
		return nil, fmt.Errorf("%w: no source; pass --source PATH|https://HOST/PATH", ErrSource)
	}
	if opts.CacheDir == "" {
		return nil, fmt.Errorf("%w: no cache directory", ErrSource)
	}
	if opts.AllowCachedFallback && opts.Pin == "" {
		return nil, fmt.Errorf("%w: a cached fallback needs --pin sha256:<digest>, so only the pack you pinned can be used", ErrSource)
	}
	var raw []byte
	res := &Installed{Source: src}
	if remote(src) {
		u, err := checkURL(src, opts.AllowHosts, opts.AllowInsecureLoopbackHTTP)
		if err != nil {
			return nil, err
		}
		var n int
		raw, n, err = fetch(ctx, u, opts)
		res.Attempts = n
		if err != nil {
			if !opts.AllowCachedFallback {
				return nil, err
			}
			fb, path, ferr := cachedPack(opts.CacheDir, opts.Pin)
			if ferr != nil {
				return nil, fmt.Errorf("%w; cached fallback: %w", err, ferr)
			}
			raw, res.FallbackUsed, res.FallbackPath = fb, true, path
		}
	} else {
		b, err := capped.ReadFile(src, limit(opts.MaxSize))
		if err != nil {
			if errors.Is(err, capped.ErrTooLarge) {
				return nil, fmt.Errorf("%w: %s: %w", ErrTooLarge, src, err)
			}
			return nil, fmt.Errorf("%w: %w", ErrSource, err)
		}
		raw = b
	}
	p, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	c, err := check(p, opts.Trust)
	if err != nil {
		return nil, err
	}
	canon, err := p.Canonical()
	if err != nil {
		return nil, err
	}
	res.PackName, res.PackVersion, res.Publisher, res.PackSource, res.Digest, res.Pack = p.PackName, p.PackVersion, p.Publisher, p.Source, c.Digest, p
	res.MetadataPath = filepath.Join(opts.CacheDir, p.PackName, p.PackVersion, c.Digest, FilePack)
	res.PinPath = pinPath(opts.CacheDir, p.PackName)
	if err := atomicfile.WriteFile(res.MetadataPath, canon, 0o644); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(res.PinPath, []byte("sha256:"+c.Digest+"\n"), 0o644); err != nil {
		return nil, err
	}
	return res, nil
}

func limit(n int64) int64 {
	if n <= 0 {
		return MaxPackSize
	}
	return n
}

func pinPath(cache, name string) string { return filepath.Join(cache, "pins", name+".pin") }

func remote(src string) bool {
	l := strings.ToLower(src)
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") || strings.Contains(l, "://")
}

// checkURL accepts https URLs from an allowed host (and plain http from a
// loopback host when insecureLoopback is set).
func checkURL(src string, allow []string, insecureLoopback bool) (*url.URL, error) {
	u, err := url.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not a URL: %w", ErrSource, src, err)
	}
	host := strings.ToLower(u.Hostname())
	switch u.Scheme {
	case "https":
	case "http":
		if !insecureLoopback || !loopback(host) {
			return nil, fmt.Errorf("%w: %s: remote sources must use https (plain http is accepted only for a loopback host with --allow-insecure-http)", ErrSource, src)
		}
	default:
		return nil, fmt.Errorf("%w: %s: scheme %q is not https", ErrSource, src, u.Scheme)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: %s: credentials in the URL are refused", ErrSource, redact(u))
	}
	if len(allow) == 0 {
		return nil, fmt.Errorf("%w: %s: a remote source needs --allow-host %s", ErrSource, src, host)
	}
	if !slices.Contains(allow, host) {
		return nil, fmt.Errorf("%w: %s: host %s is not in --allow-host %s", ErrSource, src, host, strings.Join(allow, ","))
	}
	return u, nil
}

func redact(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// statusError is a non-200 answer.
type statusError struct{ code int }

func (e statusError) Error() string { return fmt.Sprintf("HTTP status %d", e.code) }

// transient reports whether a failed attempt is worth repeating: 408, 429,
// 5xx gateway answers, timeouts, refused or reset connections, and bodies
// cut short.
func transient(err error) bool {
	if se, ok := errors.AsType[statusError](err); ok {
		switch se.code {
		case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrSource) {
		return false
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, context.DeadlineExceeded)
}

// fetch GETs u with bounded retries and exponential backoff. It returns the
// body and the number of attempts made.
func fetch(ctx context.Context, u *url.URL, opts InstallOptions) ([]byte, int, error) {
	attempts := opts.Attempts
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	attempts = min(attempts, MaxAttempts)
	delay := opts.BaseDelay
	if delay <= 0 {
		delay = DefaultBaseDelay
	}
	delay = min(delay, MaxDelay)
	sleep := opts.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	var last error
	for i := 1; i <= attempts; i++ {
		b, err := fetchOnce(ctx, u, opts)
		if err == nil {
			return b, i, nil
		}
		last = err
		if !transient(err) || i == attempts || ctx.Err() != nil {
			return nil, i, fmt.Errorf("%w: %s: %w (after %d attempt(s))", ErrFetch, redact(u), err, i)
		}
		if err := sleep(ctx, min(delay<<(i-1), MaxDelay)); err != nil {
			return nil, i, fmt.Errorf("%w: %s: %w", ErrFetch, redact(u), err)
		}
	}
	return nil, attempts, fmt.Errorf("%w: %s: %w", ErrFetch, redact(u), last)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// client returns the HTTP client for a fetch. Redirects are followed only
// to URLs that pass the same scheme and host checks.
func client(opts InstallOptions) *http.Client {
	base := opts.Client
	if base == nil {
		base = &http.Client{}
	}
	c := *base
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return fmt.Errorf("%w: more than 5 redirects", ErrSource)
		}
		_, err := checkURL(req.URL.String(), opts.AllowHosts, opts.AllowInsecureLoopbackHTTP)
		return err
	}
	return &c
}

func fetchOnce(ctx context.Context, u *url.URL, opts InstallOptions) ([]byte, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client(opts).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, statusError{resp.StatusCode}
	}
	lim := limit(opts.MaxSize)
	if resp.ContentLength > lim {
		return nil, fmt.Errorf("%w: the server announces %d bytes, over the limit of %d", ErrTooLarge, resp.ContentLength, lim)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, lim+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > lim {
		return nil, fmt.Errorf("%w: the response is over the limit of %d bytes", ErrTooLarge, lim)
	}
	return b, nil
}

// cachedPack returns the cached pack the pin names.
func cachedPack(cache, pin string) ([]byte, string, error) {
	matches, err := filepath.Glob(filepath.Join(cache, "*", "*", pin, FilePack))
	if err != nil {
		return nil, "", err
	}
	sort.Strings(matches)
	for _, m := range matches {
		if b, err := capped.ReadFile(m, MaxPackSize); err == nil {
			return b, m, nil
		}
	}
	return nil, "", fmt.Errorf("no cached pack has digest sha256:%s in %s", pin, cache)
}
