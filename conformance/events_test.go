package conformance_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestActionEvents runs `gait action regress` on every real GitHub event
// payload in conformance/github-events, without a token: pull requests are
// recognised (the comment is skipped only for want of a token); every other
// event skips the comment as not a pull request. JUnit, the result, the
// outputs and the summary are written either way. (The actions package tests
// the comment itself on the project's own payloads.)
func TestActionEvents(t *testing.T) {
	events := need(t, "conformance/github-events")
	entries, err := os.ReadDir(events)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	for _, args := range [][]string{{"demo"}, {"regress", "init", "--from", "run_demo"}} {
		cmd := exec.Command(gaitBin, args...)
		cmd.Dir = work
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gait %v: %v\n%s", args, err, out)
		}
	}
	n := 0
	for _, e := range entries {
		event, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		n++
		t.Run(event, func(t *testing.T) {
			path := filepath.Join(events, e.Name())
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var payload struct {
				PullRequest *struct {
					Head struct {
						SHA string `json:"sha"`
					} `json:"head"`
				} `json:"pull_request"`
			}
			if err := json.Unmarshal(raw, &payload); err != nil {
				t.Fatal(err)
			}
			name, _, _ := strings.Cut(event, ".")
			tmp := t.TempDir()
			summary := filepath.Join(tmp, "summary")
			cmd := exec.Command(gaitBin, "action", "regress")
			cmd.Dir = work
			cmd.Env = append(os.Environ(),
				"GITHUB_EVENT_NAME="+name, "GITHUB_EVENT_PATH="+path,
				"GITHUB_REPOSITORY=Codertocat/Hello-World", "GITHUB_SERVER_URL=https://github.example",
				"GITHUB_SHA=0000000000000000000000000000000000000000",
				"GITHUB_OUTPUT="+filepath.Join(tmp, "output"), "GITHUB_STEP_SUMMARY="+summary,
				"GITHUB_WORKSPACE="+work, "INPUT_JUNIT="+filepath.Join(tmp, "junit.xml"),
				"INPUT_TOKEN=", "GITHUB_TOKEN=")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("action regress: %v\n%s", err, out)
			}
			if name == "pull_request" {
				if payload.PullRequest == nil || !strings.Contains(string(out), "::notice::gait regress: no pull request comment: no token") {
					t.Errorf("pull request not recognised:\n%s", out)
				}
			} else if !strings.Contains(string(out), `::notice::gait regress: no pull request comment: event "`+name+`" is not a pull request`) {
				t.Errorf("no notice for %s:\n%s", name, out)
			}
			for _, f := range []string{"junit.xml", "regress_result.json", "output", "summary"} {
				if _, err := os.Stat(filepath.Join(tmp, f)); err != nil {
					t.Errorf("%s not written: %v", f, err)
				}
			}
		})
	}
	if n < 8 {
		t.Fatalf("conformance input missing: only %d event payloads in conformance/github-events", n)
	}
}
