package actions

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeGitHub speaks the REST endpoints the action uses, under /api-v3/ so
// that a call built from an absolute URL misses it. It records every call
// and fails the test on a call it does not serve; verify checks the calls.
type fakeGitHub struct {
	t     *testing.T
	srv   *httptest.Server
	token string
	// login is the token's user; "" makes GET /user answer 403 as it does
	// for the workflow token and GitHub App installation tokens.
	login string
	// botLogin is who comments when login is "" (default github-actions[bot]).
	botLogin string

	mu       sync.Mutex
	calls    []string
	comments []fakeComment
	nextID   int64
	// script holds canned responses per "METHOD /path", served before the
	// real handler, one per call.
	script map[string][]cannedResponse
	// onCreate runs after a comment is created (to simulate a race).
	onCreate func(f *fakeGitHub)
}

type fakeComment struct {
	ID    int64
	Login string
	Body  string
}

type cannedResponse struct {
	status int
	header map[string]string
	body   string
}

const (
	fakeOwner = "Codertocat"
	fakeRepo  = "Hello-World"
	fakePR    = 2
)

func newFakeGitHub(t *testing.T, token string) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{t: t, token: token, login: "gait-bot", nextID: 1000, script: map[string][]cannedResponse{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api-v3/user", f.user)
	mux.HandleFunc("GET /api-v3/repos/{owner}/{repo}/issues/{number}/comments", f.list)
	mux.HandleFunc("POST /api-v3/repos/{owner}/{repo}/issues/{number}/comments", f.create)
	mux.HandleFunc("PATCH /api-v3/repos/{owner}/{repo}/issues/comments/{id}", f.edit)
	mux.HandleFunc("DELETE /api-v3/repos/{owner}/{repo}/issues/comments/{id}", f.delete)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.calls = append(f.calls, r.Method+" "+r.URL.Path)
		key := r.Method + " " + r.URL.Path
		var canned *cannedResponse
		if q := f.script[key]; len(q) > 0 {
			canned, f.script[key] = &q[0], q[1:]
		}
		f.mu.Unlock()
		if got := r.Header.Get("Authorization"); got != "Bearer "+token {
			t.Errorf("%s: Authorization %q, want the token", key, got)
		}
		if canned != nil {
			for k, v := range canned.header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(canned.status)
			_, _ = io.WriteString(w, canned.body)
			return
		}
		if _, pattern := mux.Handler(r); pattern == "" {
			t.Errorf("unexpected call %s", key)
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// apiURL is what GITHUB_API_URL is set to.
func (f *fakeGitHub) apiURL() string { return f.srv.URL + "/api-v3" }

// queue serves resp for the next call to "METHOD /api-v3/path".
func (f *fakeGitHub) queue(key string, resps ...cannedResponse) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[key] = append(f.script[key], resps...)
}

// verify checks the calls made since the last verify, in order, and that
// every canned response was used.
func (f *fakeGitHub) verify(want ...string) {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Equal(f.calls, want) {
		f.t.Errorf("GitHub calls:\n  %s\nwant:\n  %s", strings.Join(f.calls, "\n  "), strings.Join(want, "\n  "))
	}
	for k, q := range f.script {
		if len(q) > 0 {
			f.t.Errorf("unmet call %s (%d canned responses left)", k, len(q))
		}
	}
	f.calls = nil
}

// mine returns the bodies of the comments by the token's user, oldest first.
func (f *fakeGitHub) mine() []fakeComment {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeComment
	for _, c := range f.comments {
		if c.Login == f.selfLogin() {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeGitHub) selfLogin() string {
	if f.login == "" {
		if f.botLogin != "" {
			return f.botLogin
		}
		return integrationLogin
	}
	return f.login
}

// add puts a comment on the pull request.
func (f *fakeGitHub) add(login, body string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addLocked(login, body)
}

func (f *fakeGitHub) addLocked(login, body string) int64 {
	f.nextID++
	f.comments = append(f.comments, fakeComment{ID: f.nextID, Login: login, Body: body})
	return f.nextID
}

func (f *fakeGitHub) checkRepo(w http.ResponseWriter, r *http.Request) bool {
	if r.PathValue("owner") != fakeOwner || r.PathValue("repo") != fakeRepo {
		f.t.Errorf("%s %s: wrong repository", r.Method, r.URL.Path)
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return false
	}
	if n := r.PathValue("number"); n != "" && n != strconv.Itoa(fakePR) {
		f.t.Errorf("%s %s: wrong pull request", r.Method, r.URL.Path)
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return false
	}
	return true
}

func (f *fakeGitHub) user(w http.ResponseWriter, _ *http.Request) {
	if f.login == "" {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"message":"Resource not accessible by integration"}`)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"login": f.login, "id": 1})
}

func (f *fakeGitHub) list(w http.ResponseWriter, r *http.Request) {
	if !f.checkRepo(w, r) {
		return
	}
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 30
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	f.mu.Lock()
	all := slices.Clone(f.comments)
	f.mu.Unlock()
	lo, hi := min((page-1)*per, len(all)), min(page*per, len(all))
	if hi < len(all) {
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?page=%d&per_page=%d>; rel="next"`, f.srv.URL, r.URL.Path, page+1, per))
	}
	out := []map[string]any{}
	for _, c := range all[lo:hi] {
		out = append(out, commentJSON(c))
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *fakeGitHub) create(w http.ResponseWriter, r *http.Request) {
	if !f.checkRepo(w, r) {
		return
	}
	var in struct{ Body string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		f.t.Errorf("create: %v", err)
	}
	f.mu.Lock()
	id := f.addLocked(f.selfLogin(), in.Body)
	c := f.comments[len(f.comments)-1]
	hook := f.onCreate
	f.onCreate = nil
	f.mu.Unlock()
	if hook != nil {
		hook(f)
	}
	_ = id
	writeJSON(w, http.StatusCreated, commentJSON(c))
}

func (f *fakeGitHub) edit(w http.ResponseWriter, r *http.Request) {
	if !f.checkRepo(w, r) {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var in struct{ Body string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		f.t.Errorf("edit: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, c := range f.comments {
		if c.ID == id {
			if c.Login != f.selfLogin() {
				f.t.Errorf("edit of comment %d by %s", id, c.Login)
			}
			f.comments[i].Body = in.Body
			writeJSON(w, http.StatusOK, commentJSON(f.comments[i]))
			return
		}
	}
	f.t.Errorf("edit of unknown comment %d", id)
	http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
}

func (f *fakeGitHub) delete(w http.ResponseWriter, r *http.Request) {
	if !f.checkRepo(w, r) {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, c := range f.comments {
		if c.ID == id {
			if c.Login != f.selfLogin() {
				f.t.Errorf("delete of comment %d by %s", id, c.Login)
			}
			f.comments = slices.Delete(f.comments, i, i+1)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	f.t.Errorf("delete of unknown comment %d", id)
	http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
}

func commentJSON(c fakeComment) map[string]any {
	return map[string]any{
		"id": c.ID, "body": c.Body, "user": map[string]any{"login": c.Login, "type": userType(c.Login)},
		"html_url": fmt.Sprintf("https://github.example/%s/%s/pull/%d#issuecomment-%d", fakeOwner, fakeRepo, fakePR, c.ID),
	}
}

func userType(login string) string {
	if strings.HasSuffix(login, "[bot]") {
		return "Bot"
	}
	return "User"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
