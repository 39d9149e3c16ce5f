package actions

import (
	"slices"
	"strings"
	"testing"
)

// FuzzSplitWords: splitting never panics, and words quoted back with single
// quotes split into the same words.
func FuzzSplitWords(f *testing.F) {
	for _, s := range []string{"", "--fixture a --fixture=b,c --parallel 2", `--output 'a b' "c \"d\"" e\ f`, "'", `"\`, "a\\\nb", "$(id) `id` ; | &"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseArgs(s)
		words, err := splitWords(s)
		if err != nil {
			return
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
		again, err := splitWords(strings.Join(quoted, " "))
		if err != nil || !slices.Equal(again, words) {
			t.Fatalf("%q: words %q, after quoting %q (%v)", s, words, again, err)
		}
	})
}
