package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWorkspaceLabel(t *testing.T) {
	home := t.TempDir()
	sep := string(filepath.Separator)
	for _, tt := range []struct{ root, home, want string }{
		{filepath.Join(home, "agent"), home, "~" + sep + "agent"},
		{filepath.Join(home, "a", "b"), home, "~" + sep + filepath.Join("a", "b")},
		{home, home, "~"},
		{filepath.Join(home, "agent"), "", filepath.Join(home, "agent")},
		{filepath.Join(home, "agent"), filepath.Join(home, "other"), filepath.Join(home, "agent")},
		{home + "x", home, home + "x"},
		{filepath.Join(home, "agent"), sep, filepath.Join(home, "agent")},
	} {
		if got := workspaceLabel(tt.root, tt.home); got != tt.want {
			t.Errorf("workspaceLabel(%q, %q) = %q, want %q", tt.root, tt.home, got, tt.want)
		}
	}
}

// TestFooterShowsWorkspaceUnderHome: the footer names a workspace under the
// home folder as ~/…, with the whole path in its tooltip.
func TestFooterShowsWorkspaceUnderHome(t *testing.T) {
	home, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ws := filepath.Join(home, "support-agent")
	if err := os.Mkdir(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Listen: "127.0.0.1:0", Workspace: ws, Home: home, Version: "t"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.ln.Close() })
	body := do(t, s, "GET", "/runs", "", nil).Body.String()
	want := `workspace <code title="` + ws + `">~` + string(filepath.Separator) + `support-agent</code>`
	if !strings.Contains(body, want) {
		t.Errorf("footer does not show %s:\n%s", want, body)
	}
}
