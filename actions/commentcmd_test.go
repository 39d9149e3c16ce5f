package actions

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/regress"
)

// headSHA is workflow_run.head_sha in testdata/workflow_run.*.json.
const headSHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"

const pullsCall = "GET /api-v3/repos/Codertocat/Hello-World/pulls/2"

// artifact writes what the regress job uploads: regress_result.json for a
// run with the given fixtures and, unless pr is nil, pull_request.json.
func artifact(t *testing.T, passing, failing []string, pr *pullRequestRef) string {
	t.Helper()
	r := newRepo(t, passing, failing)
	rep, err := regress.Run(filepath.Join(r.dir, regress.DefaultConfig), regress.RunOptions{ProducerVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data, _ := json.MarshalIndent(rep.Document(), "", "  ")
	writeFile(t, filepath.Join(dir, resultName), data)
	if pr != nil {
		data, _ := json.Marshal(pr)
		writeFile(t, filepath.Join(dir, PullRequestFile), data)
	}
	return dir
}

func writeFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// commentEnv is the environment of the workflow_run job for a payload in
// testdata (workflow_run.<name>.json).
func commentEnv(gh *fakeGitHub, payload string) map[string]string {
	return map[string]string{
		"GITHUB_ACTIONS":    "true",
		"GITHUB_REPOSITORY": fakeOwner + "/" + fakeRepo,
		"GITHUB_SERVER_URL": "https://github.example",
		"GITHUB_API_URL":    gh.apiURL(),
		"GITHUB_EVENT_NAME": "workflow_run",
		"GITHUB_EVENT_PATH": filepath.Join(testdata, "workflow_run."+payload+".json"),
		"GITHUB_RUN_ID":     "99",
		"GITHUB_WORKSPACE":  "/nonexistent/no-checkout",
		"INPUT_TOKEN":       testToken,
		"GITHUB_TOKEN":      testToken,
	}
}

type commentRun struct {
	res    *CommentResult
	err    error
	stdout string
}

func runComment(t *testing.T, gh *fakeGitHub, env map[string]string, from string) commentRun {
	t.Helper()
	var stdout bytes.Buffer
	rt := &Runtime{Getenv: func(k string) string { return env[k] }, Stdout: &stdout, HTTPClient: gh.srv.Client(),
		Sleep: func(time.Duration) {}}
	res, err := rt.Comment(context.Background(), CommentOptions{From: from, Config: DefaultConfig})
	out := commentRun{res: res, err: err, stdout: stdout.String()}
	if strings.Contains(strings.Replace(out.stdout, "::add-mask::"+testToken+"\n", "", 1), testToken) ||
		(err != nil && strings.Contains(err.Error(), testToken)) {
		t.Errorf("token printed: %v\n%s", err, out.stdout)
	}
	for _, c := range gh.comments {
		if strings.Contains(c.Body, testToken) {
			t.Errorf("token in comment %d", c.ID)
		}
	}
	return out
}

// TestCommentFromWorkflowRun posts the result of a same-repository pull
// request (workflow_run.pull_requests names it): one comment, created
// once and updated by a re-run, never a second one.
func TestCommentFromWorkflowRun(t *testing.T) {
	gh := newFakeGitHub(t, testToken)
	dir := artifact(t, []string{"pass_a"}, []string{"fail_b"}, &pullRequestRef{Number: 2, HeadSHA: headSHA})
	env := commentEnv(gh, "pull_request")
	out := runComment(t, gh, env, dir)
	if out.err != nil {
		t.Fatal(out.err)
	}
	gh.verify(createCalls()...)
	mine := gh.mine()
	if out.res.Comment != "created" || out.res.PullRequest != 2 || len(mine) != 1 {
		t.Fatalf("%+v %+v", out.res, mine)
	}
	body := mine[0].Body
	for _, want := range []string{
		`<!-- gait-regress config="gait.yaml" -->` + "\n## ❌ Gait regress: fail",
		"| [`fail_b`](https://github.example/Codertocat/Hello-World/blob/" + headSHA + "/fixtures/fail_b/fixture.json) | `trajectory` |",
		`GAIT run_id=run_demo manifest=sha256:`,
		"[Job summary and full diffs](https://github.com/Codertocat/Hello-World/actions/runs/7171171717)",
		`"run":"7171171717/1"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	golden(t, "workflow_run.comment", body)

	// A re-run (or the result posted again) updates the same comment.
	out = runComment(t, gh, env, filepath.Join(dir, resultName))
	gh.verify(updateCalls(mine[0].ID)...)
	if again := gh.mine(); out.err != nil || out.res.Comment != "updated" || len(again) != 1 || again[0].ID != mine[0].ID || again[0].Body != body {
		t.Fatalf("re-run: %v %+v %+v", out.err, out.res, again)
	}
}

// TestCommentSameAsActionRegress: the comment `gait action regress` posts
// for a run and the one `gait action comment` posts for it are one
// comment, showing the same changes since the previous run.
func TestCommentSameAsActionRegress(t *testing.T) {
	gh := newFakeGitHub(t, testToken)
	// Posted by the regress job of run 7171171717, which compared with a
	// previous run where pass_a failed.
	id := gh.add("gait-bot", markerFor("gait.yaml")+"\nfrom the regress job\n"+
		encodeState(commentState{Failing: []string{"fail_b"}, Author: "gait-bot", Run: "7171171717/1", Since: &[]string{"pass_a"}}))
	dir := artifact(t, []string{"pass_a"}, []string{"fail_b"}, nil)
	out := runComment(t, gh, commentEnv(gh, "pull_request"), dir)
	if out.err != nil {
		t.Fatal(out.err)
	}
	gh.verify(updateCalls(id)...)
	if body := gh.mine()[0].Body; !strings.Contains(body, "**Since the previous run:** newly failing: `fail_b`. fixed: `pass_a`.") {
		t.Errorf("comment:\n%s", body)
	}
}

// TestCommentFork: GitHub leaves workflow_run.pull_requests empty for a
// fork; the number comes from pull_request.json once the API says that
// pull request's head is the tested commit.
func TestCommentFork(t *testing.T) {
	gh := newFakeGitHub(t, testToken)
	gh.login = "" // the workflow token
	dir := artifact(t, nil, []string{"fail_b"}, &pullRequestRef{Number: 2, HeadSHA: headSHA})
	gh.queue(pullsCall, cannedResponse{status: 200, body: `{"number":2,"state":"open","head":{"sha":"` + headSHA + `","repo":{"full_name":"forker/Hello-World"}}}`})
	out := runComment(t, gh, commentEnv(gh, "fork"), dir)
	if out.err != nil {
		t.Fatal(out.err)
	}
	gh.verify(append([]string{pullsCall}, createCalls()...)...)
	if mine := gh.mine(); out.res.Comment != "created" || len(mine) != 1 || !strings.Contains(mine[0].Body, "`fail_b`") {
		t.Fatalf("%+v %+v", out.res, mine)
	}
}

// TestCommentIgnoresOtherRepositories: a pull request workflow_run lists
// into another repository is not commented on; as for a fork, the number
// then comes from pull_request.json, checked through the API.
func TestCommentIgnoresOtherRepositories(t *testing.T) {
	gh := newFakeGitHub(t, testToken)
	data, err := os.ReadFile(filepath.Join(testdata, "workflow_run.pull_request.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	pr := dig(ev, "workflow_run").(map[string]any)["pull_requests"].([]any)[0].(map[string]any)
	pr["number"] = 7
	dig(pr, "base", "repo").(map[string]any)["url"] = "https://api.github.com/repos/upstream/Hello-World"
	data, _ = json.Marshal(ev)
	env := commentEnv(gh, "pull_request")
	env["GITHUB_EVENT_PATH"] = filepath.Join(t.TempDir(), "event.json")
	writeFile(t, env["GITHUB_EVENT_PATH"], data)
	gh.queue(pullsCall, cannedResponse{status: 200, body: `{"number":2,"head":{"sha":"` + headSHA + `"}}`})
	out := runComment(t, gh, env, artifact(t, []string{"pass_a"}, nil, &pullRequestRef{Number: 2, HeadSHA: headSHA}))
	if out.err != nil || out.res.PullRequest != 2 {
		t.Fatalf("%v %+v", out.err, out.res)
	}
	gh.verify(append([]string{pullsCall}, createCalls()...)...)
}

// TestCommentRefuses: what the pull request uploaded cannot point the
// comment elsewhere or be other than a result document; each is exit 6
// with one line and an error annotation, before any comment call.
func TestCommentRefuses(t *testing.T) {
	other := strings.Repeat("b", 40)
	tests := []struct {
		name, payload, want string
		pr                  *pullRequestRef
		pulls               *cannedResponse // the answer to GET pulls/2
		edit                func(dir string)
		env                 map[string]string
	}{
		{name: "head moved", payload: "fork", pr: &pullRequestRef{Number: 2, HeadSHA: headSHA},
			pulls: &cannedResponse{status: 200, body: `{"number":2,"head":{"sha":"` + other + `"}}`},
			want:  "pull request #2's head is " + other + ", not the commit the workflow run tested (" + headSHA + "); refusing to comment"},
		{name: "other commit in pull_request.json", payload: "fork", pr: &pullRequestRef{Number: 2, HeadSHA: other},
			want: "pull_request.json: head_sha " + other + " is not the commit the workflow run tested"},
		{name: "no pull_request.json", payload: "fork",
			want: "pull_request.json: cannot read it, and workflow_run.pull_requests is empty"},
		{name: "bad pull_request.json", payload: "fork", pr: &pullRequestRef{Number: 2, HeadSHA: headSHA},
			edit: func(dir string) {
				_ = os.WriteFile(filepath.Join(dir, PullRequestFile), []byte(`{"number":"2"}`), 0o644)
			},
			want: "pull_request.json: not a pull request reference"},
		{name: "no such pull request", payload: "fork", pr: &pullRequestRef{Number: 2, HeadSHA: headSHA},
			pulls: &cannedResponse{status: 404, body: `{"message":"Not Found"}`},
			want:  "pull request #2 of Codertocat/Hello-World was not found (HTTP 404)"},
		{name: "unparsable result", payload: "pull_request",
			edit: func(dir string) {
				_ = os.WriteFile(filepath.Join(dir, resultName), []byte("{\"schema_id\":\n::warning::x"), 0o644)
			},
			want: "regress_result.json: malformed JSON"},
		{name: "oversized result", payload: "pull_request",
			edit: func(dir string) {
				_ = os.WriteFile(filepath.Join(dir, resultName), bytes.Repeat([]byte(" "), regress.MaxResultBytes+1), 0o644)
			},
			want: "regress_result.json: result document is larger than 8 MiB"},
		{name: "other schema", payload: "pull_request",
			edit: func(dir string) {
				_ = os.WriteFile(filepath.Join(dir, resultName), []byte(`{"schema_id":"gait.gate.result","schema_version":"1.0.0"}`), 0o644)
			},
			want: `schema_id "gait.gate.result", want "gait.regress.result"`},
		{name: "no result", payload: "pull_request", edit: func(dir string) { _ = os.Remove(filepath.Join(dir, resultName)) },
			want: "regress_result.json: cannot read the result document"},
		{name: "no token", payload: "pull_request", env: map[string]string{"INPUT_TOKEN": "", "GITHUB_TOKEN": ""},
			want: "no token: set INPUT_TOKEN or GITHUB_TOKEN"},
		{name: "not workflow_run", payload: "pull_request", env: map[string]string{"GITHUB_EVENT_NAME": "pull_request_target"},
			want: `$GITHUB_EVENT_NAME is "pull_request_target": gait action comment runs in a workflow triggered by ` + "`on: workflow_run`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh := newFakeGitHub(t, testToken)
			dir := artifact(t, nil, []string{"fail_b"}, tt.pr)
			if tt.edit != nil {
				tt.edit(dir)
			}
			var calls []string
			if tt.pulls != nil {
				gh.queue(pullsCall, *tt.pulls)
				calls = append(calls, pullsCall)
			}
			env := commentEnv(gh, tt.payload)
			for k, v := range tt.env {
				env[k] = v
			}
			out := runComment(t, gh, env, dir)
			if exitcode.Of(out.err) != exitcode.InvalidInput || !strings.Contains(out.err.Error(), tt.want) || strings.Contains(out.err.Error(), "\n") {
				t.Fatalf("err %v (exit %d), want one line with %q", out.err, exitcode.Of(out.err), tt.want)
			}
			if errs := annotations(out.stdout, "error"); len(errs) != 1 || !strings.HasPrefix(errs[0], "::error title=gait comment::") {
				t.Errorf("annotations %q in:\n%s", errs, out.stdout)
			}
			if strings.Contains(out.stdout, "::warning::") {
				t.Errorf("the document's text started a workflow command:\n%s", out.stdout)
			}
			gh.verify(calls...)
			if len(gh.comments) != 0 {
				t.Errorf("comments %+v", gh.comments)
			}
		})
	}
}

// TestCommentSkipsOtherEvents: a workflow run a push triggered gets no
// comment and no API call; a notice says why, and the step passes.
func TestCommentSkipsOtherEvents(t *testing.T) {
	gh := newFakeGitHub(t, testToken)
	out := runComment(t, gh, commentEnv(gh, "push"), t.TempDir()) // no artifact for a push: never read
	if out.err != nil {
		t.Fatal(out.err)
	}
	gh.verify()
	if out.res.Comment != "skipped" ||
		!strings.Contains(out.stdout, `::notice::gait comment: no pull request comment: the workflow run was triggered by "push", not by a pull request`) {
		t.Fatalf("%+v\n%s", out.res, out.stdout)
	}
}

// TestCommentAPIFailure: posting is all the command does, so an API
// failure fails the step (exit 1) with a message naming the cause.
func TestCommentAPIFailure(t *testing.T) {
	gh := newFakeGitHub(t, testToken)
	gh.queue("POST /api-v3/repos/Codertocat/Hello-World/issues/2/comments",
		cannedResponse{status: 403, body: `{"message":"Resource not accessible by integration"}`})
	out := runComment(t, gh, commentEnv(gh, "pull_request"), artifact(t, []string{"pass_a"}, nil, nil))
	if exitcode.Of(out.err) != exitcode.Internal || !strings.Contains(out.err.Error(), "grant `pull-requests: write`") {
		t.Fatalf("err %v", out.err)
	}
}

// TestActionRegressWritesPullRequestRef: on pull_request events the
// regress job writes pull_request.json next to the result document, for
// the workflow_run job to find a fork's pull request.
func TestActionRegressWritesPullRequestRef(t *testing.T) {
	r := newRepo(t, []string{"pass_a"}, nil)
	event := filepath.Join(t.TempDir(), "event.json")
	writeFile(t, event, []byte(`{"action":"synchronize","number":2,"pull_request":{"number":2,
		"head":{"sha":"`+headSHA+`","repo":{"full_name":"forker/Hello-World"}},
		"base":{"sha":"f95f852bd8fca8fcc58a9a2d6c842781e32a215e","repo":{"full_name":"Codertocat/Hello-World"}}}}`))
	rn := newRunner(t, r, nil, "")
	rn.env["GITHUB_EVENT_NAME"], rn.env["GITHUB_EVENT_PATH"], rn.env["INPUT_COMMENT"] = "pull_request", event, "false"
	out := rn.run()
	if out.err != nil {
		t.Fatal(out.err)
	}
	got := out.files[filepath.Join(r.dir, "gait-out", PullRequestFile)]
	if want := `{"number":2,"head_sha":"` + headSHA + `"}` + "\n"; got != want {
		t.Errorf("pull_request.json %q, want %q", got, want)
	}
	ref, err := readPullRequestRef(filepath.Join(r.dir, "gait-out", PullRequestFile))
	if err != nil || ref.Number != 2 {
		t.Errorf("%+v %v", ref, err)
	}

	// Not on a push.
	rn.env["GITHUB_EVENT_NAME"] = "push"
	_ = os.Remove(filepath.Join(r.dir, "gait-out", PullRequestFile))
	if out := rn.run(); out.files[filepath.Join(r.dir, "gait-out", PullRequestFile)] != "" {
		t.Error("pull_request.json written on push")
	}
}
