package textdiff

import (
	"strings"
	"testing"
)

// TestUnifiedOneLinePerLine: a newline inside a line (a tool name from a
// fixture) is escaped, so it cannot add lines of its own to the diff.
func TestUnifiedOneLinePerLine(t *testing.T) {
	got := Unified("a", "b", []string{"1. tool.x\n::error::forged\r\u202e"}, []string{"1. tool.y"})
	want := "--- a\n+++ b\n@@ -1 +1 @@\n-1. tool.x\\n::error::forged\\r\\u202e\n+1. tool.y\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if n := strings.Count(got, "\n"); n != 5 {
		t.Fatalf("%d lines", n)
	}
}

func TestVisible(t *testing.T) {
	for in, want := range map[string]string{
		"plain ✅":    "plain ✅",
		"a\tb\x00c":  `a\tb\x00c`,
		"\x7f\u0085": `\x7f\x85`,
		"\xff":       "\uFFFD",
		"\u2028":     `\u2028`,
	} {
		if got := Visible(in); got != want {
			t.Errorf("Visible(%q) = %q, want %q", in, got, want)
		}
		if NeedsEscape(in) != (in != want) {
			t.Errorf("NeedsEscape(%q) = %v", in, NeedsEscape(in))
		}
	}
}
