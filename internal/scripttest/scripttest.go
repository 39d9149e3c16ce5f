// Package scripttest holds the custom testscript commands shared by the
// CLI scripts (cmd/gait) and the conformance scripts (conformance).
package scripttest

import (
	"archive/zip"
	"errors"
	"io"
	"os/exec"
	"strconv"
	"strings"

	"encoding/json"

	"github.com/gait-dev/gait/schemas"
	"github.com/rogpeppe/go-internal/testscript"
	"gopkg.in/yaml.v3"
)

// Cmds returns the commands:
//
//	gait-exit N args...     run gait with args; it must exit with code N
//	schema NAME FILE [ENTRY] FILE (or ENTRY of the zip FILE) validates against
//	                        schemas/NAME; .jsonl documents line by line,
//	                        .yaml and .yml documents as YAML
//	zipset [-dup|-rm] ZIP NAME [CONTENT]
//	                        rewrite entry NAME of ZIP (canonically), remove
//	                        it, or append a duplicate, to build tampered inputs
//	env-file VAR FILE       set VAR to FILE's text (trimmed), as a key a
//	                        command reads from the environment
func Cmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"gait-exit": gaitExit,
		"schema":    schema,
		"zipset":    zipSet,
		"env-file":  envFile,
	}
}

func envFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: env-file VAR FILE")
	}
	ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile(args[1])))
}

func gaitExit(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("gait-exit does not support !; state the expected exit code")
	}
	if len(args) < 1 {
		ts.Fatalf("usage: gait-exit N args...")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("gait-exit: %q is not an exit code", args[0])
	}
	got := 0
	if err := ts.Exec("gait", args[1:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("gait-exit: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("gait exited %d, want %d", got, want)
	}
}

func schema(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 && len(args) != 3 {
		ts.Fatalf("usage: schema NAME FILE [ZIP-ENTRY]")
	}
	name, file := args[0], ts.MkAbs(args[1])
	doc := file
	var data []byte
	if len(args) == 3 {
		doc = args[2]
		zr, err := zip.OpenReader(file)
		ts.Check(err)
		defer zr.Close()
		f, err := zr.Open(doc)
		ts.Check(err)
		data, err = io.ReadAll(f)
		ts.Check(err)
	} else {
		data = []byte(ts.ReadFile(args[1]))
	}
	var err error
	if strings.HasSuffix(doc, ".yaml") || strings.HasSuffix(doc, ".yml") {
		var v any
		ts.Check(yaml.Unmarshal(data, &v))
		data, err = json.Marshal(v)
		ts.Check(err)
	}
	if strings.HasSuffix(doc, ".jsonl") {
		err = schemas.ValidateLines(name, data)
	} else {
		err = schemas.Validate(name, data)
	}
	switch {
	case err != nil && !neg:
		ts.Fatalf("%s does not validate against schemas/%s: %v", doc, name, err)
	case err == nil && neg:
		ts.Fatalf("%s validates against schemas/%s", doc, name)
	}
}
