package conformance_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// commentAPI is the part of the GitHub REST API `gait action comment`
// calls, under /api-v3/, for one pull request's comments.
type commentAPI struct {
	mu       sync.Mutex
	calls    []string
	comments []map[string]any
}

func (c *commentAPI) serve(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.calls = append(c.calls, r.Method+" "+r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		switch r.Method + " " + r.URL.Path {
		case "GET /api-v3/user":
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"message":"Resource not accessible by integration"}`)
		case "GET /api-v3/repos/Codertocat/Hello-World/issues/2/comments":
			_ = json.NewEncoder(w).Encode(c.comments)
		case "POST /api-v3/repos/Codertocat/Hello-World/issues/2/comments":
			var in struct{ Body string }
			_ = json.NewDecoder(r.Body).Decode(&in)
			cm := map[string]any{"id": 1000 + len(c.comments), "body": in.Body, "user": map[string]any{"login": "github-actions[bot]", "type": "Bot"}}
			c.comments = append(c.comments, cm)
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(cm)
		case "PATCH /api-v3/repos/Codertocat/Hello-World/issues/comments/1000":
			var in struct{ Body string }
			_ = json.NewDecoder(r.Body).Decode(&in)
			c.comments[0]["body"] = in.Body
			_ = json.NewEncoder(w).Encode(c.comments[0])
		default:
			t.Errorf("unexpected call %s %s", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestActionCommentGitHubPayloads runs `gait action comment` on GitHub's
// workflow_run.completed payloads, with v1's result document as the
// artifact: as they come (triggered by repository_dispatch) it skips with
// a notice; triggered by a pull request it posts one comment to the pull
// request workflow_run.pull_requests names.
func TestActionCommentGitHubPayloads(t *testing.T) {
	events := need(t, "conformance/github-events")
	artifact := t.TempDir()
	doc, err := os.ReadFile(need(t, "conformance/gait-v1/artifacts/regress/regress_result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifact, "regress_result.json"), doc, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, eventPath, apiURL string) (string, string, int) {
		t.Helper()
		for k, v := range map[string]string{"GITHUB_EVENT_NAME": "workflow_run", "GITHUB_EVENT_PATH": eventPath,
			"GITHUB_REPOSITORY": "Codertocat/Hello-World", "GITHUB_API_URL": apiURL, "INPUT_TOKEN": "ghs_conformance_token",
			"GITHUB_OUTPUT": "", "GITHUB_STEP_SUMMARY": ""} {
			t.Setenv(k, v)
		}
		code, stdout, stderr := exe(t, gaitBin, t.TempDir(), "action", "comment", "--from", artifact)
		if strings.Contains(strings.Replace(string(stdout), "::add-mask::ghs_conformance_token\n", "", 1)+stderr, "ghs_conformance_token") {
			t.Error("token printed")
		}
		return string(stdout), stderr, code
	}

	for _, name := range []string{"workflow_run.completed.json", "workflow_run.completed.with-pull-requests.json"} {
		t.Run(name, func(t *testing.T) {
			api := &commentAPI{}
			srv := api.serve(t)
			stdout, stderr, code := run(t, filepath.Join(events, name), srv.URL+"/api-v3")
			if code != 0 || stderr != "" || len(api.calls) != 0 ||
				!strings.Contains(stdout, `::notice::gait comment: no pull request comment: the workflow run was triggered by "repository_dispatch", not by a pull request`) {
				t.Fatalf("exit %d, calls %q\nstdout:\n%s\nstderr:\n%s", code, api.calls, stdout, stderr)
			}
		})
	}

	t.Run("triggered by pull_request", func(t *testing.T) {
		ev := readJSONFile(t, filepath.Join(events, "workflow_run.completed.with-pull-requests.json"))
		ev["workflow_run"].(map[string]any)["event"] = "pull_request"
		eventPath := filepath.Join(t.TempDir(), "event.json")
		writeJSONFile(t, eventPath, ev)
		api := &commentAPI{}
		srv := api.serve(t)
		stdout, stderr, code := run(t, eventPath, srv.URL+"/api-v3")
		if code != 0 || stderr != "" {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		if len(api.comments) != 1 || !strings.HasPrefix(api.comments[0]["body"].(string), `<!-- gait-regress config="gait.yaml" -->`+"\n## ✅ Gait regress: pass") {
			t.Fatalf("comments %v, calls %q", api.comments, api.calls)
		}
		// Again: the same comment is found, not a second one.
		stdout, _, code = run(t, eventPath, srv.URL+"/api-v3")
		if code != 0 || len(api.comments) != 1 || !strings.Contains(stdout, "gait comment: updated pull request comment") {
			t.Fatalf("re-run: exit %d, %d comments, calls %q\n%s", code, len(api.comments), api.calls, stdout)
		}
	})
}
