// Package actions runs Gait as the gait-regress GitHub Action: it reads the
// inputs and event the runner provides, runs regress, and reports where
// reviewers look: JUnit and result files, step outputs, the job summary,
// error annotations on failing fixtures, and one pull request comment.
package actions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/sethvargo/go-githubactions"

	"github.com/gait-dev/gait/internal/atomicfile"
	"github.com/gait-dev/gait/internal/exitcode"
	"github.com/gait-dev/gait/internal/textdiff"
	"github.com/gait-dev/gait/regress"
	"github.com/gait-dev/gait/report"
)

// GitHub's limits the action stays within.
const (
	// SummaryLimit bounds one step's job summary (GitHub: 1 MiB).
	SummaryLimit = 1<<20 - 4096
	// MaxErrorAnnotations is how many error annotations GitHub shows per step.
	MaxErrorAnnotations = 10
)

// Runtime is one run of the action with its dependencies injected, so a
// test can run it with a fake environment and a fake GitHub.
type Runtime struct {
	// Getenv reads the runner's environment (INPUT_*, GITHUB_*); required.
	Getenv func(string) string
	// Stdout receives workflow commands and the log.
	Stdout io.Writer
	// HTTPClient calls the GitHub API at $GITHUB_API_URL.
	HTTPClient *http.Client
	// Sleep waits between API retries; nil means time.Sleep.
	Sleep func(time.Duration)
	// Evaluator and ProducerVersion are passed to regress.Run.
	Evaluator       regress.PolicyEvaluator
	ProducerVersion string
	// WriteResults writes the result document and the JUnit report; required.
	WriteResults func(rep *regress.Report, resultPath, junitPath string) error
	// Merge, when set, is a folder of shard results to merge and report
	// instead of running regress (gait action regress --merge; the merge
	// input does the same).
	Merge string
}

// Result is what one run of the action decided.
type Result struct {
	Status        string `json:"status"`    // pass | fail
	RegressCode   int    `json:"exit_code"` // regress's verdict: 0, 5 or 6
	ExitCode      int    `json:"-"`         // the step's exit code
	Failed        int    `json:"failed_count"`
	JUnitPath     string `json:"junit_path"`
	ResultPath    string `json:"result_path"`
	HTMLPath      string `json:"html_path,omitempty"` // the HTML report, when one was written
	Comment       string `json:"comment"`             // created | updated | skipped
	CommentNotice string `json:"comment_notice,omitempty"`
}

// Run runs the action. It returns an error (with its exit code) only for
// bad input or when the runner's files cannot be written; a regression is
// a Result with ExitCode 5, or 0 under fail-on-regression: false.
func (r *Runtime) Run(ctx context.Context) (*Result, error) {
	ga := githubactions.New(githubactions.WithGetenv(r.Getenv), githubactions.WithWriter(r.Stdout))
	token := r.token(ga)
	res, err := r.run(ctx, ga, token)
	if err != nil {
		_ = r.setOutputs(ga, map[string]string{OutputStatus: regress.StatusFail, OutputExitCode: strconv.Itoa(int(exitcode.Of(err)))})
		return nil, r.fail(ga, err, token, "gait regress")
	}
	return res, nil
}

// token reads the token input, else $GITHUB_TOKEN, and masks it.
func (r *Runtime) token(ga *githubactions.Action) string {
	token := ga.GetInput(InputToken)
	if token == "" {
		token = strings.TrimSpace(r.Getenv("GITHUB_TOKEN"))
	}
	if token != "" {
		ga.AddMask(token)
	}
	return token
}

// fail annotates err and returns it with its exit code, as one line
// without the token whatever the error quotes from the pull request's
// files, so that it cannot start a workflow command on stdout or stderr.
func (r *Runtime) fail(ga *githubactions.Action, err error, token, title string) error {
	msg := textdiff.Visible(redact(err.Error(), token))
	ga.WithFieldsMap(map[string]string{"title": title}).Errorf("%s", msg)
	return exitcode.Wrap(exitcode.Of(err), fmt.Errorf("%s", msg))
}

// sleep is how API retries wait.
func (r *Runtime) sleep() func(time.Duration) {
	if r.Sleep == nil {
		return time.Sleep
	}
	return r.Sleep
}

func (r *Runtime) run(ctx context.Context, ga *githubactions.Action, token string) (*Result, error) {
	in, err := readInputs(ga)
	if err != nil {
		return nil, err
	}
	ev, ghctx, err := readEvent(ga)
	if err != nil {
		return nil, err
	}

	var notes []string
	if ev.name == "pull_request_target" {
		// The workflow runs in the base repository, and actions/checkout
		// checks out the base branch unless the workflow asks for the head.
		ga.Noticef("gait regress: on pull_request_target the default checkout is the base branch, not the pull request; " +
			"the fixture links point at the pull request head commit, which is what was graded only if the workflow checked it out")
		notes = append(notes, "on `pull_request_target` the default checkout is the base branch, not the pull request: "+
			"the fixture links point at the pull request head commit, which is what was graded only if the workflow checked it out.")
	}
	if r.Merge != "" {
		in.merge = r.Merge
	}
	if in.merge != "" && in.shard != nil {
		return nil, exitcode.Invalidf("inputs: shard and merge are both set; shard in the matrix jobs, merge in the final job")
	}
	if err := checkAgent(in.config); in.merge == "" && err != nil {
		return nil, err
	}

	// The same entry point and options as `gait regress run`, agent: block
	// included, so the check grades what the CLI grades.
	rep, err := r.grade(ga, in)
	if err != nil {
		return nil, err
	}
	if err := r.WriteResults(rep, in.result, in.junit); err != nil {
		return nil, err
	}
	if ev.name == "pull_request" && ev.number > 0 && ev.sha != "" {
		// For `gait action comment` in a workflow_run workflow.
		if err := writePullRequestRef(in.result, ev); err != nil {
			return nil, err
		}
	}

	res := &Result{Status: rep.Status, RegressCode: rep.ExitCode(), ExitCode: rep.ExitCode(), Failed: rep.Failed,
		JUnitPath: filepath.ToSlash(in.junit), ResultPath: filepath.ToSlash(in.result), Comment: "skipped"}
	if !in.failOnRegression {
		res.ExitCode = 0
	}
	if in.shard != nil {
		// The final merge job reports; a shard only leaves its files.
		return r.shardDone(ga, rep, res, in)
	}

	if in.html != "" {
		if err := writeHTML(in.html, rep, filepath.Dir(in.config)); err != nil {
			return nil, err
		}
		res.HTMLPath = filepath.ToSlash(in.html)
	}

	r.annotate(ga, rep, in.config, ghctx.Workspace)

	// The summary and the comment are not shown next to the files: link
	// each fixture to its fixture.json at the commit that was tested.
	linked := linkFixtures(rep, in.config, ghctx, ev)
	summaryNotes := notes
	if res.HTMLPath != "" {
		summaryNotes = append(slices.Clip(notes), htmlNote(workspaceRel(ghctx.Workspace, in.html)))
	}
	summary := report.Markdown(linked, report.MarkdownOptions{
		MaxBytes: SummaryLimit, TruncationNote: "the full diff is in " + res.ResultPath, Notes: summaryNotes,
	})
	if err := r.fileCommand("GITHUB_STEP_SUMMARY", func() { ga.AddStepSummary(summary) }); err != nil {
		return nil, err
	}

	if in.comment {
		r.comment(ctx, ga, res, linked, in, ev, ghctx, token, notes)
	}

	if err := r.setOutputs(ga, map[string]string{
		OutputStatus:      res.Status,
		OutputExitCode:    strconv.Itoa(res.RegressCode),
		OutputJUnitPath:   res.JUnitPath,
		OutputResultPath:  res.ResultPath,
		OutputFailedCount: strconv.Itoa(res.Failed),
		OutputSummary:     fmt.Sprintf("gait regress %s: %d fixtures, %d passed, %d failed", rep.Status, rep.Total, rep.Passed, rep.Failed),
		OutputHTMLPath:    res.HTMLPath,
	}); err != nil {
		return nil, err
	}
	ga.Infof("gait regress: status=%s failed=%d junit=%s result=%s html=%s comment=%s", res.Status, res.Failed, res.JUnitPath, res.ResultPath, res.HTMLPath, res.Comment)
	if rep.Failed > 0 && !in.failOnRegression {
		ga.Noticef("gait regress failed (%d fixtures) but fail-on-regression is false; the step passes", rep.Failed)
	}
	return res, nil
}

// ReportArtifact is the artifact the drop-in workflow uploads the HTML
// report as (workflows-templates/gait-regress.yml).
const ReportArtifact = "gait-regress-report"

// writeHTML writes the self-contained HTML report of rep to path; the
// fixtures' runs are read from baseDir, the config's folder.
func writeHTML(path string, rep *regress.Report, baseDir string) error {
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		return report.HTML(w, rep, report.HTMLOptions{BaseDir: baseDir})
	})
	if err != nil {
		return fmt.Errorf("writing the HTML report %s: %w", path, err)
	}
	return nil
}

// htmlNote is the job summary's note on where the HTML report is.
func htmlNote(path string) string {
	return "the HTML report (every failure with its diff, and the timeline of each failing run) is " + report.Code(path) +
		" in the workspace; the drop-in workflow `gait-regress.yml` uploads it as the `" + ReportArtifact +
		"` artifact, listed under Artifacts on this run's page."
}

// printInert prints text that comes from fixtures (names, tool calls,
// diffs) between stop-commands and its resume token, so that a line in it
// starting with "::" is shown and never run as a workflow command.
func (r *Runtime) printInert(ga *githubactions.Action, text string) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	resume := hex.EncodeToString(b[:])
	ga.IssueCommand(&githubactions.Command{Name: "stop-commands", Message: resume})
	fmt.Fprint(r.Stdout, text)
	if !strings.HasSuffix(text, "\n") {
		fmt.Fprintln(r.Stdout)
	}
	fmt.Fprintf(r.Stdout, "::%s::\n", resume)
}

// annotate emits one error annotation per failing fixture, on its
// fixture.json relative to the workspace, up to GitHub's per-step limit,
// then one notice counting the rest.
func (r *Runtime) annotate(ga *githubactions.Action, rep *regress.Report, config, workspace string) {
	if workspace == "" {
		workspace, _ = os.Getwd()
	}
	configDir := filepath.Dir(config)
	failing := 0
	for _, f := range rep.Fixtures {
		if f.Status == regress.StatusPass {
			continue
		}
		if failing++; failing > MaxErrorAnnotations {
			continue
		}
		var msgs []string
		for _, g := range f.Failed() {
			msgs = append(msgs, g.Name+": "+g.Message)
		}
		file := filepath.Join(configDir, filepath.FromSlash(f.FixtureFile))
		ga.WithFieldsMap(map[string]string{
			"file":  workspaceRel(workspace, file),
			"title": "gait regress: fixture " + f.Name + " failed",
		}).Errorf("%s", strings.Join(msgs, "; "))
	}
	if more := failing - MaxErrorAnnotations; more > 0 {
		ga.Noticef("%d more failing fixtures are not annotated (GitHub shows %d error annotations per step); see the job summary and the JUnit report",
			more, MaxErrorAnnotations)
	}
}

// linkFixtures returns a copy of rep whose fixture files are URLs of the
// files at the tested commit, or rep when the run's repository or commit
// is unknown.
func linkFixtures(rep *regress.Report, config string, ghctx *githubactions.GitHubContext, ev *event) *regress.Report {
	if ev.owner == "" || ev.repo == "" || ev.sha == "" || ghctx.ServerURL == "" {
		return rep
	}
	workspace := ghctx.Workspace
	if workspace == "" {
		workspace, _ = os.Getwd()
	}
	return withFixtureLinks(rep, blobBase(ghctx.ServerURL, ev.owner, ev.repo, ev.sha), func(f regress.FixtureResult) string {
		return workspaceRel(workspace, filepath.Join(filepath.Dir(config), filepath.FromSlash(f.FixtureFile)))
	}, false)
}

// blobBase is the URL prefix of the repository's files at commit sha.
func blobBase(serverURL, owner, repo, sha string) string {
	return fmt.Sprintf("%s/%s/%s/blob/%s/", strings.TrimRight(serverURL, "/"), url.PathEscape(owner), url.PathEscape(repo), url.PathEscape(sha))
}

// withFixtureLinks returns a copy of rep whose fixture files are URLs
// under base; rel gives a fixture file's slash path from the repository
// root. A fixture file outside the repository keeps its path, or with
// dropOutside loses it (and so its link).
func withFixtureLinks(rep *regress.Report, base string, rel func(regress.FixtureResult) string, dropOutside bool) *regress.Report {
	out := *rep
	out.Fixtures = slices.Clone(rep.Fixtures)
	for i, f := range out.Fixtures {
		p := rel(f)
		if f.FixtureFile == "" || base == "" || p == ".." || strings.HasPrefix(p, "../") || path.IsAbs(p) || filepath.IsAbs(p) {
			if dropOutside {
				out.Fixtures[i].FixtureFile = ""
			}
			continue
		}
		parts := strings.Split(p, "/")
		for j, part := range parts {
			parts[j] = url.PathEscape(part)
		}
		out.Fixtures[i].FixtureFile = base + strings.Join(parts, "/")
	}
	return &out
}

// workspaceRel returns path relative to the workspace, with slashes.
func workspaceRel(workspace, path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.ToSlash(path)
	}
	ws, err := filepath.Abs(workspace)
	if err != nil {
		return filepath.ToSlash(path)
	}
	rel, err := filepath.Rel(ws, abs)
	if err != nil {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(rel)
}

// comment upserts the pull request comment, or says with a notice why
// not. It never fails the step: API errors do not change the verdict.
func (r *Runtime) comment(ctx context.Context, ga *githubactions.Action, res *Result, rep *regress.Report, in *inputs,
	ev *event, ghctx *githubactions.GitHubContext, token string, notes []string) {
	skip := func(format string, args ...any) {
		res.CommentNotice = redact(fmt.Sprintf(format, args...), token)
		ga.Noticef("gait regress: no pull request comment: %s", res.CommentNotice)
	}
	switch {
	case !ev.isPullRequest():
		skip("event %q is not a pull request", ev.name)
		return
	case token == "":
		skip("no token; pass `token: ${{ github.token }}` and grant `pull-requests: write`")
		return
	case ev.number == 0:
		skip("the %s event payload has no pull request number", ev.name)
		return
	case ev.owner == "" || ev.repo == "":
		skip("GITHUB_REPOSITORY is not set")
		return
	}
	gh, err := newGitHubClient(r.HTTPClient, ghctx.APIURL, token, r.sleep())
	if err != nil {
		skip("%v", err)
		return
	}
	var runURL string
	if id := r.Getenv("GITHUB_RUN_ID"); id != "" {
		runURL = fmt.Sprintf("%s/%s/%s/actions/runs/%s", strings.TrimRight(ghctx.ServerURL, "/"), ev.owner, ev.repo, id)
	}
	c := &commenter{gh: gh, owner: ev.owner, repo: ev.repo, number: ev.number,
		marker: markerFor(workspaceRel(ghctx.Workspace, in.config)), runURL: runURL, notes: notes,
		run: runKey(ghctx.RunID, ghctx.RunAttempt)}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	out, err := c.upsert(ctx, rep)
	if err != nil {
		skip("%s", apiProblem(err, ev))
		return
	}
	res.Comment = out.Action
	ga.Infof("gait regress: %s pull request comment %s", out.Action, out.URL)
}

// apiProblem says why a GitHub API call failed, in words a user can act on.
func apiProblem(err error, ev *event) string {
	code := status(err)
	_, limited := errors.AsType[*github.RateLimitError](err)
	switch {
	case limited || code == http.StatusTooManyRequests:
		return "GitHub API rate limit exceeded: " + oneLine(err.Error())
	case code == http.StatusForbidden && ev.fork:
		return "the token may not write to this repository (HTTP 403): pull requests from forks get a read-only token"
	case code == http.StatusForbidden:
		return "the token may not write comments (HTTP 403); grant `pull-requests: write`, and note that pull requests from forks get a read-only token"
	case code == http.StatusNotFound:
		return fmt.Sprintf("pull request #%d of %s/%s was not found (HTTP 404), or the token cannot see it", ev.number, ev.owner, ev.repo)
	case code == http.StatusUnauthorized:
		return "the token was refused (HTTP 401)"
	}
	return "GitHub API error: " + oneLine(err.Error())
}

// setOutputs writes outputs to $GITHUB_OUTPUT in a stable order.
func (r *Runtime) setOutputs(ga *githubactions.Action, outs map[string]string) error {
	return r.fileCommand("GITHUB_OUTPUT", func() {
		for _, k := range Outputs {
			if v, ok := outs[k]; ok {
				ga.SetOutput(k, v)
			}
		}
	})
}

// fileCommand runs a go-githubactions call that appends to the runner's
// file named by env, turning its panic on a write failure into an error.
// Outside a runner (env unset) it does nothing.
func (r *Runtime) fileCommand(env string, f func()) (err error) {
	if r.Getenv(env) == "" {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("$%s: %v", env, p)
		}
	}()
	f()
	return nil
}

// redact removes the token from s.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "***")
}
