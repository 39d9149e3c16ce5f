package actions

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gait-dev/gait/report/reporttest"
)

// fakeGait stands in for gait in the policy-test template: every intent
// is allowed, and its output echoes the (hostile) paths it was given, as
// an error message quoting a file name would.
const fakeGait = `#!/bin/sh
case "$1 $2" in
"policy validate") printf 'policy=%s\n::error::echoed by gait\n' "$3"; exit 0 ;;
"policy test")
  if [ "$5" = "--json" ]; then printf '{"verdict":"allow"}\n'; else printf 'verdict=allow\n'; fi
  printf 'gait: %s\n::warning::echoed by gait\n' "$4" >&2
  exit 0 ;;
esac
exit 2
`

// TestPolicyTemplateIsInert runs the policy-test workflow template's steps
// with bash as the runner does, on a pull request whose policy and
// fixture file names try to start workflow commands and add mentions and
// links to the job summary.
func TestPolicyTemplateIsInert(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	for _, tool := range []string{"openssl", "sed", "head", "basename", "dirname"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	steps := templateSteps(t, filepath.Join("..", "workflows-templates", "gait-policy-test.yml"), "policy-test")

	ws := t.TempDir()
	bin := filepath.Join(t.TempDir(), "bin")
	write := func(path, data string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(bin, "gait"), fakeGait, 0o755)
	hostile := []string{
		"x\n::error::forged",
		"evil @team [click](https:) www.example.com #1",
		"a|b`c",
	}
	write(filepath.Join(ws, "policies", "ok.yaml"), "x", 0o644)
	write(filepath.Join(ws, "policies", "tests", "ok", "allow", "c1.json"), "{}", 0o644)
	write(filepath.Join(ws, "policies", "tests", "ok", "block", "c2.json"), "{}", 0o644)
	for _, h := range hostile {
		write(filepath.Join(ws, "policies", h+".yaml"), "x", 0o644)
		write(filepath.Join(ws, "policies", "tests", h, "allow", "c.json"), "{}", 0o644)
		write(filepath.Join(ws, "policies", "tests", "ok", "allow", h+".json"), "{}", 0o644)
	}

	summary := filepath.Join(t.TempDir(), "summary")
	var stdout strings.Builder
	for _, name := range []string{"Validate policies", "Test intent fixtures"} {
		script := filepath.Join(t.TempDir(), "step.sh")
		write(script, steps[name], 0o644)
		cmd := exec.Command(bash, "--noprofile", "--norc", "-eo", "pipefail", script)
		cmd.Dir = ws
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "GITHUB_STEP_SUMMARY="+summary)
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err == nil {
			t.Errorf("%s: passed, want a failure for the unsafe names", name)
		}
		// The runner reads commands on both streams.
		stdout.WriteString(out.String())
		stdout.WriteString(errOut.String())
	}

	// Outside stop-commands blocks, only the template's own annotations.
	errors := 0
	resume := ""
	for _, line := range strings.Split(stdout.String(), "\n") {
		trimmed := strings.TrimLeft(line, " \t")
		switch {
		case resume != "":
			if trimmed == "::"+resume+"::" {
				resume = ""
			}
		case strings.HasPrefix(trimmed, "::stop-commands::"):
			resume = strings.TrimPrefix(trimmed, "::stop-commands::")
		case strings.HasPrefix(trimmed, "::error file=policies/tests/ok/block/c2.json,title=gait policy test::"),
			strings.HasPrefix(trimmed, "::error title=gait policy test::a file in policies/tests/ has characters"),
			strings.HasPrefix(trimmed, "::error title=gait policy validate::a file in policies/ has characters"):
			errors++
		case strings.HasPrefix(trimmed, "::"):
			t.Errorf("workflow command the template did not mean: %q", line)
		}
	}
	if want := 1 + 2*len(hostile) + len(hostile); errors != want {
		t.Errorf("%d error annotations, want %d:\n%s", errors, want, stdout.String())
	}

	data, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	el := reporttest.Parse(string(data))
	if el.Headings != [7]int{2: 1} || el.TableRows != 2+2*len(hostile) ||
		len(el.Links)+len(el.Images)+len(el.Autolinks)+len(el.Mentions)+len(el.References)+len(el.HTML)+len(el.Commands) > 0 {
		t.Errorf("summary: %+v\n%s", el, data)
	}
}

// templateSteps returns the run scripts of a workflow job's steps by name.
func templateSteps(t *testing.T, path, job string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Name string `yaml:"name"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]string{}
	for _, s := range wf.Jobs[job].Steps {
		if s.Run != "" {
			out[s.Name] = s.Run
		}
	}
	return out
}
