// Package setup_test checks the setup action's installer (install.sh)
// against a local file server laid out like a GitHub release.
package setup_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

const version = "v1.2.3"

// release is a fake release: asset name → bytes, served under /<version>/.
type release map[string][]byte

func tarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func linuxArchive() string { return "gait_" + strings.TrimPrefix(version, "v") + "_linux_amd64.tar.gz" }

// newRelease holds a linux/amd64 archive whose gait prints a marker, and
// checksums.txt covering it.
func newRelease(t *testing.T) release {
	archive := tarGz(t, map[string]string{"gait": "#!/bin/sh\necho fake-gait \"$@\"\n", "README.md": "readme\n"})
	sum := sha256.Sum256(archive)
	return release{
		linuxArchive():  archive,
		"checksums.txt": fmt.Appendf(nil, "%s  %s\n", hex.EncodeToString(sum[:]), linuxArchive()),
	}
}

func serve(t *testing.T, rel release) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		name, ok := strings.CutPrefix(r.URL.Path, "/"+version+"/")
		body, found := rel[name]
		if !ok || !found {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

type runner struct{ cache, ghPath, ghOutput string }

func install(t *testing.T, baseURL string, r runner, extra ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", "install.sh")
	cmd.Env = append(os.Environ(),
		"GAIT_VERSION="+version, "GAIT_BASE_URL="+baseURL, "GAIT_VERIFY_SIGNATURE=false",
		"RUNNER_OS=Linux", "RUNNER_ARCH=X64", "RUNNER_TEMP="+t.TempDir(),
		"RUNNER_TOOL_CACHE="+r.cache, "GITHUB_PATH="+r.ghPath, "GITHUB_OUTPUT="+r.ghOutput)
	cmd.Env = append(cmd.Env, extra...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func newRunner(t *testing.T) runner {
	dir := t.TempDir()
	return runner{filepath.Join(dir, "cache"), filepath.Join(dir, "path"), filepath.Join(dir, "output")}
}

func requireUnix(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("install.sh runs under bash with POSIX tools; the Windows path is covered on Windows runners")
	}
}

func TestInstallVerifiesAndCaches(t *testing.T) {
	requireUnix(t)
	srv, hits := serve(t, newRelease(t))
	r := newRunner(t)
	out, err := install(t, srv.URL, r)
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	want := filepath.Join(r.cache, "gait", version, "linux_amd64")
	ghPath, _ := os.ReadFile(r.ghPath)
	if strings.TrimSpace(string(ghPath)) != want {
		t.Fatalf("GITHUB_PATH = %q, want %q", ghPath, want)
	}
	ghOut, _ := os.ReadFile(r.ghOutput)
	if !strings.Contains(string(ghOut), "version="+version+"\n") || !strings.Contains(string(ghOut), "path="+want+"\n") {
		t.Fatalf("GITHUB_OUTPUT = %q", ghOut)
	}
	got, err := exec.Command(filepath.Join(want, "gait"), "version").Output()
	if err != nil || string(got) != "fake-gait version\n" {
		t.Fatalf("installed gait: %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(want, "README.md")); err == nil {
		t.Fatal("only the binary is installed")
	}

	// A second run on the same runner uses the verified cache.
	before := hits.Load()
	if out, err := install(t, srv.URL, r); err != nil || hits.Load() != before {
		t.Fatalf("cached install downloaded again (%d requests) or failed: %v\n%s", hits.Load()-before, err, out)
	}
}

func TestInstallRefuses(t *testing.T) {
	requireUnix(t)
	tests := []struct {
		name   string
		change func(release)
		extra  []string
		want   string
	}{
		{"tampered archive", func(r release) {
			b := bytes.Clone(r[linuxArchive()])
			b[len(b)/2] ^= 0xff
			r[linuxArchive()] = b
		}, nil, "checksum mismatch"},
		{"no checksum line", func(r release) { r["checksums.txt"] = []byte("00  other.tar.gz\n") }, nil, "no entry for " + linuxArchive()},
		{"no checksums", func(r release) { delete(r, "checksums.txt") }, nil, "cannot download"},
		{"signature required without cosign", func(release) {}, []string{"GAIT_VERIFY_SIGNATURE=true", "PATH=/usr/bin:/bin"}, "cosign is not on PATH"},
		{"not a tag", func(release) {}, []string{"GAIT_VERSION=latest; rm -rf /"}, "is not a release tag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rel := newRelease(t)
			tc.change(rel)
			srv, _ := serve(t, rel)
			r := newRunner(t)
			out, err := install(t, srv.URL, r, tc.extra...)
			if err == nil {
				t.Fatalf("install succeeded:\n%s", out)
			}
			if !strings.Contains(out, tc.want) {
				t.Fatalf("output lacks %q:\n%s", tc.want, out)
			}
			if _, err := os.Stat(filepath.Join(r.cache, "gait", version)); err == nil {
				t.Fatal("a refused install left files in the tool cache")
			}
			if b, _ := os.ReadFile(r.ghPath); len(b) > 0 {
				t.Fatalf("a refused install changed PATH: %q", b)
			}
		})
	}
}

// TestInstallSnapshot installs from a real `make release-snapshot` build
// (GAIT_SETUP_DIST=dist) and runs the installed binary.
func TestInstallSnapshot(t *testing.T) {
	requireUnix(t)
	dist := os.Getenv("GAIT_SETUP_DIST")
	if dist == "" {
		t.Skip("GAIT_SETUP_DIST is not set; make release-snapshot sets it to the snapshot's dist/")
	}
	meta, err := os.ReadFile(filepath.Join(dist, "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(meta, &m); err != nil || m.Version == "" {
		t.Fatalf("dist/metadata.json: %v", err)
	}
	tag := "v" + m.Version
	srv := httptest.NewServer(http.StripPrefix("/"+tag+"/", http.FileServer(http.Dir(dist))))
	t.Cleanup(srv.Close)
	r := newRunner(t)
	arch := map[string]string{"amd64": "X64", "arm64": "ARM64"}[runtime.GOARCH]
	out, err := install(t, srv.URL, r, "GAIT_VERSION="+tag, "RUNNER_ARCH="+arch)
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	got, err := exec.Command(filepath.Join(r.cache, "gait", tag, "linux_"+runtime.GOARCH, "gait"), "version", "--json").Output()
	if err != nil || !strings.Contains(string(got), `"version":"`+tag+`"`) {
		t.Fatalf("installed gait version: %s %v", got, err)
	}
}
