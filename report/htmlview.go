package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gait-dev/gait/internal/textdiff"
	"github.com/gait-dev/gait/pack"
	"github.com/gait-dev/gait/regress"
)

// The view models below are what the HTML renderers (the static report and
// the local UI) show. Every string in them is data: the templates escape it,
// so a fixture name, tool name or diff line a pull request controls reaches
// the page as text, never as markup.

// RegressView is a regress run as the HTML pages show it: failing fixtures
// first, each by name, then the passing ones.
type RegressView struct {
	Status     string
	FixtureSet string
	Total      int
	Passed     int
	Failed     int
	Fixtures   []FixtureView
}

// FixtureView is one fixture of a RegressView.
type FixtureView struct {
	// ID is a stable HTML id for the fixture ("fixture-3"), never data.
	ID           string
	Name         string
	RunID        string
	Status       string
	FixtureFile  string
	Runpack      string
	TicketFooter string
	// RunLink is where the fixture's run is shown; set by the caller
	// (a UI route or an anchor in the same document), empty when unknown.
	RunLink string
	Graders []GraderView
}

// Failing reports whether the fixture failed.
func (f FixtureView) Failing() bool { return f.Status != regress.StatusPass }

// FailingGraders returns the fixture's failing graders.
func (f FixtureView) FailingGraders() []GraderView {
	var out []GraderView
	for _, g := range f.Graders {
		if g.Failing() {
			out = append(out, g)
		}
	}
	return out
}

// GraderView is one grader's outcome with its diff split into lines.
type GraderView struct {
	Name        string
	Status      string
	Message     string
	Step        int
	ReasonCodes []string
	Diff        []DiffLine
}

// Failing reports whether the grader failed.
func (g GraderView) Failing() bool { return g.Status != regress.StatusPass }

// DiffLine is one line of a unified diff and what kind of line it is:
// "head" (---/+++), "hunk" (@@), "add", "del" or "ctx".
type DiffLine struct {
	Kind string
	Text string
}

// NewRegressView builds the view of rep: the same fixtures and failing
// graders the PR comment lists (a fixture whose status is not pass, and
// its graders whose status is not pass), failing fixtures first.
func NewRegressView(rep *regress.Report) RegressView {
	vis := textdiff.Visible
	v := RegressView{Status: vis(rep.Status), FixtureSet: vis(rep.FixtureSet), Total: rep.Total, Passed: rep.Passed, Failed: rep.Failed}
	fixtures := slices.Clone(rep.Fixtures)
	slices.SortStableFunc(fixtures, func(a, b regress.FixtureResult) int {
		af, bf := a.Status != regress.StatusPass, b.Status != regress.StatusPass
		if af != bf {
			if af {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Name, b.Name)
	})
	for i, f := range fixtures {
		fv := FixtureView{
			ID: fmt.Sprintf("fixture-%d", i+1), Name: vis(f.Name), RunID: vis(f.RunID), Status: vis(f.Status),
			FixtureFile: vis(f.FixtureFile), Runpack: fixtureRunpack(f), TicketFooter: vis(f.TicketFooter),
		}
		// Failing graders first, as the comment lists them.
		graders := slices.Clone(f.Graders)
		slices.SortStableFunc(graders, func(a, b regress.GraderResult) int {
			return boolOrder(a.Status != regress.StatusPass, b.Status != regress.StatusPass)
		})
		for _, g := range graders {
			codes := make([]string, len(g.ReasonCodes))
			for i, c := range g.ReasonCodes {
				codes[i] = vis(c)
			}
			fv.Graders = append(fv.Graders, GraderView{
				Name: vis(g.Name), Status: vis(g.Status), Message: vis(g.Message), Step: g.Step,
				ReasonCodes: codes, Diff: DiffLines(g.Diff),
			})
		}
		v.Fixtures = append(v.Fixtures, fv)
	}
	return v
}

// fixtureRunpack is the fixture's runpack path, relative to the config's
// folder. A result document does not record it: it is the runpack.zip
// beside the fixture's fixture.json, or in fixtures/<name>/.
func fixtureRunpack(f regress.FixtureResult) string {
	switch {
	case f.Runpack != "":
		return f.Runpack
	case f.FixtureFile != "":
		return path.Join(path.Dir(filepath.ToSlash(f.FixtureFile)), "runpack.zip")
	case f.Name != "":
		return path.Join("fixtures", f.Name, "runpack.zip")
	}
	return ""
}

// boolOrder sorts true before false.
func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

// DiffLines splits a unified diff into classified lines, with control
// characters made visible.
func DiffLines(diff string) []DiffLine {
	diff = strings.TrimRight(diff, "\n")
	if diff == "" {
		return nil
	}
	lines := strings.Split(diff, "\n")
	out := make([]DiffLine, 0, len(lines))
	for _, l := range lines {
		out = append(out, DiffLine{Kind: diffKind(l), Text: textdiff.Visible(l)})
	}
	return out
}

func diffKind(l string) string {
	switch {
	case strings.HasPrefix(l, "+++ "), strings.HasPrefix(l, "--- "):
		return "head"
	case strings.HasPrefix(l, "@@"):
		return "hunk"
	case strings.HasPrefix(l, "+"):
		return "add"
	case strings.HasPrefix(l, "-"):
		return "del"
	}
	return "ctx"
}

// SideRow is one row of a side-by-side diff: the left line, the right line
// and how they differ ("same", "changed", "del" (left only), "add" (right
// only) or "hunk").
type SideRow struct {
	Kind  string
	Left  string
	Right string
}

// SideBySide lays a unified diff out in two columns: context lines on both
// sides, each run of removed lines paired with the added lines that follow.
func SideBySide(diff string) []SideRow {
	var rows []SideRow
	var dels, adds []string
	flush := func() {
		for i := 0; i < max(len(dels), len(adds)); i++ {
			r := SideRow{Kind: "changed"}
			switch {
			case i >= len(dels):
				r.Kind = "add"
			case i >= len(adds):
				r.Kind = "del"
			}
			if i < len(dels) {
				r.Left = dels[i]
			}
			if i < len(adds) {
				r.Right = adds[i]
			}
			rows = append(rows, r)
		}
		dels, adds = dels[:0], adds[:0]
	}
	for _, l := range DiffLines(diff) {
		switch l.Kind {
		case "head":
			continue
		case "del":
			if len(adds) > 0 {
				flush()
			}
			dels = append(dels, l.Text[1:])
		case "add":
			adds = append(adds, l.Text[1:])
		case "hunk":
			flush()
			rows = append(rows, SideRow{Kind: "hunk", Left: l.Text, Right: l.Text})
		default:
			flush()
			text := strings.TrimPrefix(l.Text, " ")
			rows = append(rows, SideRow{Kind: "same", Left: text, Right: text})
		}
	}
	flush()
	return rows
}

// Timeline is one page of a run's steps as the HTML pages show them.
type Timeline struct {
	RunID          string
	CaptureMode    string
	ManifestDigest string
	Signed         bool
	TicketFooter   string
	// Total is the number of steps in the run; Offset the index (0-based)
	// of the first step shown.
	Total  int
	Offset int
	Steps  []TimelineStep
	// Refs are the run's reference receipts (id, source, digest), at most
	// maxRefs of them; MoreRefs counts the rest.
	Refs     []string
	MoreRefs int
}

// TimelineStep is one intent of a run and what came back for it.
type TimelineStep struct {
	Index    int
	IntentID string
	Tool     string
	Args     string
	Result   string
	Status   string
	Verdict  string
	At       string
	Duration string
}

// NewTimeline builds the page of rp's steps that starts at offset and
// holds at most limit steps (all of them when limit <= 0). Payloads the
// reader dropped (larger than pack.InlinePayload) show as their digest.
func NewTimeline(rp *pack.Runpack, offset, limit int) Timeline {
	t := Timeline{
		RunID: rp.Manifest.RunID, CaptureMode: rp.Manifest.CaptureMode, ManifestDigest: rp.Manifest.ManifestDigest,
		Signed: len(rp.Manifest.Signatures) > 0, Total: len(rp.Intents),
		TicketFooter: pack.TicketFooter(rp.Manifest.RunID, rp.Manifest.ManifestDigest),
	}
	offset = min(max(offset, 0), len(rp.Intents))
	end := len(rp.Intents)
	if limit > 0 {
		end = min(end, offset+limit)
	}
	t.Offset = offset
	// The page's results, found in one pass (the first result recorded
	// for an intent counts, as in replay and diff).
	page := make(map[string]int, end-offset)
	for i := offset; i < end; i++ {
		page[rp.Intents[i].IntentID] = i
	}
	results := make(map[string]pack.Result, len(page))
	for _, r := range rp.Results {
		if _, want := page[r.IntentID]; want {
			if _, seen := results[r.IntentID]; !seen {
				results[r.IntentID] = r
			}
		}
	}
	vis := textdiff.Visible
	for i := offset; i < end; i++ {
		in := rp.Intents[i]
		s := TimelineStep{Index: i + 1, IntentID: vis(in.IntentID), Tool: vis(in.ToolName), Args: payload(string(in.Args), in.ArgsDigest), At: vis(in.CreatedAt)}
		if r, ok := results[in.IntentID]; ok {
			s.Status, s.Verdict = vis(r.Status), regress.ResultVerdict(r)
			s.Result = payload(string(r.Result), r.ResultDigest)
			s.Duration = elapsed(in.CreatedAt, r.CreatedAt)
		} else {
			s.Status = "(no recorded result)"
		}
		t.Steps = append(t.Steps, s)
	}
	for _, raw := range rp.Refs.Receipts[:min(len(rp.Refs.Receipts), maxRefs)] {
		var r struct {
			RefID         string `json:"ref_id"`
			SourceType    string `json:"source_type"`
			SourceLocator string `json:"source_locator"`
			ContentDigest string `json:"content_digest"`
		}
		_ = json.Unmarshal(raw, &r)
		t.Refs = append(t.Refs, vis(strings.Join(strings.Fields(r.RefID+" "+r.SourceType+" "+r.SourceLocator+" sha256:"+r.ContentDigest), " ")))
	}
	t.MoreRefs = max(0, len(rp.Refs.Receipts)-maxRefs)
	return t
}

// maxRefs bounds the reference receipts a timeline lists.
const maxRefs = 500

// payload shows a recorded value, or its digest when it was not kept.
func payload(raw, digest string) string {
	if raw != "" {
		return textdiff.Visible(raw)
	}
	if digest == "" {
		return ""
	}
	return "sha256:" + digest
}

// elapsed is the time from an intent to its result, when both parse.
func elapsed(from, to string) string {
	a, err1 := time.Parse(time.RFC3339Nano, from)
	b, err2 := time.Parse(time.RFC3339Nano, to)
	if err1 != nil || err2 != nil || b.Before(a) {
		return ""
	}
	return b.Sub(a).String()
}
