package report

import (
	"fmt"
	"strings"

	"github.com/gait-dev/gait/internal/textdiff"
	"github.com/gait-dev/gait/regress"
)

// MarkdownOptions shape the markdown for where it is shown.
type MarkdownOptions struct {
	// MaxBytes bounds the output (GitHub: 65,536 characters for a comment,
	// 1 MiB for a step summary). Diffs are cut first, then whole fixtures.
	MaxBytes int
	// Marker is a hidden HTML comment placed first, to find the comment again.
	Marker string
	// Changes, when set, lists fixtures newly failing or fixed since the
	// previous run.
	Changes *Changes
	// TruncationNote is appended to a cut diff (e.g. "see the job summary").
	TruncationNote string
	// Notes are markdown paragraphs shown under the counts. They are the
	// caller's own words: nothing a pull request controls may reach them.
	Notes []string
}

// Changes compares this run with the previous one on the same pull request.
type Changes struct {
	NewlyFailing []string
	Fixed        []string
}

// Markdown renders the run: status, counts, a table of failing fixtures,
// each failing grader's diff folded in <details>, and ticket footers.
func Markdown(rep *regress.Report, opts MarkdownOptions) string {
	diffBudget := -1
	if opts.MaxBytes > 0 && diffBytes(rep) > opts.MaxBytes {
		diffBudget = 4000 // the whole diffs cannot fit: do not render them
	}
	for attempt := 0; attempt < 8; attempt++ {
		out := renderMarkdown(rep, opts, diffBudget, -1)
		if opts.MaxBytes <= 0 || len(out) <= opts.MaxBytes {
			return out
		}
		switch {
		case diffBudget < 0:
			diffBudget = 4000
		case diffBudget > 200:
			diffBudget /= 4
		default:
			diffBudget = 0
		}
	}
	// Still too long: list fewer fixtures until it fits.
	for keep := len(rep.Fixtures); keep >= 0; keep = keep * 3 / 4 {
		out := renderMarkdown(rep, opts, 0, keep)
		if len(out) <= opts.MaxBytes || keep == 0 {
			return truncateLines(out, opts.MaxBytes)
		}
	}
	return ""
}

func renderMarkdown(rep *regress.Report, opts MarkdownOptions, diffBudget, maxFixtures int) string {
	var b strings.Builder
	if opts.Marker != "" {
		b.WriteString(opts.Marker)
		b.WriteByte('\n')
	}
	icon := "✅"
	if rep.Failed > 0 {
		icon = "❌"
	}
	fmt.Fprintf(&b, "## %s Gait regress: %s\n\n", icon, word(rep.Status))
	fmt.Fprintf(&b, "**%d** fixtures · **%d** passed · **%d** failed · fixture set %s\n\n", rep.Total, rep.Passed, rep.Failed, code(rep.FixtureSet, maxNameBytes))
	for _, n := range opts.Notes {
		fmt.Fprintf(&b, "> **Note:** %s\n\n", n)
	}
	if c := opts.Changes; c != nil && (len(c.NewlyFailing) > 0 || len(c.Fixed) > 0) {
		b.WriteString("**Since the previous run:**")
		if len(c.NewlyFailing) > 0 {
			fmt.Fprintf(&b, " newly failing: %s.", codeList(c.NewlyFailing))
		}
		if len(c.Fixed) > 0 {
			fmt.Fprintf(&b, " fixed: %s.", codeList(c.Fixed))
		}
		b.WriteString("\n\n")
	}
	var failed []regress.FixtureResult
	for _, f := range rep.Fixtures {
		if f.Status != regress.StatusPass {
			failed = append(failed, f)
		}
	}
	if len(failed) == 0 {
		b.WriteString("All fixtures pass.\n")
		return b.String()
	}
	omitted := 0
	if maxFixtures >= 0 && len(failed) > maxFixtures {
		omitted = len(failed) - maxFixtures
		failed = failed[:maxFixtures]
	}
	b.WriteString("| fixture | failing graders | first difference |\n|---|---|---|\n")
	for _, f := range failed {
		var names []string
		first := ""
		for _, g := range f.Failed() {
			names = append(names, cell(g.Name, maxNameBytes))
			if first == "" {
				first = cell(g.Message, maxMessageBytes)
			}
		}
		name := cell(f.Name, maxNameBytes)
		if dest, ok := linkTarget(f.FixtureFile); ok {
			name = "[" + name + "](" + dest + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", name, strings.Join(names, ", "), first)
	}
	if omitted > 0 {
		fmt.Fprintf(&b, "\n…and %d more failing fixtures (see the JUnit report).\n", omitted)
	}
	b.WriteByte('\n')
	for _, f := range failed {
		fmt.Fprintf(&b, "### %s\n\n", code(f.Name, maxNameBytes))
		for _, g := range f.Failed() {
			fmt.Fprintf(&b, "- **%s**: %s\n", code(g.Name, maxNameBytes), code(g.Message, maxMessageBytes))
			if g.Diff != "" && diffBudget != 0 {
				diff := strings.TrimRight(g.Diff, "\n")
				if diffBudget > 0 && len(diff) > diffBudget {
					diff = truncateBytes(diff, diffBudget) + "\n… (diff truncated"
					if opts.TruncationNote != "" {
						diff += "; " + opts.TruncationNote
					}
					diff += ")"
				}
				fmt.Fprintf(&b, "\n<details><summary>diff</summary>\n\n%s\n</details>\n\n", fenced("diff", diff))
			}
		}
		if f.TicketFooter != "" {
			fmt.Fprintf(&b, "\n%s\n", fenced("", textdiff.Visible(f.TicketFooter)))
		}
	}
	return b.String()
}

// diffBytes is the size of the failing graders' diffs.
func diffBytes(rep *regress.Report) int {
	n := 0
	for _, f := range rep.Fixtures {
		for _, g := range f.Graders {
			if g.Status != regress.StatusPass {
				n += len(g.Diff)
			}
		}
	}
	return n
}

// codeList renders names as code spans, at most maxListed of them.
func codeList(names []string) string {
	shown := names[:min(len(names), maxListed)]
	out := make([]string, len(shown))
	for i, n := range shown {
		out[i] = code(n, maxNameBytes)
	}
	list := strings.Join(out, ", ")
	if more := len(names) - len(shown); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	return list
}

// truncateLines cuts s to whole lines of at most n bytes in all, so that
// no code span is cut open.
func truncateLines(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = truncateBytes(s, n)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[:i+1]
	}
	return ""
}

// truncateBytes cuts s to at most n bytes without splitting a UTF-8 rune.
func truncateBytes(s string, n int) string {
	if n <= 0 || len(s) <= n {
		if n <= 0 {
			return ""
		}
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
