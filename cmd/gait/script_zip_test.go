package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"

	"github.com/rogpeppe/go-internal/testscript"
)

// scriptCmds are the scripts' own commands for building tampered inputs.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"zipset": zipSet,
}

// zipSet rewrites a zip in place: `zipset file.zip name content` replaces
// (or adds) entry name; `zipset -dup file.zip name content` appends a second
// entry of that name; `zipset -rm file.zip name` removes it.
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
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	replaced := false
	for _, f := range zr.File {
		if f.Name == args[1] && mode != "-dup" {
			if mode == "-rm" || replaced {
				continue
			}
			w, err := zw.Create(f.Name)
			ts.Check(err)
			_, err = io.WriteString(w, args[2])
			ts.Check(err)
			replaced = true
			continue
		}
		ts.Check(zw.Copy(f))
	}
	if mode != "-rm" && !replaced {
		w, err := zw.Create(args[1])
		ts.Check(err)
		_, err = io.WriteString(w, args[2])
		ts.Check(err)
	}
	ts.Check(zw.Close())
	ts.Check(os.WriteFile(path, buf.Bytes(), 0o644))
}
