package actions

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type templateWorkflow struct {
	Name        string            `yaml:"name"`
	On          map[string]any    `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]struct {
		If    string `yaml:"if"`
		Steps []struct {
			Name string            `yaml:"name"`
			If   string            `yaml:"if"`
			Uses string            `yaml:"uses"`
			Run  string            `yaml:"run"`
			With map[string]string `yaml:"with"`
			Env  map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func readTemplate(t *testing.T, name string) templateWorkflow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "workflows-templates", name))
	if err != nil {
		t.Fatal(err)
	}
	var wf templateWorkflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return wf
}

// TestCommentTemplate checks the fork-safe pair of templates: the regress
// workflow uploads the result document and pull_request.json; the comment
// workflow runs on its completion with only the permissions it needs,
// downloads that artifact from the triggering run, never checks out or
// runs the pull request's code, and puts nothing from the event into a
// script.
func TestCommentTemplate(t *testing.T) {
	regressWF := readTemplate(t, "gait-regress.yml")
	commentWF := readTemplate(t, "gait-regress-comment.yml")

	var artifact string
	for _, s := range regressWF.Jobs["regress"].Steps {
		if strings.HasPrefix(s.Uses, "actions/upload-artifact@") && s.With["name"] != ReportArtifact {
			artifact = s.With["name"]
			for _, f := range []string{"gait-out/" + resultName, "gait-out/" + PullRequestFile} {
				if !slices.Contains(strings.Fields(s.With["path"]), f) {
					t.Errorf("gait-regress.yml uploads %q, not %s", s.With["path"], f)
				}
			}
		}
	}

	wr, _ := commentWF.On["workflow_run"].(map[string]any)
	if len(commentWF.On) != 1 || wr == nil || !slices.Equal(anyStrings(wr["workflows"]), []string{regressWF.Name}) ||
		!slices.Equal(anyStrings(wr["types"]), []string{"completed"}) {
		t.Errorf("gait-regress-comment.yml on: %v; want workflow_run completed of %q", commentWF.On, regressWF.Name)
	}
	if want := map[string]string{"actions": "read", "pull-requests": "write"}; len(commentWF.Permissions) != len(want) ||
		commentWF.Permissions["actions"] != "read" || commentWF.Permissions["pull-requests"] != "write" {
		t.Errorf("permissions %v, want %v", commentWF.Permissions, want)
	}
	job, ok := commentWF.Jobs["comment"]
	if !ok || len(commentWF.Jobs) != 1 || !strings.Contains(job.If, "github.event.workflow_run.event == 'pull_request'") {
		t.Fatalf("jobs %+v", commentWF.Jobs)
	}
	var download, ran string
	for _, s := range job.Steps {
		switch {
		case strings.HasPrefix(s.Uses, "actions/checkout@"):
			t.Error("the comment workflow checks out code")
		case strings.HasPrefix(s.Uses, "actions/download-artifact@v4"):
			if s.With["name"] != artifact || s.With["run-id"] != "${{ github.event.workflow_run.id }}" {
				t.Errorf("download %v, want artifact %q of the triggering run", s.With, artifact)
			}
			download = s.With["path"]
		case s.Uses != "" && s.Uses != "gait-dev/gait/setup@v1":
			t.Errorf("unexpected action %s", s.Uses)
		case s.Run != "":
			if strings.Contains(s.Run, "${{") {
				t.Errorf("step %q interpolates an expression into its script: %q", s.Name, s.Run)
			}
			if s.Env["INPUT_TOKEN"] != "${{ github.token }}" {
				t.Errorf("step %q env %v", s.Name, s.Env)
			}
			ran = s.Run
		}
	}
	if download == "" || strings.TrimSpace(ran) != "gait action comment --from "+download+" --config "+DefaultConfig {
		t.Errorf("download to %q, run %q", download, ran)
	}
}

func anyStrings(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, e := range l {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}
