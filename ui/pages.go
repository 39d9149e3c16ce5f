package ui

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/gait-dev/gait/gate"
	"github.com/gait-dev/gait/internal/capped"
	"github.com/gait-dev/gait/internal/safezip"
	"github.com/gait-dev/gait/job"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/regress"
	"github.com/gait-dev/gait/report"
)

// Page sizes.
const (
	runsPerPage   = 50
	stepsPerPage  = 200
	tracesPerPage = 100
	maxChanges    = 500
	maxSideRows   = 2000
	maxEvents     = 200
	maxTraceBytes = 1 << 20
)

type navItem struct {
	Href, Label string
	Current     bool
}

// page is what every page template gets.
type page struct {
	Title     string
	Nav       []navItem
	Token     string
	Version   string
	Workspace string // as the footer shows it (~/… under the home folder)
	// WorkspacePath is the workspace's absolute path, the footer's tooltip.
	WorkspacePath string
	Data          any
}

var sections = []navItem{
	{"/runs", "Runs", false}, {"/regress", "Regress", false}, {"/gate", "Gate", false},
	{"/jobs", "Jobs", false}, {"/sessions", "Sessions", false}, {"/guided", "Guided first run", false},
}

func (s *Server) templates() (*template.Template, error) {
	s.tmplOnce.Do(func() {
		s.pages, s.tmplErr = report.HTMLTemplates().ParseFS(assetsFS, "templates/*.html")
	})
	return s.pages, s.tmplErr
}

// render executes a page template into a buffer first, so a failing
// template never sends half a page.
func (s *Server) render(w http.ResponseWriter, code int, name, title, current string, data any) {
	t, err := s.templates()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	nav := slices.Clone(sections)
	for i := range nav {
		nav[i].Current = nav[i].Href == current
	}
	p := page{Title: title, Nav: nav, Token: s.token, Version: s.opts.Version, Workspace: s.label, WorkspacePath: s.root, Data: data}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, p); err != nil {
		http.Error(w, "rendering "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) fail(w http.ResponseWriter, code int, current, msg string) {
	s.render(w, code, "page-error", "Not shown", current, msg)
}

// pager is the state of a paginated list.
type pager struct {
	Page, Pages int
	Prev, Next  string
}

// paginate picks page p (1-based, from the query's "page") of n items.
func paginate(r *http.Request, n, per int) (pg pager, from, to int) {
	pg.Pages = max(1, (n+per-1)/per)
	pg.Page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	pg.Page = min(max(pg.Page, 1), pg.Pages)
	link := func(p int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		return r.URL.Path + "?" + q.Encode()
	}
	pg.Prev, pg.Next = link(pg.Page-1), link(pg.Page+1)
	from = (pg.Page - 1) * per
	return pg, min(from, n), min(from+per, n)
}

func runLink(rel string) string { return "/run?path=" + url.QueryEscape(rel) }

func fileLink(rel string) string { return "/file?path=" + url.QueryEscape(rel) }

// serveFile sends one workspace file (a runpack, the regress result, the
// JUnit report) as a download: never rendered by the browser, and only
// from gait-out/, fixtures/ or the regress result (see resolve).
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	rel := r.URL.Query().Get("path")
	abs, err := s.resolve(rel)
	info, statErr := os.Stat(abs)
	if err != nil || statErr != nil || !info.Mode().IsRegular() {
		s.fail(w, http.StatusNotFound, "", fmt.Sprintf("%s: not a file of this workspace's gait-out/ or fixtures/", rel))
		return
	}
	f, err := os.Open(abs)
	if err != nil {
		s.fail(w, http.StatusNotFound, "", err.Error())
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", "attachment; filename="+strconv.Quote(filepath.Base(abs)))
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "", info.ModTime(), f)
}

type runRow struct {
	N                       int
	Path, Link, RunID, Size string
	Signature, Problem      string
}

func (s *Server) runRow(n int, e fileEntry) runRow {
	v, problem := s.cache.verify(e.Abs)
	return runRow{N: n, Path: e.Rel, Link: runLink(e.Rel), RunID: v.RunID, Size: safezip.HumanSize(e.Size),
		Signature: v.SignatureStatus, Problem: problem}
}

func (s *Server) pageRuns(w http.ResponseWriter, r *http.Request) {
	all := s.runs()
	pg, from, to := paginate(r, len(all), runsPerPage)
	rows := make([]runRow, to-from)
	// Verify the page's runs on a few goroutines; results are cached.
	var wg sync.WaitGroup
	next := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				rows[i-from] = s.runRow(i+1, all[i])
			}
		})
	}
	for i := from; i < to; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	s.render(w, http.StatusOK, "page-runs", "Runs", "/runs", map[string]any{"Total": len(all), "Rows": rows, "Pager": pg})
}

func (s *Server) pageRun(w http.ResponseWriter, r *http.Request) {
	rel := r.URL.Query().Get("path")
	abs, err := s.resolve(rel)
	if err != nil || !strings.HasSuffix(abs, ".zip") {
		s.fail(w, http.StatusNotFound, "/runs", fmt.Sprintf("%s: not a runpack of this workspace's gait-out/ or fixtures/", rel))
		return
	}
	// Verify (hash every entry) while the runpack decodes: two passes over
	// the archive on two cores.
	var v pack.VerifyResult
	var problem string
	verified := make(chan struct{})
	go func() {
		defer close(verified)
		v, problem = s.cache.verify(abs)
	}()
	rp, err := s.cache.open(abs)
	<-verified
	if err != nil {
		s.fail(w, http.StatusUnprocessableEntity, "/runs", err.Error())
		return
	}
	info, _ := os.Stat(abs)
	pg, from, _ := paginate(r, len(rp.Intents), stepsPerPage)
	tl := report.NewTimeline(rp, from, stepsPerPage)
	var size string
	if info != nil {
		size = safezip.HumanSize(info.Size())
	}
	s.render(w, http.StatusOK, "page-run", "Run "+rp.Manifest.RunID, "/runs", map[string]any{
		"Path": s.relPath(abs), "Download": fileLink(s.relPath(abs)), "Size": size, "Problem": problem, "Signature": v.SignatureStatus, "Timeline": tl, "Pager": pg,
	})
}

func (s *Server) pageDiff(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	picked := q["run"]
	if a, b := q.Get("a"), q.Get("b"); a != "" && b != "" {
		picked = []string{a, b}
	}
	if len(picked) != 2 {
		s.fail(w, http.StatusBadRequest, "/runs", fmt.Sprintf("pick exactly two runs to compare (%d picked); tick two boxes on the runs page", len(picked)))
		return
	}
	var packs [2]*pack.Runpack
	var rels [2]string
	for i, rel := range picked {
		abs, err := s.resolve(rel)
		if err != nil || !strings.HasSuffix(abs, ".zip") {
			s.fail(w, http.StatusNotFound, "/runs", fmt.Sprintf("%s: not a runpack of this workspace's gait-out/ or fixtures/", rel))
			return
		}
		rp, err := s.cache.open(abs)
		if err != nil {
			s.fail(w, http.StatusUnprocessableEntity, "/runs", err.Error())
			return
		}
		packs[i], rels[i] = rp, s.relPath(abs)
	}
	res := pack.Diff(packs[0], packs[1], rels[0], rels[1])
	changes := res.Changes
	more := max(0, len(changes)-maxChanges)
	changes = changes[:min(len(changes), maxChanges)]
	rows := report.SideBySide(res.Unified)
	moreRows := max(0, len(rows)-maxSideRows)
	rows = rows[:min(len(rows), maxSideRows)]
	s.render(w, http.StatusOK, "page-diff", "Diff", "/runs", map[string]any{
		"Left": rels[0], "Right": rels[1], "LeftLink": runLink(rels[0]), "RightLink": runLink(rels[1]),
		"Result": res, "Changes": changes, "MoreChanges": more, "Rows": rows, "MoreRows": moreRows,
	})
}

type junitSummary struct {
	Path, Link              string
	Tests, Failures, Errors int
}

// latestResult finds the newest regress result of the workspace.
func (s *Server) latestResult() (fileEntry, bool) {
	var best fileEntry
	found := false
	for _, rel := range []string{"regress_result.json", outDir + "/regress_result.json"} {
		info, err := os.Stat(filepath.Join(s.root, rel))
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		if !found || info.ModTime().UnixNano() > best.Mod {
			best, found = fileEntry{Rel: rel, Abs: filepath.Join(s.root, rel), Size: info.Size(), Mod: info.ModTime().UnixNano()}, true
		}
	}
	return best, found
}

func (s *Server) pageRegress(w http.ResponseWriter, _ *http.Request) {
	data := map[string]any{"Path": ""} // never empty: the page template enters it with "with"
	e, ok := s.latestResult()
	if ok {
		rep, err := regress.ReadResultFile(e.Abs)
		if err != nil {
			data["Problem"] = err.Error()
		} else {
			view := report.NewRegressView(rep)
			for i := range view.Fixtures {
				f := &view.Fixtures[i]
				if abs, err := s.resolve(f.Runpack); err == nil && strings.HasSuffix(abs, ".zip") {
					f.RunLink = runLink(s.relPath(abs))
				}
			}
			data["Path"], data["View"], data["Download"] = e.Rel, view, fileLink(e.Rel)
			data["Modified"] = time.Unix(0, e.Mod).UTC().Format(time.RFC3339)
			data["JUnit"] = s.junit()
		}
	}
	s.render(w, http.StatusOK, "page-regress", "Regress", "/regress", data)
}

// junit summarizes gait-out/junit.xml when it is there.
func (s *Server) junit() *junitSummary {
	p := filepath.Join(s.root, outDir, "junit.xml")
	b, err := capped.ReadFile(p, regress.MaxResultBytes)
	if err != nil {
		return nil
	}
	var suites junit.Testsuites
	if xml.Unmarshal(b, &suites) != nil {
		return nil
	}
	sum := &junitSummary{Path: outDir + "/junit.xml", Link: fileLink(outDir + "/junit.xml"), Tests: suites.Tests, Failures: suites.Failures, Errors: suites.Errors}
	if sum.Tests == 0 {
		for _, ts := range suites.Suites {
			sum.Tests += ts.Tests
			sum.Failures += ts.Failures
			sum.Errors += ts.Errors
		}
	}
	return sum
}

type traceRow struct {
	Path, Tool, Verdict, Policy string
	Rules, Reasons              []string
}

func (s *Server) pageGate(w http.ResponseWriter, r *http.Request) {
	files := s.scan(func(_, name string) bool {
		return strings.HasPrefix(name, "trace_") && strings.HasSuffix(name, ".json")
	}, outDir)
	pg, from, to := paginate(r, len(files), tracesPerPage)
	var rows []traceRow
	for _, f := range files[from:to] {
		row := traceRow{Path: f.Rel}
		b, err := capped.ReadFile(f.Abs, maxTraceBytes)
		var tr gate.Trace
		if err == nil {
			err = json.Unmarshal(b, &tr)
		}
		if err != nil || tr.SchemaID != "gait.gate.trace" {
			row.Verdict = "error"
			row.Reasons = []string{"not a gate trace"}
		} else {
			row.Tool, row.Verdict, row.Policy = tr.ToolName, string(tr.Verdict), tr.PolicyID
			row.Rules, row.Reasons = tr.MatchedRuleIDs, tr.Violations
		}
		rows = append(rows, row)
	}
	data := map[string]any{"Traces": rows, "Pager": pg}
	var runs, traces []string
	for _, e := range s.scan(func(_, name string) bool {
		return strings.HasPrefix(name, "runpack_") && strings.HasSuffix(name, ".zip")
	}, outDir) {
		runs = append(runs, e.Abs)
	}
	for _, e := range files {
		traces = append(traces, e.Abs)
	}
	if len(runs)+len(traces) > 0 {
		top, problem := s.cache.top(runs, traces, func() (*report.TopReport, error) {
			top, err := report.Top(report.TopOptions{Runs: runs, Traces: traces, Limit: 10, ProducerVersion: s.opts.Version})
			if err == nil {
				for i := range top.TopActions {
					top.TopActions[i].SourceArtifact = s.relPath(top.TopActions[i].SourceArtifact)
				}
			}
			return top, err
		})
		if problem != "" {
			data["TopProblem"] = problem
		} else {
			data["Top"] = top
		}
	}
	s.render(w, http.StatusOK, "page-gate", "Gate", "/gate", data)
}

type jobView struct {
	N           int
	ID, Status  string
	Problem     string
	State       *job.State
	Events      []job.Event
	TotalEvents int
	MoreEvents  bool
}

func (s *Server) pageJobs(w http.ResponseWriter, _ *http.Request) {
	root := filepath.Join(s.root, outDir, "jobs")
	store := job.NewStore(root)
	entries, _ := os.ReadDir(root)
	var jobs []jobView
	for _, e := range entries {
		if !e.IsDir() || !job.ValidID(e.Name()) {
			continue
		}
		v := jobView{N: len(jobs) + 1, ID: e.Name()}
		st, err := store.Status(e.Name())
		if err != nil {
			v.Status, v.Problem = "error", err.Error()
		} else {
			v.Status, v.State = st.Status, st
			evs, err := store.Events(e.Name())
			if err != nil {
				v.Problem = err.Error()
			}
			v.TotalEvents = len(evs)
			if len(evs) > maxEvents {
				evs, v.MoreEvents = evs[len(evs)-maxEvents:], true
			}
			v.Events = evs
		}
		jobs = append(jobs, v)
	}
	s.render(w, http.StatusOK, "page-jobs", "Jobs", "/jobs", map[string]any{"Jobs": jobs})
}

type chainCheckpoint struct {
	Index, Start, End     int64
	Runpack, Link, Digest string
	Problems              []string
}

type chainView struct {
	N                      int
	Path, SessionID, RunID string
	OK                     bool
	Problem                string
	Checkpoints            []chainCheckpoint
}

func (s *Server) pageSessions(w http.ResponseWriter, _ *http.Request) {
	files := s.scan(func(_, name string) bool { return strings.HasSuffix(name, "_chain.json") }, outDir)
	var chains []chainView
	for i, f := range files {
		v := chainView{N: i + 1, Path: f.Rel}
		c, err := job.ReadChain(f.Abs)
		if err != nil {
			v.Problem = err.Error()
			chains = append(chains, v)
			continue
		}
		v.SessionID, v.RunID = c.SessionID, c.RunID
		res, _ := job.VerifyChain(f.Abs, pack.VerifyOptions{})
		v.OK = res.OK
		for j, cp := range c.Checkpoints {
			cv := chainCheckpoint{Index: cp.CheckpointIndex, Start: cp.SequenceStart, End: cp.SequenceEnd, Runpack: cp.RunpackPath, Digest: cp.CheckpointDigest}
			prefix := fmt.Sprintf("checkpoint %d: ", j+1)
			for _, p := range append(slices.Clone(res.LinkageErrors), res.CheckpointErrors...) {
				if rest, ok := strings.CutPrefix(p, prefix); ok {
					cv.Problems = append(cv.Problems, rest)
				}
			}
			if abs, err := s.resolve(filepath.ToSlash(filepath.Join(filepath.Dir(f.Rel), filepath.Base(cp.RunpackPath)))); err == nil {
				cv.Link = runLink(s.relPath(abs))
			} else if abs, err := s.resolve(cp.RunpackPath); err == nil {
				cv.Link = runLink(s.relPath(abs))
			}
			v.Checkpoints = append(v.Checkpoints, cv)
		}
		chains = append(chains, v)
	}
	s.render(w, http.StatusOK, "page-sessions", "Sessions", "/sessions", map[string]any{"Chains": chains})
}

func (s *Server) guidedData(res *ExecResult) map[string]any {
	d := map[string]any{"Flows": Flows, "State": s.state(), "RunID": defaultRunID}
	if res != nil {
		d["Result"] = res
		out := res.Stdout
		if len(res.JSON) > 0 {
			var buf bytes.Buffer
			if json.Indent(&buf, res.JSON, "", "  ") == nil {
				out = buf.String()
			}
		}
		if res.Error != "" {
			out = res.Error + "\n" + out
		}
		d["Output"] = out + res.Stderr
	}
	return d
}

func (s *Server) pageGuided(w http.ResponseWriter, _ *http.Request) {
	s.render(w, http.StatusOK, "page-guided", "Guided first run", "/guided", s.guidedData(nil))
}

// postGuided runs a flow from the page's form, for browsers without
// JavaScript; the script posts to /api/exec instead.
func (s *Server) postGuided(w http.ResponseWriter, r *http.Request) {
	req := execRequest{Command: r.PostFormValue("command"), Args: map[string]string{}}
	for _, k := range []string{"run_id", "policy_path", "intent_path"} {
		if v := r.PostFormValue(k); v != "" {
			req.Args[k] = v
		}
	}
	res, code := s.exec(r.Context(), req)
	s.render(w, code, "page-guided", "Guided first run", "/guided", s.guidedData(&res))
}
