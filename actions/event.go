package actions

import (
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/gait-dev/gait/internal/exitcode"
)

// event is what the action needs from the workflow run's trigger.
type event struct {
	name   string // GITHUB_EVENT_NAME
	owner  string
	repo   string
	number int // pull request number; 0 when not a pull request
	fork   bool
	sha    string // the commit the fixtures were read from
}

// readEvent reads $GITHUB_EVENT_NAME and the payload at $GITHUB_EVENT_PATH.
// A payload that is not JSON is bad input (exit 6); a missing file is not.
func readEvent(ga *githubactions.Action) (*event, *githubactions.GitHubContext, error) {
	ctx, err := ga.Context()
	if ctx == nil {
		return nil, nil, exitcode.Invalidf("$GITHUB_EVENT_PATH %s: %s; the runner writes the event payload there as JSON", ga.Getenv("GITHUB_EVENT_PATH"), oneLine(err.Error()))
	}
	ev := &event{name: ctx.EventName}
	ev.owner, ev.repo = ctx.Repo()
	if pr, ok := ctx.Event["pull_request"].(map[string]any); ok {
		ev.number = number(pr["number"])
		head, _ := dig(pr, "head", "repo", "full_name").(string)
		base, _ := dig(pr, "base", "repo", "full_name").(string)
		ev.fork = head != "" && base != "" && head != base
		ev.sha, _ = dig(pr, "head", "sha").(string)
	}
	if ev.sha == "" {
		ev.sha = ctx.SHA
	}
	if ev.number == 0 {
		ev.number = number(ctx.Event["number"])
	}
	return ev, ctx, nil
}

// isPullRequest reports whether the event is one the action comments on.
func (e *event) isPullRequest() bool {
	return e.name == "pull_request" || e.name == "pull_request_target"
}

func dig(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// number reads a JSON number that is a positive integer.
func number(v any) int {
	f, ok := v.(float64)
	if !ok || f < 1 || f != float64(int(f)) {
		return 0
	}
	return int(f)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
