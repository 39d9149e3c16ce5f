package actions

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/pack/packtest"
	"github.com/gait-dev/gait/regress"
	"github.com/gait-dev/gait/report"
)

var testdata, _ = filepath.Abs("testdata")

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const testToken = "ghs_TESTTOKENdo_not_print_0123456789"

// eventsDir holds the project's own event payloads, one per event the
// runner may send; the conformance suite runs the action on GitHub's.
var eventsDir = filepath.Join(testdata, "events")

// repo is a workspace with a gait.yaml whose fixtures pass or fail.
type repo struct {
	dir string // the workspace
}

// newRepo makes fixtures named pass… and fail…; each failing fixture's
// runpack is swapped for one whose second tool call differs.
func newRepo(t *testing.T, passing, failing []string) *repo {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(t.TempDir(), "src.zip")
	packtest.Write(t, src, nil)
	cfg := filepath.Join(dir, regress.DefaultConfig)
	for _, n := range append(append([]string{}, passing...), failing...) {
		if _, err := regress.Init(regress.InitOptions{From: src, Name: n, ConfigPath: cfg, OutDir: t.TempDir()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range failing {
		packtest.Write(t, filepath.Join(dir, "fixtures", n, "runpack.zip"), func(r *pack.RunRecord) { r.Intents[1].ToolName = "tool.delete" })
	}
	return &repo{dir: dir}
}

// run is one run of the action and what it left behind.
type run struct {
	res     *Result
	err     error
	stdout  string
	outputs map[string]string
	summary string
	files   map[string]string // every file the run wrote in the workspace
}

// runner holds the runner's environment for one action run.
type runner struct {
	t     *testing.T
	repo  *repo
	gh    *fakeGitHub
	env   map[string]string
	slept []time.Duration
}

func newRunner(t *testing.T, r *repo, gh *fakeGitHub, event string) *runner {
	t.Helper()
	tmp := t.TempDir()
	env := map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_WORKSPACE":    r.dir,
		"GITHUB_REPOSITORY":   fakeOwner + "/" + fakeRepo,
		"GITHUB_OUTPUT":       filepath.Join(tmp, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(tmp, "summary"),
		"GITHUB_SERVER_URL":   "https://github.example",
		"GITHUB_RUN_ID":       "42",
		"INPUT_CONFIG":        "gait.yaml",
		"INPUT_WORKDIR":       r.dir,
		"INPUT_JUNIT":         "gait-out/junit.xml",
		"INPUT_COMMENT":       "true",
		"INPUT_TOKEN":         testToken,
		// Outside a runner GITHUB_TOKEN is not set for an action; it is here
		// to check that it is masked and never printed either.
		"GITHUB_TOKEN":             testToken,
		"INPUT_FAIL-ON-REGRESSION": "true",
		"INPUT_ARGS":               "",
		"GITHUB_EVENT_NAME":        "",
		"GITHUB_EVENT_PATH":        "",
		"GITHUB_API_URL":           "https://api.github.invalid",
		"GITHUB_REPOSITORY_OWNER":  fakeOwner,
		"GITHUB_RUN_ATTEMPT":       "1",
		"GITHUB_RUN_NUMBER":        "7",
		"GITHUB_WORKFLOW":          "gait",
		"GITHUB_SHA":               "ffac537e6cbbf934b08745a378932722df287a53",
		"GITHUB_REF":               "refs/pull/2/merge",
		"GITHUB_JOB":               "regress",
		"GITHUB_ACTION":            "__gait-dev_gait",
		"GITHUB_ACTION_REPOSITORY": "gait-dev/gait",
	}
	if gh != nil {
		env["GITHUB_API_URL"] = gh.apiURL()
	}
	if event != "" {
		name, _, _ := strings.Cut(event, ".")
		env["GITHUB_EVENT_NAME"] = name
		env["GITHUB_EVENT_PATH"] = filepath.Join(eventsDir, event+".json")
	}
	return &runner{t: t, repo: r, gh: gh, env: env}
}

func (rn *runner) run() run {
	rn.t.Helper()
	for _, k := range []string{"GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"} {
		if err := os.WriteFile(rn.env[k], nil, 0o644); err != nil {
			rn.t.Fatal(err)
		}
	}
	var stdout bytes.Buffer
	rt := &Runtime{
		Getenv: func(k string) string { return rn.env[k] },
		Stdout: &stdout,
		Sleep:  func(d time.Duration) { rn.slept = append(rn.slept, d) },
		WriteResults: func(rep *regress.Report, result, junit string) error {
			if err := atomicfile.Write(result, 0o644, func(w io.Writer) error {
				return json.NewEncoder(w).Encode(rep.Document())
			}); err != nil {
				return err
			}
			return atomicfile.Write(junit, 0o644, func(w io.Writer) error { return report.JUnit(w, rep) })
		},
	}
	if rn.gh != nil {
		rt.HTTPClient = rn.gh.srv.Client()
	}
	res, err := rt.Run(context.Background())
	out := run{res: res, err: err, stdout: stdout.String(), files: map[string]string{}}
	outFile, _ := os.ReadFile(rn.env["GITHUB_OUTPUT"])
	out.outputs = parseOutputs(rn.t, string(outFile))
	sum, _ := os.ReadFile(rn.env["GITHUB_STEP_SUMMARY"])
	out.summary = string(sum)
	out.files["$GITHUB_OUTPUT"] = string(outFile)
	out.files["$GITHUB_STEP_SUMMARY"] = out.summary
	_ = filepath.WalkDir(rn.repo.dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(filepath.ToSlash(p), filepath.ToSlash(rn.repo.dir)+"/gait-out/") {
			data, _ := os.ReadFile(p)
			out.files[p] = string(data)
		}
		return nil
	})
	rn.checkNoToken(out)
	return out
}

// checkNoToken fails when the token shows anywhere but in the add-mask
// command the runner consumes.
func (rn *runner) checkNoToken(out run) {
	rn.t.Helper()
	stdout := strings.Replace(out.stdout, "::add-mask::"+testToken+"\n", "", 1)
	if strings.Contains(stdout, testToken) {
		rn.t.Errorf("token printed on stdout:\n%s", out.stdout)
	}
	if out.err != nil && strings.Contains(out.err.Error(), testToken) {
		rn.t.Errorf("token in error: %v", out.err)
	}
	for name, data := range out.files {
		if strings.Contains(data, testToken) {
			rn.t.Errorf("token written to %s", name)
		}
	}
	if rn.gh != nil {
		for _, c := range rn.gh.comments {
			if strings.Contains(c.Body, testToken) {
				rn.t.Errorf("token in comment %d", c.ID)
			}
		}
	}
}

// parseOutputs reads $GITHUB_OUTPUT's name<<DELIM … DELIM entries.
func parseOutputs(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			t.Fatalf("$GITHUB_OUTPUT line %q", lines[i])
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		if _, dup := out[name]; dup {
			t.Errorf("output %s set twice", name)
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

// annotations returns stdout's workflow commands of the given kind.
func annotations(stdout, kind string) []string {
	var out []string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "::"+kind+" ") || strings.HasPrefix(l, "::"+kind+"::") {
			out = append(out, l)
		}
	}
	return out
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(testdata, name+".golden")
	if *update {
		if err := os.MkdirAll(testdata, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; run go test -update", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (go test -update rewrites it):\n%s", name, path, got)
	}
}

func wantOutputs(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("output %s = %q, want %q", k, got[k], v)
		}
	}
	for _, k := range Outputs {
		if _, ok := got[k]; !ok {
			t.Errorf("output %s not set", k)
		}
	}
}

var commentCalls = []string{
	"GET /api-v3/user",
	"GET /api-v3/repos/Codertocat/Hello-World/issues/2/comments",
}

func createCalls() []string {
	return append(append([]string{}, commentCalls...),
		"POST /api-v3/repos/Codertocat/Hello-World/issues/2/comments",
		"GET /api-v3/repos/Codertocat/Hello-World/issues/2/comments")
}

func updateCalls(id int64) []string {
	return append(append([]string{}, commentCalls...), fmt.Sprintf("PATCH /api-v3/repos/Codertocat/Hello-World/issues/comments/%d", id))
}

// TestEvents runs the action on every payload the runner may send: pull
// requests get one comment, created once and updated on a re-run; other
// events make no API call, say why in a notice, and write everything else.
func TestEvents(t *testing.T) {
	entries, err := os.ReadDir(eventsDir)
	if err != nil {
		t.Fatal(err)
	}
	r := newRepo(t, []string{"pass_a"}, []string{"fail_b"})
	n := 0
	for _, e := range entries {
		event, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		n++
		t.Run(event, func(t *testing.T) {
			gh := newFakeGitHub(t, testToken)
			rn := newRunner(t, r, gh, event)
			out := rn.run()
			if out.err != nil {
				t.Fatal(out.err)
			}
			if out.res.ExitCode != 5 || out.res.Status != "fail" {
				t.Fatalf("result %+v", out.res)
			}
			wantOutputs(t, out.outputs, map[string]string{
				"status": "fail", "exit-code": "5", "failed-count": "1",
				"junit-path":  filepath.ToSlash(filepath.Join(r.dir, "gait-out/junit.xml")),
				"result-path": filepath.ToSlash(filepath.Join(r.dir, "gait-out/regress_result.json")),
				"summary":     "gait regress fail: 2 fixtures, 1 passed, 1 failed",
			})
			if errs := annotations(out.stdout, "error"); len(errs) != 1 ||
				!strings.HasPrefix(errs[0], "::error file=fixtures/fail_b/fixture.json,title=gait regress%3A fixture fail_b failed::trajectory: ") {
				t.Errorf("annotations %q", errs)
			}
			sha := rn.env["GITHUB_SHA"]
			if strings.HasPrefix(event, "pull_request.") {
				sha = "1111111111111111111111111111111111111111" // pull_request.head.sha
			}
			if !strings.Contains(out.summary, "| [`fail_b`](https://github.example/Codertocat/Hello-World/blob/"+sha+"/fixtures/fail_b/fixture.json) | `trajectory` |") {
				t.Errorf("summary:\n%s", out.summary)
			}
			for _, f := range []string{"gait-out/junit.xml", "gait-out/regress_result.json"} {
				if _, ok := out.files[filepath.Join(r.dir, f)]; !ok {
					t.Errorf("%s not written", f)
				}
			}
			if !strings.HasPrefix(event, "pull_request.") {
				gh.verify()
				if out.res.Comment != "skipped" || len(annotations(out.stdout, "notice")) != 1 ||
					!strings.Contains(out.stdout, "::notice::gait regress: no pull request comment: event \""+rn.env["GITHUB_EVENT_NAME"]+"\" is not a pull request") {
					t.Errorf("comment %s, stdout:\n%s", out.res.Comment, out.stdout)
				}
				return
			}
			gh.verify(createCalls()...)
			mine := gh.mine()
			if out.res.Comment != "created" || len(mine) != 1 || !strings.HasPrefix(mine[0].Body, `<!-- gait-regress config="gait.yaml" -->`) {
				t.Fatalf("comment %s, %+v", out.res.Comment, mine)
			}
			// A re-run updates the same comment and never adds a second.
			out = rn.run()
			gh.verify(updateCalls(mine[0].ID)...)
			if again := gh.mine(); out.res.Comment != "updated" || len(again) != 1 || again[0].ID != mine[0].ID {
				t.Fatalf("re-run: comment %s, %+v", out.res.Comment, again)
			}
		})
	}
	if n < 10 {
		t.Fatalf("only %d event payloads in %s", n, eventsDir)
	}
}

// TestPullRequestGolden pins what a reviewer sees for a failing pull request:
// the log with annotations, the outputs, the job summary and the comment.
func TestPullRequestGolden(t *testing.T) {
	r := newRepo(t, []string{"alpha"}, []string{"beta"})
	gh := newFakeGitHub(t, testToken)
	rn := newRunner(t, r, gh, "pull_request.synchronize")
	rn.env["INPUT_WORKDIR"] = "."
	t.Chdir(r.dir)
	out := rn.run()
	if out.err != nil {
		t.Fatal(out.err)
	}
	gh.verify(createCalls()...)
	stdout := regexp.MustCompile(`(?m)^(::stop-commands::|::)[0-9a-f]{32}(::)?$`).ReplaceAllString(out.stdout, "${1}RESUME$2")
	golden(t, "pull_request.stdout", strings.ReplaceAll(stdout, testToken, "TOKEN"))
	golden(t, "pull_request.output", out.files["$GITHUB_OUTPUT"])
	golden(t, "pull_request.summary", out.summary)
	golden(t, "pull_request.comment", gh.mine()[0].Body)
}

// TestCommentShowsChanges compares with the failing set the previous
// comment remembered.
func TestCommentShowsChanges(t *testing.T) {
	r := newRepo(t, []string{"alpha", "gamma"}, []string{"beta"})
	gh := newFakeGitHub(t, testToken)
	gh.add("gait-bot", markerFor("gait.yaml")+"\nold\n"+formatState([]string{"alpha", "beta", "removed"}))
	gh.add("gait-bot", markerFor("gait.yaml")+"\nduplicate left by a race\n")
	dup := gh.nextID
	out := newRunner(t, r, gh, "pull_request.opened").run()
	gh.verify(append(updateCalls(dup-1), fmt.Sprintf("DELETE /api-v3/repos/Codertocat/Hello-World/issues/comments/%d", dup))...)
	mine := gh.mine()
	if out.res.Comment != "updated" || len(mine) != 1 {
		t.Fatalf("%s %+v", out.res.Comment, mine)
	}
	if !strings.Contains(mine[0].Body, "**Since the previous run:** fixed: `alpha`.") {
		t.Errorf("comment:\n%s", mine[0].Body)
	}
	if failing, ok := parseState(mine[0].Body); !ok || strings.Join(failing, ",") != "beta" {
		t.Errorf("state %q %v", failing, ok)
	}

	// beta fixed, alpha broken.
	packtest.Write(t, filepath.Join(r.dir, "fixtures", "beta", "runpack.zip"), nil)
	packtest.Write(t, filepath.Join(r.dir, "fixtures", "alpha", "runpack.zip"), func(rr *pack.RunRecord) { rr.Intents[1].ToolName = "tool.delete" })
	next := newRunner(t, r, gh, "pull_request.opened")
	next.env["GITHUB_RUN_ID"] = "43" // the next push's run
	next.run()
	gh.verify(updateCalls(dup - 1)...)
	if body := gh.mine()[0].Body; !strings.Contains(body, "newly failing: `alpha`. fixed: `beta`.") {
		t.Errorf("comment:\n%s", body)
	}
}

// TestCommentSearch pages through every comment and only takes the marker
// from comments by the token's own user.
func TestCommentSearch(t *testing.T) {
	r := newRepo(t, []string{"alpha"}, nil)
	gh := newFakeGitHub(t, testToken)
	for i := range 150 {
		gh.add("someone", fmt.Sprintf("comment %d", i))
	}
	gh.add("mallory", markerFor("gait.yaml")+"\nnot ours\n")
	for range 60 {
		gh.add("someone", "more")
	}
	gh.add("gait-bot", markerFor("other/gait.yaml")+"\nanother config\n")
	ours := gh.add("gait-bot", markerFor("gait.yaml")+"\nours\n")
	out := newRunner(t, r, gh, "pull_request.opened").run()
	list := "GET /api-v3/repos/Codertocat/Hello-World/issues/2/comments"
	gh.verify("GET /api-v3/user", list, list, list, fmt.Sprintf("PATCH /api-v3/repos/Codertocat/Hello-World/issues/comments/%d", ours))
	if out.res.Comment != "updated" || out.res.ExitCode != 0 {
		t.Fatalf("%+v", out.res)
	}
}

// TestCommentRace: two runs created a comment at once; the later one
// deletes its own and updates the oldest.
func TestCommentRace(t *testing.T) {
	r := newRepo(t, []string{"alpha"}, nil)
	gh := newFakeGitHub(t, testToken)
	var other int64
	gh.onCreate = func(f *fakeGitHub) {
		// The concurrent run's comment got the lower id.
		f.mu.Lock()
		defer f.mu.Unlock()
		mine := f.comments[len(f.comments)-1]
		f.comments = f.comments[:len(f.comments)-1]
		f.addLocked("gait-bot", markerFor("gait.yaml")+"\nconcurrent run\n")
		other = f.nextID
		f.nextID++
		mine.ID = f.nextID
		f.comments = append(f.comments, mine)
	}
	out := newRunner(t, r, gh, "pull_request.opened").run()
	gh.verify(append(createCalls(),
		fmt.Sprintf("DELETE /api-v3/repos/Codertocat/Hello-World/issues/comments/%d", other+1),
		fmt.Sprintf("PATCH /api-v3/repos/Codertocat/Hello-World/issues/comments/%d", other))...)
	mine := gh.mine()
	if len(mine) != 1 || mine[0].ID != other || strings.Contains(mine[0].Body, "concurrent run") || out.res.Comment != "updated" {
		t.Fatalf("%s %+v", out.res.Comment, mine)
	}
}

// TestWorkflowToken: GET /user is refused for the workflow token, whose
// comments are by github-actions[bot].
func TestWorkflowToken(t *testing.T) {
	r := newRepo(t, []string{"alpha"}, nil)
	gh := newFakeGitHub(t, testToken)
	gh.login = ""
	id := gh.add(integrationLogin, markerFor("gait.yaml")+"\nprevious\n")
	out := newRunner(t, r, gh, "pull_request.opened").run()
	gh.verify(updateCalls(id)...)
	if out.res.Comment != "updated" {
		t.Fatalf("%+v\n%s", out.res, out.stdout)
	}
}

// TestAPIFailures: the comment is skipped with a notice, or made after a
// retry; the verdict, outputs, summary and files stay the same.
func TestAPIFailures(t *testing.T) {
	comments := "/api-v3/repos/Codertocat/Hello-World/issues/2/comments"
	forbidden := cannedResponse{status: 403, body: `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest"}`}
	tests := []struct {
		name    string
		event   string
		edit    func(rn *runner, gh *fakeGitHub)
		calls   []string
		comment string
		notice  string
		slept   []time.Duration
	}{
		{
			name: "fork 403", event: "pull_request.opened",
			edit: func(rn *runner, gh *fakeGitHub) {
				rn.env["GITHUB_EVENT_PATH"] = forkEvent(rn.t)
				gh.queue("POST "+comments, forbidden)
			},
			calls: append(append([]string{}, commentCalls...), "POST "+comments), comment: "skipped",
			notice: "pull requests from forks get a read-only token",
		},
		{
			name: "403", event: "pull_request.opened",
			edit:  func(_ *runner, gh *fakeGitHub) { gh.queue("POST "+comments, forbidden) },
			calls: append(append([]string{}, commentCalls...), "POST "+comments), comment: "skipped",
			notice: "the token may not write comments (HTTP 403); grant `pull-requests: write`",
		},
		{
			name: "404", event: "pull_request.opened",
			edit: func(_ *runner, gh *fakeGitHub) {
				gh.queue("GET "+comments, cannedResponse{status: 404, body: `{"message":"Not Found"}`})
			},
			calls: commentCalls, comment: "skipped",
			notice: "pull request #2 of Codertocat/Hello-World was not found (HTTP 404)",
		},
		{
			name: "500 then success", event: "pull_request.opened",
			edit: func(_ *runner, gh *fakeGitHub) {
				gh.queue("GET "+comments, cannedResponse{status: 500, body: `{"message":"Server Error"}`}, cannedResponse{status: 502, body: "bad gateway"})
			},
			calls: append([]string{commentCalls[0], commentCalls[1], commentCalls[1]}, createCalls()[1:]...), comment: "created",
			slept: []time.Duration{time.Second, 2 * time.Second},
		},
		{
			name: "429 with Retry-After", event: "pull_request.opened",
			edit: func(_ *runner, gh *fakeGitHub) {
				gh.queue("POST "+comments, cannedResponse{status: 429, header: map[string]string{"Retry-After": "7"}, body: `{"message":"rate limited"}`})
			},
			calls: append(append([]string{}, commentCalls...), "POST "+comments, "POST "+comments, "GET "+comments), comment: "created",
			slept: []time.Duration{7 * time.Second},
		},
		{
			name: "secondary rate limit 403 with Retry-After", event: "pull_request.opened",
			edit: func(_ *runner, gh *fakeGitHub) {
				gh.queue("GET /api-v3/user", cannedResponse{status: 403, header: map[string]string{"Retry-After": "3"},
					body: `{"message":"You have exceeded a secondary rate limit","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`})
			},
			calls: append([]string{"GET /api-v3/user"}, createCalls()...), comment: "created",
			slept: []time.Duration{3 * time.Second},
		},
		{
			name: "5xx gives up", event: "pull_request.opened",
			edit: func(_ *runner, gh *fakeGitHub) {
				for range maxAttempts {
					gh.queue("GET /api-v3/user", cannedResponse{status: 503, body: `{"message":"unavailable"}`})
				}
			},
			calls:   []string{"GET /api-v3/user", "GET /api-v3/user", "GET /api-v3/user", "GET /api-v3/user"},
			comment: "skipped", notice: "GitHub API error: GET http",
			slept: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
		},
		{
			name: "no token", event: "pull_request.opened",
			edit: func(rn *runner, _ *fakeGitHub) {
				rn.env["INPUT_TOKEN"] = ""
				rn.env["GITHUB_TOKEN"] = ""
			},
			comment: "skipped", notice: "no token; pass `token: ${{ github.token }}`",
		},
		{
			name: "missing pull request number", event: "pull_request.opened",
			edit: func(rn *runner, _ *fakeGitHub) {
				rn.env["GITHUB_EVENT_PATH"] = filepath.Join(eventsDir, "push.json")
			},
			comment: "skipped", notice: "the pull_request event payload has no pull request number",
		},
		{
			name: "pull_request_target", event: "pull_request.opened",
			edit:  func(rn *runner, _ *fakeGitHub) { rn.env["GITHUB_EVENT_NAME"] = "pull_request_target" },
			calls: createCalls(), comment: "created", notice: "on pull_request_target the default checkout is the base branch",
		},
		{
			name: "comment off", event: "pull_request.opened",
			edit:    func(rn *runner, _ *fakeGitHub) { rn.env["INPUT_COMMENT"] = "false" },
			comment: "skipped",
		},
	}
	r := newRepo(t, []string{"alpha"}, []string{"beta"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh := newFakeGitHub(t, testToken)
			rn := newRunner(t, r, gh, tt.event)
			tt.edit(rn, gh)
			out := rn.run()
			if out.err != nil {
				t.Fatal(out.err)
			}
			gh.verify(tt.calls...)
			if out.res.ExitCode != 5 || out.res.Comment != tt.comment {
				t.Errorf("exit %d comment %s", out.res.ExitCode, out.res.Comment)
			}
			wantOutputs(t, out.outputs, map[string]string{"status": "fail", "exit-code": "5", "failed-count": "1"})
			if !strings.Contains(out.summary, "Gait regress: fail") {
				t.Errorf("summary:\n%s", out.summary)
			}
			notices := annotations(out.stdout, "notice")
			switch {
			case tt.notice == "" && len(notices) != 0:
				t.Errorf("notices %q", notices)
			case tt.notice != "" && (len(notices) != 1 || !strings.Contains(notices[0], tt.notice)):
				t.Errorf("notices %q, want one with %q", notices, tt.notice)
			}
			if fmt.Sprint(rn.slept) != fmt.Sprint(tt.slept) {
				t.Errorf("slept %v, want %v", rn.slept, tt.slept)
			}
		})
	}
}

// forkEvent writes a pull_request payload whose head is a fork.
func forkEvent(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(eventsDir, "pull_request.opened.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	dig(ev, "pull_request", "head", "repo").(map[string]any)["full_name"] = "forker/Hello-World"
	data, _ = json.Marshal(ev)
	p := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBadInput: exit 6 with one clear message, an error annotation, and
// no API call.
func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		edit func(t *testing.T, rn *runner)
		want string
	}{
		{"missing config", func(_ *testing.T, rn *runner) { rn.env["INPUT_CONFIG"] = "missing.yaml" },
			"missing.yaml: no regress config; create one with `gait regress init"},
		{"invalid event JSON", func(t *testing.T, rn *runner) {
			p := filepath.Join(t.TempDir(), "event.json")
			if err := os.WriteFile(p, []byte(`{"pull_request": {`), 0o644); err != nil {
				t.Fatal(err)
			}
			rn.env["GITHUB_EVENT_PATH"] = p
		}, "$GITHUB_EVENT_PATH %EVENT%: failed to unmarshal event payload: unexpected end of JSON input; the runner writes the event payload there as JSON"},
		{"bad boolean", func(_ *testing.T, rn *runner) { rn.env["INPUT_FAIL-ON-REGRESSION"] = "maybe" },
			`input fail-on-regression: "maybe" is not a boolean; use true or false`},
		{"bad args", func(_ *testing.T, rn *runner) { rn.env["INPUT_ARGS"] = "--fixture a; rm -rf /" },
			`input args: unknown argument "rm"; the action accepts --fixture NAME, --parallel N and --output PATH`},
		{"unknown fixture", func(_ *testing.T, rn *runner) { rn.env["INPUT_ARGS"] = "--fixture nope" }, `nope`},
	}
	r := newRepo(t, []string{"alpha"}, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh := newFakeGitHub(t, testToken)
			rn := newRunner(t, r, gh, "pull_request.opened")
			tt.edit(t, rn)
			want := strings.ReplaceAll(tt.want, "%EVENT%", rn.env["GITHUB_EVENT_PATH"])
			out := rn.run()
			gh.verify()
			if exitcode.Of(out.err) != exitcode.InvalidInput || !strings.Contains(out.err.Error(), want) {
				t.Fatalf("err %v (exit %d), want exit 6 with %q", out.err, exitcode.Of(out.err), want)
			}
			if errs := annotations(out.stdout, "error"); len(errs) != 1 || !strings.HasPrefix(errs[0], "::error title=gait regress::") {
				t.Errorf("annotations %q", errs)
			}
			if len(out.outputs) != 2 || out.outputs["status"] != "fail" || out.outputs["exit-code"] != "6" {
				t.Errorf("outputs %v", out.outputs)
			}
		})
	}
}

// TestFailOnRegressionFalse passes the step but reports the failure.
func TestFailOnRegressionFalse(t *testing.T) {
	r := newRepo(t, nil, []string{"beta"})
	rn := newRunner(t, r, nil, "push")
	rn.env["INPUT_FAIL-ON-REGRESSION"] = "false"
	out := rn.run()
	if out.err != nil || out.res.ExitCode != 0 || out.res.RegressCode != 5 {
		t.Fatalf("%v %+v", out.err, out.res)
	}
	wantOutputs(t, out.outputs, map[string]string{"status": "fail", "exit-code": "5", "failed-count": "1"})
	if !strings.Contains(out.stdout, "fail-on-regression is false") {
		t.Errorf("stdout:\n%s", out.stdout)
	}
}

// TestAnnotationLimit: ten error annotations, then one notice with the rest.
func TestAnnotationLimit(t *testing.T) {
	var failing []string
	for i := range 13 {
		failing = append(failing, fmt.Sprintf("f%02d", i))
	}
	r := newRepo(t, nil, failing)
	rn := newRunner(t, r, nil, "workflow_dispatch")
	rn.env["INPUT_ARGS"] = `--parallel 2 --output "gait-out/result file.json"`
	out := rn.run()
	if out.err != nil {
		t.Fatal(out.err)
	}
	errs := annotations(out.stdout, "error")
	if len(errs) != MaxErrorAnnotations || !strings.Contains(errs[9], "file=fixtures/f09/fixture.json") {
		t.Fatalf("%d error annotations: %q", len(errs), errs)
	}
	notices := annotations(out.stdout, "notice")
	if len(notices) != 2 || !strings.Contains(notices[0], "3 more failing fixtures are not annotated") {
		t.Fatalf("notices %q", notices)
	}
	if got := out.outputs["result-path"]; got != filepath.ToSlash(filepath.Join(r.dir, "gait-out/result file.json")) {
		t.Errorf("result-path %q", got)
	}
}

// TestLimits: a huge report stays under GitHub's comment and summary sizes.
func TestLimits(t *testing.T) {
	rep := &regress.Report{FixtureSet: "default", Status: "fail"}
	for i := range 400 {
		rep.Fixtures = append(rep.Fixtures, regress.FixtureResult{
			Name: fmt.Sprintf("fixture_with_a_long_name_%04d", i), Status: "fail", FixtureFile: "fixtures/x/fixture.json",
			TicketFooter: "GAIT run_id=x manifest=sha256:" + strings.Repeat("a", 64) + ` verify="gait verify x"`,
			Graders: []regress.GraderResult{{Name: "trajectory", Status: "fail", Message: "tool sequence differs at step 2",
				Diff: strings.Repeat("-1. tool.search\n+1. tool.delete\n", 2000)}},
		})
	}
	rep.Total, rep.Failed = len(rep.Fixtures), len(rep.Fixtures)
	c := &commenter{marker: markerFor("gait.yaml"), runURL: "https://github.example/o/r/actions/runs/1"}
	body := c.body(rep, nil, false)
	if len(body) >= commentLimit || !strings.HasPrefix(body, c.marker) {
		t.Fatalf("comment is %d bytes", len(body))
	}
	if failing, ok := parseState(body); !ok || len(failing) != 400 {
		t.Fatalf("state lost: %d %v", len(failing), ok)
	}
	if s := report.Markdown(rep, report.MarkdownOptions{MaxBytes: SummaryLimit}); len(s) >= 1<<20 {
		t.Fatalf("summary is %d bytes", len(s))
	}
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		in      string
		want    regressArgs
		wantErr string
	}{
		{in: "", want: regressArgs{}},
		{in: "--fixture a --fixture=b,c --parallel 2", want: regressArgs{fixtures: []string{"a", "b", "c"}, parallel: 2}},
		{in: `--output 'out dir/r.json'`, want: regressArgs{output: "out dir/r.json"}},
		{in: "--output \"a \\\"b\\\"\"\n--fixture\tx", want: regressArgs{output: `a "b"`, fixtures: []string{"x"}}},
		{in: "--fixture $(whoami)", want: regressArgs{fixtures: []string{"$(whoami)"}}},
		{in: "--parallel -1", wantErr: "not a count"},
		{in: "--parallel", wantErr: "needs a value"},
		{in: "--fixture 'a", wantErr: "unterminated ' quote"},
		{in: "--junit x", wantErr: `unknown argument "--junit"`},
		{in: "a", wantErr: `unknown argument "a"`},
	}
	for _, tt := range tests {
		got, err := parseArgs(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitcode.Of(err) != exitcode.InvalidInput {
				t.Errorf("parseArgs(%q) err %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("parseArgs(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestStateRoundTrip(t *testing.T) {
	for _, failing := range [][]string{{}, {"a"}, {"a-->b", "<x>", "c&d"}} {
		body := "text\n" + formatState(failing) + "more"
		got, ok := parseState(body)
		if !ok || fmt.Sprint(got) != fmt.Sprint(failing) || strings.Count(body, "-->") != 1 {
			t.Errorf("%q: got %q %v", failing, got, ok)
		}
	}
	if _, ok := parseState("no state"); ok {
		t.Error("state found in a body without one")
	}
}
