package actions

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gait-dev/gait/internal/exitcode"
)

type matrixWorkflow struct {
	Env         map[string]string `yaml:"env"`
	Concurrency struct {
		Group            string `yaml:"group"`
		CancelInProgress bool   `yaml:"cancel-in-progress"` //nolint:tagliatelle // GitHub's workflow key
	} `yaml:"concurrency"`
	Jobs map[string]struct {
		Needs    string `yaml:"needs"`
		If       string `yaml:"if"`
		Strategy struct {
			FailFast *bool `yaml:"fail-fast"` //nolint:tagliatelle // GitHub's workflow key
			Matrix   struct {
				Shard []int `yaml:"shard"`
			} `yaml:"matrix"`
		} `yaml:"strategy"`
		Steps []struct {
			Uses string            `yaml:"uses"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// step returns the with: of job's first step using an action with prefix.
func (wf *matrixWorkflow) step(t *testing.T, job, prefix string) map[string]string {
	t.Helper()
	for _, s := range wf.Jobs[job].Steps {
		if strings.HasPrefix(s.Uses, prefix) {
			return s.With
		}
	}
	t.Fatalf("gait-regress-matrix.yml: job %s has no %s step", job, prefix)
	return nil
}

// TestShardMatrix runs the jobs of gait-regress-matrix.yml, as the template
// configures them, against a fake GitHub: every shard only writes files,
// then one merge job reports once, with the unsharded run's JUnit, result
// document and summary, and exactly one comment.
func TestShardMatrix(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "workflows-templates", "gait-regress-matrix.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf matrixWorkflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	shardJob, mergeJob := wf.Jobs["shard"], wf.Jobs["merge"]
	matrix := shardJob.Strategy.Matrix.Shard
	if len(matrix) < 2 || strconv.Itoa(len(matrix)) != wf.Env["SHARDS"] {
		t.Fatalf("matrix %v, SHARDS %q: want one job per shard", matrix, wf.Env["SHARDS"])
	}
	if ff := shardJob.Strategy.FailFast; ff == nil || *ff {
		t.Error("the shard matrix needs fail-fast: false: the merge needs every shard")
	}
	if mergeJob.Needs != "shard" || mergeJob.If != "${{ !cancelled() }}" {
		t.Errorf("merge job needs %q if %q; want needs: shard, if: ${{ !cancelled() }}", mergeJob.Needs, mergeJob.If)
	}
	if !strings.Contains(wf.Concurrency.Group, "github.event.pull_request.number") || !wf.Concurrency.CancelInProgress {
		t.Errorf("concurrency %+v", wf.Concurrency)
	}
	gaitShard, upload := wf.step(t, "shard", "gait-dev/gait@"), wf.step(t, "shard", "actions/upload-artifact@")
	download, gaitMerge := wf.step(t, "merge", "actions/download-artifact@"), wf.step(t, "merge", "gait-dev/gait@")
	if gaitShard["merge"] != "" || gaitMerge["shard"] != "" || gaitMerge["merge"] != download["path"] {
		t.Errorf("shard step %v, merge step %v, download %v", gaitShard, gaitMerge, download)
	}
	if upload["path"] != path.Join(path.Dir(gaitShard["junit"]), resultName) {
		t.Errorf("the shard uploads %q, not the result document next to %s", upload["path"], gaitShard["junit"])
	}

	r := newRepo(t, []string{"alpha", "beta", "gamma", "delta", "epsilon"}, []string{"zeta", "eta"})
	gh := newFakeGitHub(t, testToken)
	expand := func(s string, shard int) string {
		return strings.NewReplacer("${{ matrix.shard }}", strconv.Itoa(shard), "${{ env.SHARDS }}", wf.Env["SHARDS"]).Replace(s)
	}
	inputs := func(rn *runner, with map[string]string, shard int) {
		for k, v := range with {
			rn.env["INPUT_"+strings.ToUpper(k)] = expand(v, shard)
		}
	}
	for _, i := range matrix {
		rn := newRunner(t, r, gh, "pull_request.synchronize")
		inputs(rn, gaitShard, i)
		out := rn.run()
		if out.err != nil {
			t.Fatalf("shard %d: %v", i, out.err)
		}
		if out.summary != "" || len(annotations(out.stdout, "error")) != 0 {
			t.Errorf("shard %d wrote a summary or annotations:\n%s", i, out.stdout)
		}
		if !strings.HasPrefix(out.outputs[OutputSummary], fmt.Sprintf("gait regress shard %d/%d ", i, len(matrix))) {
			t.Errorf("shard %d: summary output %q", i, out.outputs[OutputSummary])
		}
		// upload-artifact, then download-artifact by pattern: one folder
		// per artifact under the download path.
		name := expand(upload["name"], i)
		if ok, _ := path.Match(download["pattern"], name); !ok {
			t.Fatalf("artifact %q does not match the download pattern %q", name, download["pattern"])
		}
		data, err := os.ReadFile(filepath.Join(r.dir, filepath.FromSlash(upload["path"])))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(r.dir, download["path"], name, path.Base(upload["path"]))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gh.verify() // no API call from a shard

	whole := newRunner(t, r, nil, "pull_request.synchronize")
	whole.env["INPUT_COMMENT"] = "false"
	whole.env["INPUT_JUNIT"] = "gait-out/whole/junit.xml"
	want := whole.run()

	rn := newRunner(t, r, gh, "pull_request.synchronize")
	inputs(rn, gaitMerge, 0)
	out := rn.run()
	if out.err != nil {
		t.Fatal(out.err)
	}
	if out.res.ExitCode != int(exitcode.RegressFailed) || out.res.Failed != 2 || out.res.Comment != "created" {
		t.Fatalf("merge result %+v", out.res)
	}
	gh.verify(createCalls()...)
	if n := len(gh.mine()); n != 1 {
		t.Fatalf("%d comments, want exactly one", n)
	}
	if got := len(annotations(out.stdout, "error")); got != 2 {
		t.Errorf("%d error annotations, want one per failing fixture:\n%s", got, out.stdout)
	}
	for _, f := range []string{"junit.xml", resultName, htmlName} {
		got := out.files[filepath.Join(r.dir, filepath.Dir(gaitMerge["junit"]), f)]
		exp := want.files[filepath.Join(r.dir, "gait-out", "whole", f)]
		if got == "" || got != exp {
			t.Errorf("merged %s differs from the unsharded run's:\n%s\nwant:\n%s", f, got, exp)
		}
	}
	// The summary names where each run put its HTML report.
	want.summary = strings.ReplaceAll(want.summary, "gait-out/whole/"+htmlName, path.Join(path.Dir(gaitMerge["junit"]), htmlName))
	if want.summary == "" || want.summary != out.summary {
		t.Errorf("merged summary differs from the unsharded run's:\n%s\nwant:\n%s", out.summary, want.summary)
	}
}

func TestShardInputs(t *testing.T) {
	r := newRepo(t, []string{"alpha", "beta"}, nil)
	for _, tt := range []struct{ shard, merge, want string }{
		{"5/4", "", `input shard "5/4": want i/n`},
		{"1/2", "shards", "shard and merge are both set"},
		{"", "missing", "missing: cannot read"},
	} {
		rn := newRunner(t, r, nil, "")
		rn.env["INPUT_SHARD"], rn.env["INPUT_MERGE"] = tt.shard, tt.merge
		out := rn.run()
		if exitcode.Of(out.err) != exitcode.InvalidInput || !strings.Contains(out.err.Error(), tt.want) {
			t.Errorf("shard %q merge %q: err = %v, want exit 6 with %q", tt.shard, tt.merge, out.err, tt.want)
		}
	}
}
