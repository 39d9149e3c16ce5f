package actions

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gait-dev/gait/internal/exitcode"
)

var (
	failingSection = regexp.MustCompile(`<section class="fixture failing" id="fixture-\d+"`)
	externalRef    = regexp.MustCompile(`(?i)(src|href|action|srcset)\s*=\s*"?(https?:|//)`)
)

// TestHTMLReport: on a pull request the action writes the HTML report next
// to the JUnit report, with the failures the comment shows, names it in an
// output and in the job summary; what the pull request controls stays text.
func TestHTMLReport(t *testing.T) {
	r := newRepo(t, []string{"alpha"}, []string{"beta", "gamma"})
	editJSON(t, filepath.Join(r.dir, "fixtures", "gamma", "fixture.json"), func(m map[string]any) {
		m["expected_tool_sequence"].([]any)[1] = forged + `<script>alert(1)</script><img src=x onerror=alert(2)>`
	})
	gh := newFakeGitHub(t, testToken)
	out := newRunner(t, r, gh, "pull_request.opened").run()
	if out.err != nil || out.res.ExitCode != 5 || out.res.Comment != "created" {
		t.Fatalf("%+v %v\n%s", out.res, out.err, out.stdout)
	}
	htmlFile := filepath.Join(r.dir, "gait-out", htmlName)
	page, ok := out.files[htmlFile]
	if !ok || out.res.HTMLPath != filepath.ToSlash(htmlFile) || out.outputs[OutputHTMLPath] != out.res.HTMLPath {
		t.Fatalf("HTML report %q (written %v), output %q", out.res.HTMLPath, ok, out.outputs[OutputHTMLPath])
	}
	if !strings.Contains(out.summary, "> **Note:** the HTML report") || !strings.Contains(out.summary, "`gait-out/report.html`") ||
		!strings.Contains(out.summary, "`"+ReportArtifact+"`") {
		t.Errorf("the summary does not say where the HTML report is:\n%s", out.summary)
	}
	comment := gh.mine()[0].Body
	if got, want := len(failingSection.FindAllString(page, -1)), strings.Count(comment, "\n### "); got != want || got != 2 {
		t.Errorf("%d failing fixtures in the HTML report, %d in the comment, want 2", got, want)
	}
	for _, g := range []string{"beta", "gamma", "trajectory"} {
		if !strings.Contains(page, "<code>"+g+"</code>") || !strings.Contains(comment, "`"+g+"`") {
			t.Errorf("%s is not in both the HTML report and the comment", g)
		}
	}
	if strings.Count(page, "<script") != 1 || strings.Contains(page, "<img") || strings.Contains(page, "<script>alert") {
		t.Errorf("markup from the fixture reaches the HTML report")
	}
	if m := externalRef.FindString(page); m != "" {
		t.Errorf("the HTML report refers to %s", m)
	}
}

// TestHTMLInput: the html input's values.
func TestHTMLInput(t *testing.T) {
	r := newRepo(t, []string{"alpha"}, []string{"beta"})
	for _, tt := range []struct {
		html, want string // want: the report's path under the workspace, "" for none
	}{
		{"", "gait-out/report.html"},
		{"true", "gait-out/report.html"},
		{"False", ""},
		{"false", ""},
		{"gait-out/pages/regress.html", "gait-out/pages/regress.html"},
	} {
		rn := newRunner(t, r, nil, "push")
		rn.env["INPUT_HTML"] = tt.html
		if err := os.RemoveAll(filepath.Join(r.dir, "gait-out")); err != nil {
			t.Fatal(err)
		}
		out := rn.run()
		if out.err != nil || out.res.ExitCode != 5 {
			t.Fatalf("html %q: %+v %v", tt.html, out.res, out.err)
		}
		var pages []string
		for p := range out.files {
			if strings.HasSuffix(p, ".html") {
				rel, _ := filepath.Rel(r.dir, p)
				pages = append(pages, filepath.ToSlash(rel))
			}
		}
		wantOut := ""
		if tt.want != "" {
			wantOut = filepath.ToSlash(filepath.Join(r.dir, tt.want))
		}
		if (tt.want == "" && len(pages) != 0) || (tt.want != "" && (len(pages) != 1 || pages[0] != tt.want)) ||
			out.outputs[OutputHTMLPath] != wantOut || strings.Contains(out.summary, "HTML report") != (tt.want != "") {
			t.Errorf("html %q: wrote %v, output %q, summary note %v; want %q", tt.html, pages, out.outputs[OutputHTMLPath],
				strings.Contains(out.summary, "HTML report"), tt.want)
		}
	}
	for _, html := range []string{"gait-out/junit.xml", "gait-out/regress_result.json"} {
		rn := newRunner(t, r, nil, "push")
		rn.env["INPUT_HTML"] = html
		if out := rn.run(); exitcode.Of(out.err) != exitcode.InvalidInput || !strings.Contains(out.err.Error(), "pick another html path") {
			t.Errorf("html %q: err = %v, want exit 6", html, out.err)
		}
	}
}

// TestHTMLShardWritesNone: a shard writes only its JUnit report and result
// document; the merge job writes the HTML report.
func TestHTMLShardWritesNone(t *testing.T) {
	r := newRepo(t, []string{"alpha", "beta"}, nil)
	rn := newRunner(t, r, nil, "push")
	rn.env["INPUT_SHARD"] = "1/2"
	out := rn.run()
	if out.err != nil {
		t.Fatal(out.err)
	}
	for p := range out.files {
		if strings.HasSuffix(p, ".html") {
			t.Errorf("a shard wrote %s", p)
		}
	}
	if out.res.HTMLPath != "" || out.outputs[OutputHTMLPath] != "" {
		t.Errorf("shard html path %q, output %q", out.res.HTMLPath, out.outputs[OutputHTMLPath])
	}
}

// TestTemplatesUploadHTML: the drop-in workflows that report (the regress
// job, the matrix's merge job) upload the HTML report the action step
// writes as its own artifact, whatever the step's outcome; shards do not.
func TestTemplatesUploadHTML(t *testing.T) {
	for file, jobs := range map[string]map[string]bool{
		"gait-regress.yml":        {"regress": true},
		"gait-regress-matrix.yml": {"shard": false, "merge": true},
	} {
		wf := readTemplate(t, file)
		for job, reports := range jobs {
			var html string
			var uploads int
			for _, s := range wf.Jobs[job].Steps {
				switch {
				case strings.HasPrefix(s.Uses, "gait-dev/gait@"):
					html = s.With[InputHTML]
					if html == "" && reports {
						html = path.Join(path.Dir(s.With[InputJUnit]), htmlName)
					}
				case strings.HasPrefix(s.Uses, "actions/upload-artifact@") && s.With["name"] == ReportArtifact:
					uploads++
					if s.If != "always()" && s.If != "${{ always() }}" {
						t.Errorf("%s %s: the HTML upload runs if %q, want always()", file, job, s.If)
					}
					if s.With["path"] != html || html == "" || s.Uses != "actions/upload-artifact@v4" {
						t.Errorf("%s %s: uploads %q with %s; the action step writes %q", file, job, s.With["path"], s.Uses, html)
					}
				}
			}
			if want := map[bool]int{true: 1, false: 0}[reports]; uploads != want {
				t.Errorf("%s %s: %d uploads of %s, want %d", file, job, uploads, ReportArtifact, want)
			}
		}
	}
}
