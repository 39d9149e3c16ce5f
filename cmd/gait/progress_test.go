package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestProgressOffOutsideTerminals(t *testing.T) {
	env := map[string]string{}
	a := &app{errOut: &bytes.Buffer{}, getenv: func(k string) string { return env[k] }}
	if a.newProgress("regress") != nil {
		t.Error("progress on for a buffer")
	}
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a.errOut = f
	if a.newProgress("regress") != nil {
		t.Error("progress on for a regular file")
	}
	// /dev/null is a character device: the terminal case, minus the screen.
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	a.errOut = null
	if a.newProgress("regress") == nil {
		t.Error("progress off for a character device")
	}
	env["CI"] = "true"
	if a.newProgress("regress") != nil {
		t.Error("progress on with CI=true")
	}
	env["CI"] = ""
	a.json = true
	if a.newProgress("regress") != nil {
		t.Error("progress on with --json")
	}
}

func TestProgressDraw(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, label: "regress"}
	p.update(1, 3)
	p.update(3, 3)
	p.done()
	got := buf.String()
	if !strings.Contains(got, "regress 1/3") || !strings.Contains(got, "regress 3/3") || !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("progress drew %q", got)
	}
	var none *progress
	none.update(1, 2) // a nil progress draws nothing and does not panic
	none.done()
}
