// Command startup measures process start-up for docs/performance.md: a
// hello-world Go binary, one that only imports gait's dependencies,
// `gait version` and one `gait gate eval`, run in turn (so load on a
// shared machine falls on all alike) and reported as min / median / max
// wall time from fork to exit, and the CPU time each process used:
//
//	make build && go run ./scripts/startup -gait bin/gait -n 50 [-reference path/to/gait-v1]
//
// With -reference, the same two commands of another gait binary (such as
// the v1 reference) are timed in the same rounds.
//
// Run it from the repository root (gate eval reads testdata/gate).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

func main() {
	gait := flag.String("gait", "bin/gait", "gait binary to measure")
	n := flag.Int("n", 50, "runs of each command")
	reference := flag.String("reference", "", "another gait binary to time alongside (optional)")
	flag.Parse()
	dir, err := os.MkdirTemp("", "gait-startup-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	for _, p := range []string{"hello", "deps"} {
		build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, p), "./scripts/startup/"+p)
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			fail(err)
		}
	}
	bin, err := filepath.Abs(*gait)
	if err != nil {
		fail(err)
	}
	trace := filepath.Join(dir, "trace.json")
	cases := []struct {
		name string
		argv []string
	}{
		{"hello-world Go binary", []string{filepath.Join(dir, "hello")}},
		{"imports only (net/http, MCP SDK, go-github, cobra, yaml)", []string{filepath.Join(dir, "deps")}},
		{"`gait version`", []string{bin, "version"}},
		{"`gait gate eval` (allow, trace written)", []string{bin, "gate", "eval", "--policy", "testdata/gate/policy/strict.yaml",
			"--intent", "testdata/gate/intents/read.json", "--trace-out", trace}},
	}
	if *reference != "" {
		ref, err := filepath.Abs(*reference)
		if err != nil {
			fail(err)
		}
		cases = append(cases, []struct {
			name string
			argv []string
		}{
			{"reference `gait version`", []string{ref, "version"}},
			{"reference `gait gate eval` (allow, trace written)", []string{ref, "gate", "eval", "--policy", "testdata/gate/policy/strict.yaml",
				"--intent", "testdata/gate/intents/read.json", "--trace-out", trace}},
		}...)
	}
	times := make([][]time.Duration, len(cases))
	cpu := make([][]time.Duration, len(cases))
	for range *n {
		for i, c := range cases {
			cmd := exec.Command(c.argv[0], c.argv[1:]...)
			start := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				fail(fmt.Errorf("%s: %v: %s", strings.Join(c.argv, " "), err, out))
			}
			times[i] = append(times[i], time.Since(start))
			cpu[i] = append(cpu[i], cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
		}
	}
	fmt.Printf("| command | wall, min / median / max (%d runs) | CPU (user + sys), min / median |\n|---|---|---|\n", *n)
	for i, c := range cases {
		t, u := times[i], cpu[i]
		slices.Sort(t)
		slices.Sort(u)
		fmt.Printf("| %s | %s / %s / %s ms | %s / %s ms |\n", c.name, ms(t[0]), ms(t[len(t)/2]), ms(t[len(t)-1]), ms(u[0]), ms(u[len(u)/2]))
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "startup:", err)
	os.Exit(1)
}
