package report

import (
	"bytes"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/pack/packtest"
	"github.com/gait-dev/gait/regress"
)

func renderHTML(t *testing.T, rep *regress.Report, opts HTMLOptions) string {
	t.Helper()
	var buf bytes.Buffer
	if err := HTML(&buf, rep, opts); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

var (
	failingSection = regexp.MustCompile(`<section class="fixture failing" id="(fixture-\d+)"`)
	anySection     = regexp.MustCompile(`<section class="fixture(?: failing)?" id="fixture-\d+"`)
	diffSpan       = regexp.MustCompile(`<span class="l [a-z]+">([^<]*)</span>`)
	externalRef    = regexp.MustCompile(`(?i)(src|href|action|srcset)\s*=\s*"?(https?:|//)`)
)

// TestHTMLSameFailuresAsComment: the page lists the fixtures and failing
// graders the PR comment lists, failing fixtures first, with messages,
// diffs and ticket footers.
func TestHTMLSameFailuresAsComment(t *testing.T) {
	rep := sample()
	md := Markdown(rep, MarkdownOptions{})
	page := renderHTML(t, rep, HTMLOptions{BaseDir: t.TempDir()})
	var shown []string
	for _, m := range diffSpan.FindAllStringSubmatch(page, -1) {
		shown = append(shown, html.UnescapeString(m[1]))
	}

	if got, want := len(failingSection.FindAllString(page, -1)), strings.Count(md, "\n### "); got != want {
		t.Errorf("%d failing fixtures on the page, %d in the comment", got, want)
	}
	if first := anySection.FindString(page); !strings.Contains(first, "failing") {
		t.Errorf("the first fixture on the page is not a failing one: %s", first)
	}
	for _, f := range rep.Fixtures {
		for _, g := range f.Failed() {
			if !strings.Contains(md, g.Name) || !strings.Contains(page, "<code>"+html.EscapeString(g.Name)+"</code>") {
				t.Errorf("grader %s/%s missing from the page", f.Name, g.Name)
			}
			if !strings.Contains(page, html.EscapeString(g.Message)) {
				t.Errorf("message of %s/%s missing from the page", f.Name, g.Name)
			}
			for _, line := range strings.Split(strings.TrimRight(g.Diff, "\n"), "\n") {
				if !slices.Contains(shown, line) {
					t.Errorf("diff line %q missing from the page", line)
				}
			}
		}
		if f.Status != regress.StatusPass && !strings.Contains(page, html.EscapeString(f.TicketFooter)) {
			t.Errorf("ticket footer of %s missing", f.Name)
		}
	}
}

// TestHTMLSelfContained: nothing on the page loads from elsewhere.
func TestHTMLSelfContained(t *testing.T) {
	page := renderHTML(t, sample(), HTMLOptions{BaseDir: t.TempDir()})
	if m := externalRef.FindString(page); m != "" {
		t.Errorf("the page refers to %s", m)
	}
	for _, tag := range []string{"<link", "<img", "<iframe", "<object", "@import", "url("} {
		if strings.Contains(page, tag) {
			t.Errorf("the page holds %s", tag)
		}
	}
	if !strings.Contains(page, `content="default-src 'none';`) {
		t.Errorf("no Content-Security-Policy forbidding requests")
	}
}

// TestHTMLForged: hostile values reach the page as text.
func TestHTMLForged(t *testing.T) {
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>"'` + "\x1b[31m"
	diff := "--- expected\n+++ actual\n@@ -1 +1 @@\n-1. " + evil + "\n+1. tool.y\n"
	rep := forgedReport(evil, evil, diff, "run_x"+evil)
	page := renderHTML(t, rep, HTMLOptions{BaseDir: t.TempDir()})
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img") || strings.Contains(page, "\x1b") {
		t.Errorf("markup or control characters from the result reach the page")
	}
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("%d script elements, want only the copy button's", n)
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the hostile name is not shown as text")
	}
}

// TestHTMLRuns: each failing fixture links to its run's timeline in the
// page; a runpack path that leaves the base folder is not read.
func TestHTMLRuns(t *testing.T) {
	dir := t.TempDir()
	packtest.Write(t, filepath.Join(dir, "fixtures", "refund", "runpack.zip"), nil)
	rep := sample()
	page := renderHTML(t, rep, HTMLOptions{BaseDir: dir})
	if !strings.Contains(page, `<section class="run" id="run-1"`) || !strings.Contains(page, `href="#run-1"`) {
		t.Fatalf("no linked run section:\n%s", page)
	}
	if !strings.Contains(page, "tool.search") {
		t.Errorf("the run's timeline is missing")
	}
	if again := renderHTML(t, rep, HTMLOptions{BaseDir: dir}); again != page {
		t.Errorf("the same result renders two different pages")
	}

	rep.Fixtures[1].Runpack = "../outside/runpack.zip"
	page = renderHTML(t, rep, HTMLOptions{BaseDir: dir})
	if strings.Contains(page, `<section class="run"`) || !strings.Contains(page, "outside the config&#39;s folder") {
		t.Errorf("a runpack outside the base folder was read or not reported")
	}
}

// TestHTMLRunpackFromDocument: a result read back from its document (which
// records no runpack path) still finds the run beside fixture.json.
func TestHTMLRunpackFromDocument(t *testing.T) {
	dir := t.TempDir()
	packtest.Write(t, filepath.Join(dir, "fixtures", "refund", "runpack.zip"), nil)
	rep := sample()
	rep.Fixtures[1].Runpack = ""
	v := NewRegressView(rep)
	if v.Fixtures[0].Runpack != "fixtures/refund/runpack.zip" {
		t.Errorf("runpack %q, want the one beside fixture.json", v.Fixtures[0].Runpack)
	}
	if page := renderHTML(t, rep, HTMLOptions{BaseDir: dir}); !strings.Contains(page, `href="#run-1"`) {
		t.Errorf("no run linked")
	}
}

func TestTimelinePages(t *testing.T) {
	rp := packtest.Build(t, nil, pack.RecordOptions{})
	tl := NewTimeline(rp, 1, 1)
	if tl.Total != 3 || tl.Offset != 1 || len(tl.Steps) != 1 || tl.Steps[0].Index != 2 || tl.Steps[0].Tool != "tool.fetch" {
		t.Errorf("page of one step from 1: %+v", tl)
	}
	if tl.Steps[0].Verdict != "allow" || tl.Steps[0].Status != "ok" || len(tl.Refs) != 3 {
		t.Errorf("step or refs: %+v", tl)
	}
	if tl := NewTimeline(rp, 99, 10); len(tl.Steps) != 0 {
		t.Errorf("past the end: %d steps", len(tl.Steps))
	}
}

func TestSideBySide(t *testing.T) {
	diff := "--- a\n+++ b\n@@ -1,4 +1,4 @@\n same\n-old1\n-old2\n+new1\n ctx\n+added\n"
	got := SideBySide(diff)
	want := []SideRow{
		{"hunk", "@@ -1,4 +1,4 @@", "@@ -1,4 +1,4 @@"},
		{"same", "same", "same"},
		{"changed", "old1", "new1"},
		{"del", "old2", ""},
		{"same", "ctx", "ctx"},
		{"add", "", "added"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("SideBySide:\n got %q\nwant %q", got, want)
	}
}

// FuzzSideBySide: whatever the diff, the left column holds exactly its
// context and removed lines and the right column its context and added
// lines, in order.
func FuzzSideBySide(f *testing.F) {
	f.Add("--- a\n+++ b\n@@ -1,2 +1,2 @@\n x\n-y\n+z\n")
	f.Add("-a\n-b\n+c\n d\n+e\n")
	f.Add("@@\n\n+\n-\n")
	if b, err := os.ReadFile(filepath.Join("testdata", "TestMarkdown.golden")); err == nil {
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, diff string) {
		var wantL, wantR, gotL, gotR []string
		for _, l := range DiffLines(diff) {
			switch l.Kind {
			case "del":
				wantL = append(wantL, l.Text[1:])
			case "add":
				wantR = append(wantR, l.Text[1:])
			case "ctx":
				wantL, wantR = append(wantL, strings.TrimPrefix(l.Text, " ")), append(wantR, strings.TrimPrefix(l.Text, " "))
			}
		}
		for _, r := range SideBySide(diff) {
			switch r.Kind {
			case "hunk":
			case "del":
				gotL = append(gotL, r.Left)
			case "add":
				gotR = append(gotR, r.Right)
			default:
				gotL, gotR = append(gotL, r.Left), append(gotR, r.Right)
			}
		}
		if !slices.Equal(gotL, wantL) || !slices.Equal(gotR, wantR) {
			t.Fatalf("columns differ:\nleft %q want %q\nright %q want %q", gotL, wantL, gotR, wantR)
		}
	})
}
