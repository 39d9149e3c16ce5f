package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/gait-dev/gait/regress"
	"github.com/gait-dev/gait/report/reporttest"
)

// forged is the tool name of issue 13: it closes a diff fence and renders
// a passing heading, a mention and a link where it is not inert.
const forged = "tool.x\n```\n\n## ✅ Gait regress: pass\n\n@team [click](https://example)"

// forgedReport puts hostile values everywhere a pull request reaches:
// fixture name, fixture set, run id (ticket footer), grader message and diff.
func forgedReport(name, tool, diff, runID string) *regress.Report {
	footer := "GAIT run_id=" + runID + ` manifest=sha256:00 verify="gait verify fixtures/x/runpack.zip"`
	return &regress.Report{
		FixtureSet: tool, Config: "gait.yaml", Status: regress.StatusFail, Total: 1, Failed: 1,
		Fixtures: []regress.FixtureResult{{
			Name: name, RunID: runID, Status: regress.StatusFail, TicketFooter: footer,
			FixtureFile: "fixtures/" + name + "/fixture.json", Runpack: "fixtures/" + name + "/runpack.zip",
			Graders: []regress.GraderResult{{
				Name: "trajectory", Status: regress.StatusFail, Step: 1, ReasonCodes: []string{"unexpected_tool_sequence"},
				Message: "tool sequence differs at step 1: expected " + tool + ", got tool.y",
				Diff:    diff,
			}},
		}},
	}
}

// template is what the markdown itself may contain: one title, one
// heading and one link per listed failing fixture, the marker and the
// <details> tags.
func checkInert(t *testing.T, md string, fixtures int, link string) {
	t.Helper()
	el := reporttest.Parse(md)
	var want reporttest.Elements
	want.Headings[2] = 1
	want.Headings[3] = fixtures
	if el.Headings != want.Headings {
		t.Errorf("headings %v, want %v", el.Headings, want.Headings)
	}
	if fixtures > 0 && link != "" && !slices.Equal(el.Links, []string{link}) {
		t.Errorf("links %q, want %q", el.Links, link)
	}
	if fixtures > 0 && el.TableRows != fixtures {
		t.Errorf("%d table rows, want %d", el.TableRows, fixtures)
	}
	for _, h := range el.HTML {
		switch h {
		case "<!-- gait-regress -->", "<details><summary>diff</summary>", "</details>":
		default:
			t.Errorf("HTML %q", h)
		}
	}
	if len(el.Images)+len(el.Autolinks)+len(el.Mentions)+len(el.References)+len(el.Commands) > 0 {
		t.Errorf("images %q autolinks %q mentions %q references %q commands %q", el.Images, el.Autolinks, el.Mentions, el.References, el.Commands)
	}
	if t.Failed() {
		t.Logf("markdown:\n%s", md)
	}
}

func TestMarkdownForged(t *testing.T) {
	diff := "--- expected (fixture.json)\n+++ actual (runpack.zip)\n@@ -1 +1 @@\n-1. " + forged + "\n+1. tool.y\n"
	rep := forgedReport("x` | [a](https://e) @team", forged, diff, "run_x\n::error::forged")
	md := Markdown(rep, MarkdownOptions{Marker: "<!-- gait-regress -->", Changes: &Changes{NewlyFailing: []string{forged}}})
	golden(t, []byte(md))
	checkInert(t, md, 1, "fixtures/x%60%20%7C%20%5Ba%5D%28https://e%29%20@team/fixture.json")
}

func TestTextForged(t *testing.T) {
	diff := "--- expected (fixture.json)\n+++ actual (runpack.zip)\n@@ -1 +1 @@\n-1. " + forged + "\n+1. tool.y\r::error::forged\n"
	rep := forgedReport("x\nstatus=pass", "tool.x\nstatus=pass\n::error::forged", diff, "run_x\nstatus=pass")
	var buf bytes.Buffer
	if err := Text(&buf, rep); err != nil {
		t.Fatal(err)
	}
	golden(t, buf.Bytes())
	lines := strings.Split(buf.String(), "\n")
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimLeft(l, " \t"), "::") {
			t.Errorf("workflow command line %q", l)
		}
	}
	for _, key := range []string{"status=", "fail=", "ticket_footer="} {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(l, key) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d lines start with %s, want 1:\n%s", n, key, buf.String())
		}
	}
}

// FuzzMarkdown: whatever a pull request puts in a fixture name, tool name,
// diff, run id or fixture set, the markdown has only the template's
// headings, links and HTML, and no image, autolink, mention, issue
// reference or workflow command.
func FuzzMarkdown(f *testing.F) {
	f.Add("refund", "tool.fetch", " 1. tool.search\n-2. tool.fetch\n+2. tool.refund\n", "run_demo", 0)
	f.Add("x", forged, "-1. "+forged+"\n", "run_x", 0)
	f.Add("a|b\\|c`d``e", "````\n~~~\n<script>x</script>", "```\n</details>\n<img src=x>", "@org/team", 300)
	f.Add("![i](https://e/x.png)", "<https://e> www.e.com a@b.co #12 GH-3", "\r::error::x\n\t::warning::y", "&#64;me &lt;b&gt;", 0)
	f.Add("\\", "*_[x]: https://e\n\n[x]", "\u202e\u2028\x00", "#1", 120)
	f.Fuzz(func(t *testing.T, name, tool, diff, runID string, maxBytes int) {
		rep := forgedReport(name, tool, diff, runID)
		if maxBytes < 0 || maxBytes > 1<<16 {
			maxBytes = 0
		}
		opts := MarkdownOptions{Marker: "<!-- gait-regress -->", Changes: &Changes{NewlyFailing: []string{name, tool}, Fixed: []string{runID}}}
		whole := len(Markdown(rep, opts))
		opts.MaxBytes = maxBytes
		md := Markdown(rep, opts)
		if maxBytes > 0 && len(md) > maxBytes {
			t.Fatalf("%d bytes, limit %d", len(md), maxBytes)
		}
		el := reporttest.Parse(md)
		if maxBytes == 0 || whole <= maxBytes {
			// Nothing was cut off: the whole template is there.
			fixtures := 1
			if strings.Contains(md, "\n…and 1 more failing fixtures") {
				fixtures = 0
			}
			link := ""
			if dest, ok := linkTarget(rep.Fixtures[0].FixtureFile); ok {
				link = dest
			}
			checkInert(t, md, fixtures, link)
			return
		}
		// Cut off: at most the template's elements, none else.
		if el.Headings[1] > 0 || el.Headings[2] > 1 || el.Headings[3] > 1 || el.Headings[4]+el.Headings[5]+el.Headings[6] > 0 || len(el.Links) > 1 ||
			len(el.Images)+len(el.Autolinks)+len(el.Mentions)+len(el.References)+len(el.Commands) > 0 {
			t.Fatalf("%+v\n%s", el, md)
		}
	})
}
