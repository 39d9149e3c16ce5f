package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errOut, func(string) string { return "" })
	return code, out.String(), errOut.String()
}

func TestExplainOnlyBeforeDoubleDash(t *testing.T) {
	if code, out, _ := runCLI("version", "--explain"); code != 0 || !strings.Contains(out, "prints the gait version") {
		t.Fatalf("explain: %d %q", code, out)
	}
	// After "--" the flag belongs to another program: version takes no arguments.
	if code, _, _ := runCLI("version", "--", "--explain"); code != int(exitcode.InvalidInput) {
		t.Fatalf("--explain after -- was taken as gait's: exit %d", code)
	}
}

func TestUsageErrorsExitSix(t *testing.T) {
	for _, args := range [][]string{{"nope"}, {"version", "--bogus"}, {"verify"}, {"run", "diff", "a"}} {
		code, out, errOut := runCLI(args...)
		if code != int(exitcode.InvalidInput) || out != "" || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

func TestOneLineErrors(t *testing.T) {
	err := fmt.Errorf("first: %w", errors.Join(errors.New("a"), exitcode.Invalidf("b\nc")))
	if msg := oneLineMessage(err); msg != "first: a; b; c" {
		t.Fatalf("msg %q", msg)
	}
}
