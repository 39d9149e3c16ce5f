package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzResolve: whatever path a request names, resolve either refuses it or
// answers a path inside the workspace's gait-out/ or fixtures/ (or its
// regress_result.json), symlinks followed.
func FuzzResolve(f *testing.F) {
	for _, seed := range []string{
		"gait-out/runpack_run_demo.zip", "fixtures/a/runpack.zip", "regress_result.json", "../x", "/etc/passwd",
		"gait-out/../../x", `gait-out\..\x`, "gait-out/link/../../x", "gait-out/./runpack_run_demo.zip", "fixtures/../gait-out/x.zip",
		"gait-out/\x00", "", ".", "gait-out/link/secret",
	} {
		f.Add(seed)
	}
	ws := f.TempDir()
	outside := f.TempDir()
	if err := os.MkdirAll(filepath.Join(ws, "gait-out"), 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o644); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(ws, "gait-out", "link")); err != nil {
		f.Fatal(err)
	}
	s, err := New(Options{Listen: "127.0.0.1:0", Workspace: ws})
	if err != nil {
		f.Fatal(err)
	}
	defer s.ln.Close()
	f.Fuzz(func(t *testing.T, rel string) {
		abs, err := s.resolve(rel)
		if err != nil {
			return
		}
		inside, err := filepath.Rel(s.root, abs)
		if err != nil || !filepath.IsLocal(inside) {
			t.Fatalf("resolve(%q) = %s, outside the workspace", rel, abs)
		}
		top, _, _ := strings.Cut(filepath.ToSlash(inside), "/")
		if top != "gait-out" && top != "fixtures" && inside != "regress_result.json" {
			t.Fatalf("resolve(%q) = %s, outside gait-out/ and fixtures/", rel, abs)
		}
	})
}
