package actions

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/regress"
)

// PullRequestFile is the file `gait action regress` writes next to the
// result document on pull_request events, naming the pull request the
// results are for. GitHub leaves workflow_run.pull_requests empty for a
// pull request from a fork; `gait action comment` then takes the number
// from this file, after checking it through the API.
const PullRequestFile = "pull_request.json"

// maxPullRequestFile bounds pull_request.json, a few dozen bytes.
const maxPullRequestFile = 4 << 10

// pullRequestRef is pull_request.json.
type pullRequestRef struct {
	Number  int    `json:"number"`
	HeadSHA string `json:"head_sha"`
}

var shaPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`) })

// writePullRequestRef writes pull_request.json next to the result document.
func writePullRequestRef(resultPath string, ev *event) error {
	data, err := json.Marshal(pullRequestRef{Number: ev.number, HeadSHA: ev.sha})
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(filepath.Dir(resultPath), PullRequestFile), append(data, '\n'), 0o644)
}

// readPullRequestRef reads pull_request.json. It comes from the pull
// request's own job, so it is checked and trusted for nothing but a number
// to look up.
func readPullRequestRef(p string) (pullRequestRef, error) {
	var ref pullRequestRef
	f, err := os.Open(p)
	if err != nil {
		return ref, exitcode.Invalidf("%s: cannot read it, and workflow_run.pull_requests is empty (a pull request from a fork); upload it with regress_result.json (`gait action regress` writes it on pull_request events)", p)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPullRequestFile+1))
	if err != nil {
		return ref, exitcode.Invalidf("%s: %s", p, oneLine(err.Error()))
	}
	if len(data) > maxPullRequestFile {
		return ref, exitcode.Invalidf("%s: larger than %d bytes; it holds a pull request number and a commit", p, maxPullRequestFile)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ref); err != nil || dec.More() {
		return ref, exitcode.Invalidf("%s: not a pull request reference (%s); upload the pull_request.json `gait action regress` wrote", p, oneLine(fmt.Sprint(err)))
	}
	if ref.Number < 1 || !shaPattern().MatchString(ref.HeadSHA) {
		return ref, exitcode.Invalidf("%s: number %d or head_sha %q is not valid; upload the pull_request.json `gait action regress` wrote", p, ref.Number, ref.HeadSHA)
	}
	return ref, nil
}

// CommentOptions say what `gait action comment` posts.
type CommentOptions struct {
	// From is the downloaded artifact: a directory holding
	// regress_result.json (and pull_request.json), or the result document.
	From string
	// Config is the config the regress job ran, relative to the repository
	// root; it names the comment, as in `gait action regress`.
	Config string
}

// CommentResult is what one run of `gait action comment` did.
type CommentResult struct {
	Comment     string `json:"comment"` // created | updated | skipped
	Notice      string `json:"notice,omitempty"`
	PullRequest int    `json:"pull_request,omitempty"`
	URL         string `json:"url,omitempty"`
}

// workflowRun is what the comment needs from a workflow_run event, all of
// it from the trusted payload GitHub writes.
type workflowRun struct {
	event   string // what triggered the run that uploaded the results
	headSHA string
	id      int64
	attempt int64
	htmlURL string
	numbers []int // workflow_run.pull_requests, head matching head_sha first
}

// Comment posts the pull request comment for a regress result produced by
// another workflow run: it runs in a workflow_run workflow with a write
// token, reads the result document that run uploaded, and creates or
// updates the same one comment `gait action regress` keeps. It never runs
// code from the pull request. A run that was not triggered by a pull
// request is skipped with a notice. Bad input (exit 6): the event is not
// workflow_run, the result document or pull_request.json is missing or
// invalid, or the pull request's head is not the commit the run tested.
// An API failure is an error (exit 1): posting is all it does.
func (r *Runtime) Comment(ctx context.Context, opts CommentOptions) (*CommentResult, error) {
	ga := githubactions.New(githubactions.WithGetenv(r.Getenv), githubactions.WithWriter(r.Stdout))
	token := r.token(ga)
	res, err := r.postComment(ctx, ga, opts, token)
	if err != nil {
		return nil, r.fail(ga, err, token, "gait comment")
	}
	return res, nil
}

func (r *Runtime) postComment(ctx context.Context, ga *githubactions.Action, opts CommentOptions, token string) (*CommentResult, error) {
	config := path.Clean(strings.TrimSpace(opts.Config))
	if opts.Config == "" || strings.Contains(config, `\`) || !filepath.IsLocal(filepath.FromSlash(config)) {
		return nil, exitcode.Invalidf("--config %q: not a path inside the repository; pass the config the regress job ran, as in its workdir and config inputs (default gait.yaml)", opts.Config)
	}
	ev, ghctx, err := readEvent(ga)
	if err != nil {
		return nil, err
	}
	if ev.name != "workflow_run" {
		return nil, exitcode.Invalidf("$GITHUB_EVENT_NAME is %q: gait action comment runs in a workflow triggered by `on: workflow_run`; see workflows-templates/gait-regress-comment.yml", ev.name)
	}
	wr, err := readWorkflowRun(ghctx.Event, ghctx.EventPath, ev.owner, ev.repo)
	if err != nil {
		return nil, err
	}
	if wr.event != "pull_request" {
		notice := fmt.Sprintf("the workflow run was triggered by %q, not by a pull request", wr.event)
		ga.Noticef("gait comment: no pull request comment: %s", notice)
		return &CommentResult{Comment: "skipped", Notice: notice}, nil
	}
	if token == "" {
		return nil, exitcode.Invalidf("no token: set INPUT_TOKEN or GITHUB_TOKEN to ${{ github.token }} and grant `pull-requests: write`")
	}
	if ev.owner == "" || ev.repo == "" {
		return nil, exitcode.Invalidf("GITHUB_REPOSITORY is not set; the runner sets it to owner/repo")
	}

	resultPath, dir := opts.From, filepath.Dir(opts.From)
	if st, err := os.Stat(opts.From); err == nil && st.IsDir() {
		resultPath, dir = filepath.Join(opts.From, resultName), opts.From
	}
	rep, err := regress.ReadResultFile(resultPath)
	if err != nil {
		return nil, err
	}

	gh, err := newGitHubClient(r.HTTPClient, ghctx.APIURL, token, r.sleep())
	if err != nil {
		return nil, exitcode.Invalidf("%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	number := 0
	if len(wr.numbers) > 0 {
		number = wr.numbers[0] // GitHub's own list: trusted
	} else {
		// A fork: the number comes from the pull request's own upload.
		// Take it only if that pull request's head is the tested commit.
		prFile := filepath.Join(dir, PullRequestFile)
		ref, err := readPullRequestRef(prFile)
		if err != nil {
			return nil, err
		}
		if ref.HeadSHA != wr.headSHA {
			return nil, exitcode.Invalidf("%s: head_sha %s is not the commit the workflow run tested (%s); refusing to comment", prFile, ref.HeadSHA, wr.headSHA)
		}
		pr, _, err := gh.PullRequests.Get(ctx, ev.owner, ev.repo, ref.Number)
		if err != nil {
			prob := apiProblem(err, &event{name: ev.name, owner: ev.owner, repo: ev.repo, number: ref.Number})
			if status(err) == http.StatusNotFound {
				return nil, exitcode.Invalidf("%s: %s", prFile, prob)
			}
			return nil, fmt.Errorf("checking pull request #%d: %s", ref.Number, prob)
		}
		if got := pr.GetHead().GetSHA(); got != wr.headSHA {
			return nil, exitcode.Invalidf("%s: pull request #%d's head is %s, not the commit the workflow run tested (%s); refusing to comment", prFile, ref.Number, got, wr.headSHA)
		}
		number = ref.Number
	}

	// Link fixtures to the tested commit (head_sha, checked above); a path
	// the document gives that is not inside the repository gets no link.
	linked := withFixtureLinks(rep, blobBase(ghctx.ServerURL, ev.owner, ev.repo, wr.headSHA), func(f regress.FixtureResult) string {
		return path.Join(path.Dir(config), f.FixtureFile)
	}, true)

	c := &commenter{gh: gh, owner: ev.owner, repo: ev.repo, number: number, marker: markerFor(config),
		runURL: wr.htmlURL, run: runKey(wr.id, wr.attempt)}
	out, err := c.upsert(ctx, linked)
	if err != nil {
		return nil, fmt.Errorf("pull request comment: %s", apiProblem(err, &event{name: ev.name, owner: ev.owner, repo: ev.repo, number: number}))
	}
	ga.Infof("gait comment: %s pull request comment %s", out.Action, out.URL)
	return &CommentResult{Comment: out.Action, PullRequest: number, URL: out.URL}, nil
}

// readWorkflowRun reads the workflow_run object of the event payload. Of
// its pull requests it keeps those into owner/repo (GitHub may list pull
// requests of other repositories whose head is the same branch).
func readWorkflowRun(payload map[string]any, eventPath, owner, repo string) (*workflowRun, error) {
	m, ok := payload["workflow_run"].(map[string]any)
	if !ok {
		return nil, exitcode.Invalidf("$GITHUB_EVENT_PATH %s: no workflow_run object; the runner writes the workflow_run event payload there", eventPath)
	}
	wr := &workflowRun{}
	wr.event, _ = m["event"].(string)
	wr.headSHA, _ = m["head_sha"].(string)
	wr.htmlURL, _ = m["html_url"].(string)
	if id := number(m["id"]); id > 0 {
		wr.id = int64(id)
	}
	if a := number(m["run_attempt"]); a > 0 {
		wr.attempt = int64(a)
	}
	prs, _ := m["pull_requests"].([]any)
	var others []int
	for _, p := range prs {
		pm, _ := p.(map[string]any)
		n := number(pm["number"])
		base, _ := dig(pm, "base", "repo", "url").(string)
		if n == 0 || (base != "" && !strings.HasSuffix(strings.ToLower(base), strings.ToLower("/repos/"+owner+"/"+repo))) {
			continue
		}
		if sha, _ := dig(pm, "head", "sha").(string); sha == wr.headSHA {
			wr.numbers = append(wr.numbers, n)
		} else {
			others = append(others, n)
		}
	}
	wr.numbers = append(wr.numbers, others...)
	if wr.event == "pull_request" && !shaPattern().MatchString(wr.headSHA) {
		return nil, exitcode.Invalidf("$GITHUB_EVENT_PATH %s: workflow_run.head_sha %q is not a commit", eventPath, wr.headSHA)
	}
	return wr, nil
}

// runKey names one attempt of a workflow run, so that a second poster for
// the same run (the regress job, then the workflow_run job) shows the same
// changes since the previous run.
func runKey(id, attempt int64) string {
	if id <= 0 {
		return ""
	}
	return strconv.FormatInt(id, 10) + "/" + strconv.FormatInt(max(attempt, 1), 10)
}
