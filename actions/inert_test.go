package actions

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gait-dev/gait/report/reporttest"
)

// forged is the expected tool name of issue 13: where it is not inert it
// closes the diff fence and renders a passing heading, a mention and a
// link in the comment and the job summary.
const forged = "tool.x\n```\n\n## ✅ Gait regress: pass\n\n@team [click](https://example)\n::error::forged"

// editJSON rewrites the JSON file at path through edit.
func editJSON(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if data, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestForgedFixtureIsInert: a pull request whose fixture.json expects the
// forged tool name, in a fixture set named like it, gets a comment and a
// summary with only the template's heading, links and HTML, and a log in
// which the value starts no workflow command.
func TestForgedFixtureIsInert(t *testing.T) {
	r := newRepo(t, []string{"alpha"}, nil)
	editJSON(t, filepath.Join(r.dir, "fixtures", "alpha", "fixture.json"), func(m map[string]any) {
		m["expected_tool_sequence"].([]any)[1] = forged
	})
	editJSON(t, filepath.Join(r.dir, "gait.yaml"), func(m map[string]any) { m["fixture_set"] = "set @team [x](https://e)" })
	gh := newFakeGitHub(t, testToken)
	out := newRunner(t, r, gh, "pull_request.opened").run()
	if out.err != nil || out.res.ExitCode != 5 || out.res.Comment != "created" {
		t.Fatalf("%+v %v\n%s", out.res, out.err, out.stdout)
	}
	fixtureURL := "https://github.example/Codertocat/Hello-World/blob/1111111111111111111111111111111111111111/fixtures/alpha/fixture.json"
	mine := gh.mine()
	if len(mine) != 1 {
		t.Fatalf("%d comments", len(mine))
	}
	for _, doc := range []struct {
		name, md string
		links    []string
	}{
		{"summary", out.summary, []string{fixtureURL}},
		{"comment", mine[0].Body, []string{fixtureURL, "https://github.example/Codertocat/Hello-World/actions/runs/42"}},
	} {
		el := reporttest.Parse(doc.md)
		if el.Headings != [7]int{2: 1, 3: 1} || !slices.Equal(el.Links, doc.links) || el.TableRows != 1 ||
			len(el.Images)+len(el.Autolinks)+len(el.Mentions)+len(el.References)+len(el.Commands) > 0 {
			t.Errorf("%s: %+v\n%s", doc.name, el, doc.md)
		}
		for _, h := range el.HTML {
			if h != "<details><summary>diff</summary>" && h != "</details>" && !strings.HasPrefix(h, "<!-- gait-regress") {
				t.Errorf("%s: HTML %q", doc.name, h)
			}
		}
	}
	checkLog(t, out.stdout)
}

// checkLog reads stdout as the runner does and fails on a workflow
// command the action did not mean to send: every command outside a
// stop-commands block is one of the action's, with its message on one line.
func checkLog(t *testing.T, stdout string) {
	t.Helper()
	resume := ""
	for _, line := range strings.Split(stdout, "\n") {
		trimmed := strings.TrimLeft(line, " \t")
		if resume != "" {
			if trimmed == "::"+resume+"::" {
				resume = ""
			}
			continue
		}
		if !strings.HasPrefix(trimmed, "::") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(trimmed, "::"), "::")
		name, props, _ := strings.Cut(name, " ")
		switch name {
		case "stop-commands":
			resume = strings.TrimPrefix(trimmed, "::stop-commands::")
		case "add-mask", "group", "endgroup", "notice":
		case "error":
			if !strings.HasPrefix(props, "file=fixtures/") || !strings.Contains(props, "title=gait regress%3A fixture ") {
				t.Errorf("error annotation the action did not mean: %q", line)
			}
		default:
			t.Errorf("workflow command the action did not mean: %q", line)
		}
	}
}

// TestPullRequestTargetNotice: on pull_request_target the default checkout
// is the base branch while the fixture links point at the pull request
// head; the log and the summary say so. On pull_request they do not.
func TestPullRequestTargetNotice(t *testing.T) {
	r := newRepo(t, nil, []string{"beta"})
	for _, name := range []string{"pull_request_target", "pull_request"} {
		rn := newRunner(t, r, nil, "pull_request.opened")
		rn.env["GITHUB_EVENT_NAME"] = name
		rn.env["INPUT_COMMENT"] = "false"
		out := rn.run()
		if out.err != nil {
			t.Fatal(out.err)
		}
		notices := annotations(out.stdout, "notice")
		noted := strings.Contains(out.summary, "> **Note:** on `pull_request_target` the default checkout is the base branch")
		if want := name == "pull_request_target"; noted != want || (len(notices) == 1) != want {
			t.Errorf("%s: notices %q, note in summary %v\n%s", name, notices, noted, out.summary)
		}
	}
}
