package actions

import (
	"strings"
	"testing"
)

// integrationLogin is who the workflow's GITHUB_TOKEN comments as.
const integrationLogin = "github-actions[bot]"

// TestAppTokenUpdatesOneComment: a GitHub App installation token gets 403
// on GET /user and comments as "<app>[bot]", not github-actions[bot]. The
// action learns the author from the comment it created and keeps updating
// that one comment across re-runs; a person's comment that copies the
// marker, and another bot's, are left alone.
func TestAppTokenUpdatesOneComment(t *testing.T) {
	r := newRepo(t, []string{"alpha"}, []string{"beta"})
	gh := newFakeGitHub(t, testToken)
	gh.login = ""
	gh.botLogin = "gait-checks[bot]"
	marker := markerFor("gait.yaml")
	person := gh.add("mallory", marker+"\n"+formatState([]string{"zzz"}))

	first := newRunner(t, r, gh, "pull_request.opened").run()
	if first.err != nil || first.res.Comment != "created" {
		t.Fatalf("first run: %+v %v\n%s", first.res, first.err, first.stdout)
	}
	mine := gh.mine()
	if len(mine) != 1 {
		t.Fatalf("%d comments by the app after the first run", len(mine))
	}
	id := mine[0].ID
	other := gh.add("other-app[bot]", marker+"\nnot ours\n")

	for run := 2; run <= 3; run++ {
		out := newRunner(t, r, gh, "pull_request.opened").run()
		if out.err != nil || out.res.Comment != "updated" {
			t.Fatalf("run %d: %+v %v\n%s", run, out.res, out.err, out.stdout)
		}
		mine := gh.mine()
		if len(mine) != 1 || mine[0].ID != id {
			t.Fatalf("run %d: comments by the app %+v, want only %d", run, mine, id)
		}
		st, ok := stateOf(mine[0].Body)
		if !ok || st.Author != "gait-checks[bot]" || strings.Join(st.Failing, ",") != "beta" {
			t.Fatalf("run %d: state %+v", run, st)
		}
	}
	gh.mu.Lock()
	defer gh.mu.Unlock()
	if len(gh.comments) != 3 {
		t.Fatalf("%d comments, want the person's, the app's and the other bot's", len(gh.comments))
	}
	for _, c := range gh.comments {
		if (c.ID == person && !strings.Contains(c.Body, "zzz")) || (c.ID == other && !strings.Contains(c.Body, "not ours")) {
			t.Errorf("comment %d by %s was changed", c.ID, c.Login)
		}
	}
}
