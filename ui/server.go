// Package ui is the local web UI (`gait ui`): server-rendered pages over a
// workspace's runs, regress results, gate traces, jobs and session chains,
// and v1's guided first run through an allowlisted /api/exec.
//
// It binds to loopback unless told otherwise, answers only requests whose
// Host names the server (so a DNS-rebound name cannot reach it), refuses
// cross-origin requests to its API, wants a per-start token on every call
// that changes something, and serves no file outside the workspace.
package ui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/report"
)

// DefaultListen is where the UI listens unless told otherwise.
const DefaultListen = "127.0.0.1:7980"

//go:embed templates/*.html assets/*
var assetsFS embed.FS

// Options configure a Server.
type Options struct {
	// Listen is the address to bind (host:port; port 0 picks one).
	Listen string
	// AllowNonLoopback permits binding an address other machines reach.
	AllowNonLoopback bool
	// Workspace is the folder whose gait-out/ and fixtures/ are shown and
	// where guided commands run.
	Workspace string
	// Binary is the gait executable the guided flows run.
	Binary string
	// Version is shown in the page footer.
	Version string
	// Home is the user's home folder: the page footer shows a workspace
	// under it as ~/… (no user name on a shared screen or a screenshot).
	// Empty means the current user's.
	Home string
}

// Server is a started UI: it listens from New on and serves from Serve.
type Server struct {
	opts     Options
	ln       net.Listener
	token    string
	hosts    map[string]bool
	pages    *template.Template
	cache    *cache
	execMu   sync.Mutex
	root     string // the workspace, absolute and with symlinks resolved
	label    string // the workspace as the page footer shows it
	tmplOnce sync.Once
	tmplErr  error
}

// New checks the options and binds the listener. Everything slower
// (templates, scanning the workspace) waits for the first request, so the
// URL can be printed at once.
func New(opts Options) (*Server, error) {
	if opts.Listen == "" {
		opts.Listen = DefaultListen
	}
	host, port, err := net.SplitHostPort(opts.Listen)
	if err != nil {
		return nil, exitcode.Invalidf("--listen %s: not a host:port address (%v); pass for example --listen %s", opts.Listen, err, DefaultListen)
	}
	if !opts.AllowNonLoopback && !isLoopback(host) {
		return nil, exitcode.Invalidf("--listen %s: %s is not a loopback address; the UI runs guided commands, so bind 127.0.0.1 or pass --allow-non-loopback", opts.Listen, host)
	}
	ws, err := filepath.Abs(opts.Workspace)
	if err != nil {
		return nil, exitcode.Invalidf("workspace %s: %v", opts.Workspace, err)
	}
	root, err := filepath.EvalSymlinks(ws)
	if err != nil {
		return nil, exitcode.Invalidf("workspace %s: %v; run gait ui from an existing folder", ws, err)
	}
	opts.Workspace = root
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, exitcode.Invalidf("--listen %s: %v; pick another port with --listen 127.0.0.1:<port>", opts.Listen, err)
	}
	home := opts.Home
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	s := &Server{opts: opts, ln: ln, token: hex.EncodeToString(tok), root: root, label: workspaceLabel(root, home), cache: newCache()}
	s.hosts = allowedHosts(host, ln.Addr().(*net.TCPAddr).Port)
	return s, nil
}

// isLoopback reports whether host names a loopback interface.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// allowedHosts are the Host header values the server answers: the
// loopback names at its port, and the bound host.
func allowedHosts(host string, port int) map[string]bool {
	p := ":" + itoa(port)
	m := map[string]bool{"127.0.0.1" + p: true, "localhost" + p: true, "[::1]" + p: true}
	if host != "" {
		m[net.JoinHostPort(host, itoa(port))] = true
	}
	return m
}

// Listen is the bound address (host:port).
func (s *Server) Listen() string { return s.ln.Addr().String() }

// URL is the address to open in a browser.
func (s *Server) URL() string {
	addr := s.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, itoa(addr.Port))
}

// Token is the per-start token that calls which change something carry.
func (s *Server) Token() string { return s.token }

// Serve answers requests until ctx ends, then shuts down.
func (s *Server) Serve(ctx context.Context) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return srv.Shutdown(sctx) //nolint:contextcheck // the request context is over; shut down on a fresh one
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// Handler is the UI's HTTP handler with its request checks.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/health", s.apiHealth)
	mux.HandleFunc("GET /api/state", s.apiState)
	mux.HandleFunc("/api/exec", s.apiExec)
	assets, _ := fs.Sub(assetsFS, "assets")
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(assets)))
	mux.HandleFunc("GET /assets/style.css", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write(report.HTMLStyle())
	})
	mux.HandleFunc("GET /assets/copy.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(report.HTMLScript())
	})
	mux.HandleFunc("GET /{$}", s.pageRuns)
	mux.HandleFunc("GET /runs", s.pageRuns)
	mux.HandleFunc("GET /run", s.pageRun)
	mux.HandleFunc("GET /diff", s.pageDiff)
	mux.HandleFunc("GET /regress", s.pageRegress)
	mux.HandleFunc("GET /gate", s.pageGate)
	mux.HandleFunc("GET /jobs", s.pageJobs)
	mux.HandleFunc("GET /sessions", s.pageSessions)
	mux.HandleFunc("GET /file", s.serveFile)
	mux.HandleFunc("GET /guided", s.pageGuided)
	mux.HandleFunc("POST /guided", s.postGuided)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return s.guard(mux)
}

// guard applies the checks every request passes: a Host that names this
// server, no cross-site API calls, and the token on every call that
// changes something. It also sets headers that keep pages from being
// framed or loading anything from elsewhere.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if !s.hostAllowed(r.Host) {
			refuse(w, http.StatusMisdirectedRequest, "host "+r.Host+" is not this server; open the URL gait ui printed")
			return
		}
		mutating := r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
		api := strings.HasPrefix(r.URL.Path, "/api/")
		if origin := r.Header.Get("Origin"); origin != "" && (mutating || api) && origin != "http://"+r.Host {
			refuse(w, http.StatusForbidden, "cross-origin request from "+origin+" refused")
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); (mutating || api) && site != "" && site != "same-origin" && site != "none" {
			refuse(w, http.StatusForbidden, "cross-site request refused")
			return
		}
		if mutating && !s.tokenOK(r) {
			refuse(w, http.StatusForbidden, "missing or wrong token; reload the page (the token changes each time gait ui starts)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed accepts the loopback names at the bound port and, when the
// server was allowed off loopback, IP literals (which no DNS answer can
// rebind).
func (s *Server) hostAllowed(host string) bool {
	if s.hosts[strings.ToLower(host)] {
		return true
	}
	if !s.opts.AllowNonLoopback {
		return false
	}
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	return net.ParseIP(strings.Trim(h, "[]")) != nil
}

func (s *Server) tokenOK(r *http.Request) bool {
	got := r.Header.Get("X-Gait-Token")
	if got == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		got = r.PostFormValue("token")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) == 1
}

func refuse(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"ok": false, "error": msg})
}

// workspaceLabel is the workspace root as the page footer shows it: ~ and
// the rest of the path when it is under home, else the path itself.
func workspaceLabel(root, home string) string {
	if home == "" {
		return root
	}
	if h, err := filepath.EvalSymlinks(home); err == nil {
		home = h
	}
	if filepath.Dir(home) == home { // a home of / would hide where the workspace is
		return root
	}
	rel, err := filepath.Rel(home, root)
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return root
	}
	if rel == "." {
		return "~"
	}
	return "~" + string(filepath.Separator) + rel
}
