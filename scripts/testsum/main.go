// Command testsum reads `go test -json` on stdin, prints what a plain
// `go test` prints for packages and failing tests, lists skipped tests with
// their reason, and ends with one line counting the tests that ran. It exits
// 1 when a test or a build failed, so `go test -json ./... | testsum` is a
// drop-in for `go test ./...`:
//
//	go test -json ./... | go run ./scripts/testsum -label "make test"
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	ImportPath  string
	FailedBuild string
}

type key struct{ pkg, test string }

func main() {
	label := flag.String("label", "go test", "name of the suite in the summary line")
	flag.Parse()
	os.Exit(run(os.Stdin, os.Stdout, *label))
}

func run(in io.Reader, out io.Writer, label string) int {
	var (
		passed, failed, skipped int
		failedPkgs              int
		output                  = map[key][]string{}
		skips                   []string
	)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if err := json.Unmarshal(line, &ev); err != nil || ev.Action == "" {
			// Not an event (go vet or the linker writing to stdout): pass it on.
			fmt.Fprintln(out, string(line))
			continue
		}
		switch {
		case ev.Action == "build-output":
			fmt.Fprint(out, ev.Output)
		case ev.Action == "build-fail":
			failedPkgs++
		case ev.Test == "" && ev.Action == "output":
			// Package lines: "ok  pkg 1.2s", "FAIL pkg", TestMain prints.
			if !strings.HasPrefix(ev.Output, "PASS") && !strings.HasPrefix(ev.Output, "FAIL\n") {
				fmt.Fprint(out, ev.Output)
			}
		case ev.Test == "" && ev.Action == "fail":
			if ev.FailedBuild == "" {
				failedPkgs++
			}
		case ev.Test == "":
			// Other package events (pass, skip for no test files, start).
		case ev.Action == "output":
			k := key{ev.Package, ev.Test}
			output[k] = append(output[k], ev.Output)
		case ev.Action == "pass":
			passed++
			delete(output, key{ev.Package, ev.Test})
		case ev.Action == "fail":
			failed++
			k := key{ev.Package, ev.Test}
			for _, o := range output[k] {
				fmt.Fprint(out, o)
			}
			delete(output, k)
		case ev.Action == "skip":
			skipped++
			k := key{ev.Package, ev.Test}
			skips = append(skips, fmt.Sprintf("%s %s: %s", ev.Package, ev.Test, reason(output[k])))
			delete(output, k)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(out, "testsum: reading go test -json: %v\n", err)
		return 1
	}
	sort.Strings(skips)
	for _, s := range skips {
		fmt.Fprintln(out, "skip", s)
	}
	fmt.Fprintf(out, "%s: %d tests ran (subtests included): %d passed, %d failed, %d skipped\n", label, passed+failed+skipped, passed, failed, skipped)
	if failed > 0 || failedPkgs > 0 {
		if failedPkgs > 0 && failed == 0 {
			fmt.Fprintf(out, "%s: %d packages failed\n", label, failedPkgs)
		}
		return 1
	}
	return 0
}

// reason is the message a skipped test logged, without the "--- SKIP" line.
func reason(lines []string) string {
	var msg []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		msg = append(msg, t)
	}
	if len(msg) == 0 {
		return "(no reason given)"
	}
	return strings.Join(msg, " ")
}
