package scout

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

type fixtureFile struct {
	name string
	data []byte
}

// walkFixture reads every file of testdata/repo.
func walkFixture(tb testing.TB) []fixtureFile {
	tb.Helper()
	var out []fixtureFile
	err := filepath.WalkDir(filepath.Join("testdata", "repo"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		out = append(out, fixtureFile{d.Name(), data})
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
