package actions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/gait-dev/gait/regress"
	"github.com/gait-dev/gait/report"
)

// GitHub's limit on an issue comment body, in characters; the comment is
// kept under it in bytes, which is stricter.
const (
	commentLimit  = 65536
	commentMargin = 1024
	stateLimit    = 16 << 10
)

// commenter keeps one comment per pull request and config up to date.
type commenter struct {
	gh     *github.Client
	owner  string
	repo   string
	number int
	marker string
	runURL string
	notes  []string // the template's own notes for the comment
	author string   // who the comment is by, recorded in its state when known
	// run names the workflow run attempt whose results are posted; a
	// second post for the same run shows the same changes as the first.
	run string
}

// newGitHubClient returns a go-github client for apiURL (GITHUB_API_URL,
// also GHES's https://host/api/v3) that retries and authenticates.
func newGitHubClient(hc *http.Client, apiURL, token string, sleep func(time.Duration)) (*github.Client, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	withRetry := *hc
	withRetry.Transport = &retryTransport{base: base, sleep: sleep}
	gh := github.NewClient(&withRetry).WithAuthToken(token)
	if apiURL == "" {
		return gh, nil
	}
	u, err := url.Parse(strings.TrimRight(apiURL, "/") + "/")
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("GITHUB_API_URL %q is not a URL", apiURL)
	}
	gh.BaseURL = u
	gh.UploadURL = u
	return gh, nil
}

// commentOutcome says what happened to the comment.
type commentOutcome struct {
	Action string // created | updated
	ID     int64
	URL    string
}

// upsert finds this config's comment (by the marker, among comments by the
// token's own user), then updates it or creates it. After creating, it
// lists again and removes a duplicate a concurrent run may have created,
// keeping the oldest.
//
// GitHub App installation tokens and the workflow token cannot read their
// own user (GET /user answers 403). Their comments are by a bot account
// ("<app>[bot]"), so the comment is then the oldest marked comment by a
// bot, preferring one whose hidden state names its own author; each update
// records the author, and after a create the author is taken from the
// created comment.
func (c *commenter) upsert(ctx context.Context, rep *regress.Report) (commentOutcome, error) {
	login, err := c.self(ctx)
	if err != nil {
		return commentOutcome{}, err
	}
	mine, err := c.listMine(ctx, login)
	if err != nil {
		return commentOutcome{}, err
	}
	if len(mine) > 0 {
		st, hasPrevious := stateOf(mine[0].GetBody())
		previous := st.Failing
		if c.run != "" && st.Run == c.run {
			// Already posted for this run: compare with what that post compared with.
			hasPrevious = st.Since != nil
			if hasPrevious {
				previous = *st.Since
			}
		}
		c.author = mine[0].GetUser().GetLogin()
		body := c.body(rep, previous, hasPrevious)
		got, _, err := c.gh.Issues.EditComment(ctx, c.owner, c.repo, mine[0].GetID(), &github.IssueComment{Body: &body})
		if err != nil {
			return commentOutcome{}, err
		}
		// Leftovers from an earlier race: keep only the oldest.
		for _, extra := range mine[1:] {
			if _, err := c.gh.Issues.DeleteComment(ctx, c.owner, c.repo, extra.GetID()); err != nil {
				return commentOutcome{}, err
			}
		}
		return commentOutcome{Action: "updated", ID: got.GetID(), URL: got.GetHTMLURL()}, nil
	}
	c.author = login
	body := c.body(rep, nil, false)
	created, _, err := c.gh.Issues.CreateComment(ctx, c.owner, c.repo, c.number, &github.IssueComment{Body: &body})
	if err != nil {
		return commentOutcome{}, err
	}
	out := commentOutcome{Action: "created", ID: created.GetID(), URL: created.GetHTMLURL()}
	if author := created.GetUser().GetLogin(); author != "" {
		login = author // what the token comments as, learnt from its comment
	}
	again, err := c.listMine(ctx, login)
	if err != nil || len(again) < 2 {
		return out, nil //nolint:nilerr // the comment exists; the duplicate check is best effort
	}
	keep := again[0]
	for _, dup := range again[1:] {
		if _, err := c.gh.Issues.DeleteComment(ctx, c.owner, c.repo, dup.GetID()); err != nil {
			return out, err
		}
	}
	if keep.GetID() != created.GetID() {
		got, _, err := c.gh.Issues.EditComment(ctx, c.owner, c.repo, keep.GetID(), &github.IssueComment{Body: &body})
		if err != nil {
			return out, err
		}
		out = commentOutcome{Action: "updated", ID: got.GetID(), URL: got.GetHTMLURL()}
	}
	return out, nil
}

// self returns the login of the token's user, or "" when the token cannot
// read it (the workflow token and GitHub App installation tokens).
func (c *commenter) self(ctx context.Context) (string, error) {
	u, _, err := c.gh.Users.Get(ctx, "")
	if err == nil && u.GetLogin() != "" {
		return u.GetLogin(), nil
	}
	if err == nil || status(err) == http.StatusForbidden || status(err) == http.StatusNotFound {
		return "", nil
	}
	return "", err
}

// listMine pages through every comment on the pull request and returns
// those that carry the marker and are by login, oldest first. With login
// "" (the token's user is unknown) they are those by one bot account: the
// author of the oldest marked bot comment whose state names its own
// author, else of the oldest marked bot comment.
func (c *commenter) listMine(ctx context.Context, login string) ([]*github.IssueComment, error) {
	var marked []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for pages := 0; pages < 1000; pages++ {
		page, resp, err := c.gh.Issues.ListComments(ctx, c.owner, c.repo, c.number, opts)
		if err != nil {
			return nil, err
		}
		for _, cm := range page {
			if strings.Contains(cm.GetBody(), c.marker) {
				marked = append(marked, cm)
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	slices.SortFunc(marked, func(a, b *github.IssueComment) int { return cmpInt64(a.GetID(), b.GetID()) })
	if login == "" {
		login = botOwner(marked)
	}
	var mine []*github.IssueComment
	for _, cm := range marked {
		if login != "" && strings.EqualFold(cm.GetUser().GetLogin(), login) {
			mine = append(mine, cm)
		}
	}
	return mine, nil
}

// botOwner picks whose marked comments are the action's when the token's
// user is unknown; only bot accounts qualify, never a person who copied
// the marker.
func botOwner(marked []*github.IssueComment) string {
	first := ""
	for _, cm := range marked {
		u := cm.GetUser()
		if !isBot(u) {
			continue
		}
		if st, ok := stateOf(cm.GetBody()); ok && st.Author != "" && strings.EqualFold(st.Author, u.GetLogin()) {
			return u.GetLogin()
		}
		if first == "" {
			first = u.GetLogin()
		}
	}
	return first
}

// isBot reports whether u is a bot account (a GitHub App or the workflow
// token's github-actions[bot]).
func isBot(u *github.User) bool {
	return u.GetType() == "Bot" || strings.HasSuffix(u.GetLogin(), "[bot]")
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// body renders the comment: the report's markdown (with the marker first
// and changes since the previous comment), a link to the run, and a hidden
// state line listing the failing fixtures for the next run to compare.
func (c *commenter) body(rep *regress.Report, previous []string, hasPrevious bool) string {
	failing := failingNames(rep)
	st := commentState{Failing: failing, Author: c.author, Run: c.run}
	if hasPrevious && c.run != "" {
		since := append([]string{}, previous...)
		st.Since = &since
	}
	state := encodeState(st)
	if len(state) > stateLimit {
		state = "" // too many to remember; the next run shows no changes
	}
	var changes *report.Changes
	if hasPrevious {
		changes = compare(rep, previous)
	}
	var tail string
	if c.runURL != "" {
		tail = fmt.Sprintf("\n[Job summary and full diffs](%s)\n", c.runURL)
	}
	md := report.Markdown(rep, report.MarkdownOptions{
		MaxBytes:       commentLimit - commentMargin - len(state) - len(tail),
		Marker:         c.marker,
		Changes:        changes,
		TruncationNote: "the full diff is in the job summary",
		Notes:          c.notes,
	})
	return md + tail + state
}

func failingNames(rep *regress.Report) []string {
	out := []string{}
	for _, f := range rep.Fixtures {
		if f.Status != regress.StatusPass {
			out = append(out, f.Name)
		}
	}
	return out
}

// compare lists fixtures failing now but not before, and fixtures failing
// before that pass now.
func compare(rep *regress.Report, previous []string) *report.Changes {
	ch := &report.Changes{}
	for _, f := range rep.Fixtures {
		was := slices.Contains(previous, f.Name)
		switch {
		case f.Status != regress.StatusPass && !was:
			ch.NewlyFailing = append(ch.NewlyFailing, f.Name)
		case f.Status == regress.StatusPass && was:
			ch.Fixed = append(ch.Fixed, f.Name)
		}
	}
	return ch
}

const statePrefix = "<!-- gait-regress-state "

var stateRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`<!-- gait-regress-state (\{[^\n]*?\}) -->`) })

// commentState is what a comment remembers for the next run: the failing
// fixtures, the comment's author (who the token comments as), and the run
// it was posted for with the failing set it was compared with.
type commentState struct {
	Failing []string  `json:"failing"`
	Author  string    `json:"author,omitempty"`
	Run     string    `json:"run,omitempty"`
	Since   *[]string `json:"since,omitempty"`
}

// formatState is the state of a comment listing failing.
func formatState(failing []string) string { return encodeState(commentState{Failing: failing}) }

// encodeState is a hidden HTML comment; JSON with HTML escaping keeps any
// "-->" in it from closing the comment early.
func encodeState(st commentState) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(st)
	return "\n" + statePrefix + strings.TrimSpace(buf.String()) + " -->\n"
}

// parseState reads the failing set a previous run left in its comment.
func parseState(body string) ([]string, bool) {
	st, ok := stateOf(body)
	return st.Failing, ok
}

// stateOf reads the state a previous run left in its comment.
func stateOf(body string) (commentState, bool) {
	m := stateRE().FindStringSubmatch(body)
	if m == nil {
		return commentState{}, false
	}
	var st commentState
	if err := json.Unmarshal([]byte(m[1]), &st); err != nil {
		return commentState{}, false
	}
	return st, true
}

// markerFor is the hidden first line that finds the comment again; one
// comment per config, so two jobs on different configs do not fight.
func markerFor(config string) string {
	b, _ := json.Marshal(config) // escapes <, > and &
	return "<!-- gait-regress config=" + string(b) + " -->"
}

// status returns the HTTP status of a GitHub API error, or 0.
func status(err error) int {
	if e, ok := errors.AsType[*github.ErrorResponse](err); ok && e.Response != nil {
		return e.Response.StatusCode
	}
	if e, ok := errors.AsType[*github.RateLimitError](err); ok && e.Response != nil {
		return e.Response.StatusCode
	}
	if e, ok := errors.AsType[*github.AbuseRateLimitError](err); ok && e.Response != nil {
		return e.Response.StatusCode
	}
	return 0
}
