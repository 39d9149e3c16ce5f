package scripttest

import (
	"archive/zip"
	"bytes"
	"io"
	"os"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/gait-dev/gait/internal/safezip"
)

// zipSet rewrites a zip in place as a canonical archive, so only the content
// is wrong: `zipset file.zip name content` replaces or adds entry name;
// `zipset -rm file.zip name` removes it; `zipset -dup file.zip name content`
// appends a second entry of that name.
func zipSet(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! zipset")
	}
	mode := ""
	if len(args) > 0 && (args[0] == "-dup" || args[0] == "-rm") {
		mode, args = args[0], args[1:]
	}
	if (mode == "-rm" && len(args) != 2) || (mode != "-rm" && len(args) != 3) {
		ts.Fatalf("usage: zipset [-dup|-rm] file.zip name [content]")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	ts.Check(err)
	var files []safezip.File
	for _, f := range zr.File {
		if f.Name == args[1] && mode != "-dup" {
			continue
		}
		rc, err := f.Open()
		ts.Check(err)
		b, err := io.ReadAll(rc)
		ts.Check(err)
		files = append(files, safezip.File{Name: f.Name, Data: b})
	}
	if mode == "" {
		files = append(files, safezip.File{Name: args[1], Data: []byte(args[2])})
	}
	out, err := safezip.Bytes(files)
	ts.Check(err)
	if mode == "-dup" {
		// The canonical writer never writes a name twice; append one by hand.
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, f := range zr.File {
			ts.Check(zw.Copy(f))
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: args[1], Method: zip.Deflate, Modified: safezip.FixedTime})
		ts.Check(err)
		_, err = io.WriteString(w, args[2])
		ts.Check(err)
		ts.Check(zw.Close())
		out = buf.Bytes()
	}
	ts.Check(os.WriteFile(path, out, 0o644))
}
