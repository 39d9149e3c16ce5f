package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"sync"

	"github.com/gait-dev/gait/internal/textdiff"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/regress"
)

//go:embed html/*.tmpl html/style.css html/copy.js
var htmlFS embed.FS

// HTMLStyle is the stylesheet of the static report and the local UI.
func HTMLStyle() []byte {
	b, _ := htmlFS.ReadFile("html/style.css")
	return b
}

// HTMLScript is the script of the copy buttons, in the static report and
// the local UI.
func HTMLScript() []byte {
	b, _ := htmlFS.ReadFile("html/copy.js")
	return b
}

// HTMLFuncs are the helpers the HTML templates use.
var HTMLFuncs = template.FuncMap{
	"tone": tone,
	"last": func(s []TimelineStep) int { return len(s) - 1 },
}

// tone is the badge class of a status or verdict: one of a fixed set, so
// no value a pull request controls reaches a class attribute.
func tone(s string) string {
	if t, ok := tones[s]; ok {
		return t
	}
	return "other"
}

var tones = map[string]string{
	"pass": "pass", "ok": "ok", "allow": "allow", "verified": "verified", "completed": "pass",
	"fail": "fail", "block": "block", "error": "error", "failed": "failed", "cancelled": "fail",
	"require_approval": "require_approval", "dry_run": "dry_run", "missing": "missing",
	"unverified": "unverified", "skipped": "skipped", "paused": "dry_run", "blocked": "block",
	"decision_needed": "require_approval", "emergency_stopped": "fail", "running": "ok",
}

var (
	htmlOnce sync.Once
	htmlBase *template.Template
)

// HTMLTemplates returns a fresh copy of the shared templates ("regress",
// "fixture", "diff", "timeline", "sidebyside", "badge" and the static
// "report" page), for a caller to add its own pages to.
func HTMLTemplates() *template.Template {
	htmlOnce.Do(func() {
		htmlBase = template.Must(template.New("gait").Funcs(HTMLFuncs).ParseFS(htmlFS, "html/*.tmpl"))
	})
	return template.Must(htmlBase.Clone())
}

// HTMLOptions shape the static report.
type HTMLOptions struct {
	// BaseDir is where the fixtures' runpack paths resolve (the folder of
	// the regress config). Only paths inside it are read.
	BaseDir string
	// MaxSteps bounds the steps shown per run (default 500).
	MaxSteps int
}

type htmlRun struct {
	ID, Fixture, Path string
	Timeline          Timeline
	More              bool
}

type htmlDoc struct {
	Style    template.CSS
	Script   template.JS
	View     RegressView
	Runs     []htmlRun
	Problems []string
}

// HTML writes the regress run as one self-contained HTML page: inline
// style and script, no external requests (its Content-Security-Policy
// forbids them). It shows the failures the PR comment shows (the same
// failing fixtures and graders, with messages, diffs and ticket footers)
// and, linked from each failing fixture, the timeline of its run.
func HTML(w io.Writer, rep *regress.Report, opts HTMLOptions) error {
	if opts.MaxSteps <= 0 {
		opts.MaxSteps = 500
	}
	doc := htmlDoc{
		Style:  template.CSS(HTMLStyle()), //nolint:gosec // the embedded stylesheet, not data
		Script: template.JS(HTMLScript()), //nolint:gosec // the embedded script, not data
		View:   NewRegressView(rep),
	}
	seen := map[string]string{}
	for i := range doc.View.Fixtures {
		f := &doc.View.Fixtures[i]
		if !f.Failing() || f.Runpack == "" {
			continue
		}
		if id, ok := seen[f.Runpack]; ok {
			f.RunLink = "#" + id
			continue
		}
		if !filepath.IsLocal(f.Runpack) {
			doc.Problems = append(doc.Problems, textdiff.Visible(fmt.Sprintf("%s: runpack path %s is outside the config's folder; not read", f.Name, f.Runpack)))
			continue
		}
		rp, err := pack.Open(filepath.Join(opts.BaseDir, f.Runpack))
		if err != nil {
			doc.Problems = append(doc.Problems, textdiff.Visible(fmt.Sprintf("%s: %v", f.Name, err)))
			continue
		}
		id := fmt.Sprintf("run-%d", len(doc.Runs)+1)
		seen[f.Runpack], f.RunLink = id, "#"+id
		tl := NewTimeline(rp, 0, opts.MaxSteps)
		doc.Runs = append(doc.Runs, htmlRun{ID: id, Fixture: f.Name, Path: f.Runpack, Timeline: tl, More: tl.Total > len(tl.Steps)})
	}
	return HTMLTemplates().ExecuteTemplate(w, "report", doc)
}
