package textdiff

import "testing"

func TestUnified(t *testing.T) {
	if got := Unified("a", "b", []string{"x"}, []string{"x"}); got != "" {
		t.Fatalf("equal inputs gave %q", got)
	}
	got := Unified("expected", "actual", []string{"tool.search", "tool.fetch"}, []string{"tool.search", "tool.delete"})
	want := "--- expected\n+++ actual\n@@ -1,2 +1,2 @@\n tool.search\n-tool.fetch\n+tool.delete\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestFirstDifference(t *testing.T) {
	tests := []struct {
		a, b []string
		want int
	}{
		{[]string{"a"}, []string{"a"}, -1},
		{[]string{"a", "b"}, []string{"a", "c"}, 1},
		{[]string{"a"}, []string{"a", "b"}, 1},
		{nil, []string{"a"}, 0},
	}
	for _, tt := range tests {
		if got := FirstDifference(tt.a, tt.b); got != tt.want {
			t.Errorf("FirstDifference(%v,%v) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
