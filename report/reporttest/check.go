// Package reporttest checks rendered markdown the way GitHub would read it,
// for tests that assert that values a pull request controls stay inert.
package reporttest

import (
	"html"
	"regexp"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// Elements are the active parts of a markdown document: what a reader
// could click, who would be notified, and what would run.
type Elements struct {
	// Headings counts headings by level (1–6).
	Headings [7]int
	// Links are the destinations of links, in document order.
	Links []string
	// Images are the sources of images.
	Images []string
	// Autolinks are URLs and e-mail addresses GitHub would link by itself.
	Autolinks []string
	// HTML are the raw HTML blocks and inline tags, trimmed.
	HTML []string
	// Mentions are @name words outside code that GitHub would link and
	// notify.
	Mentions []string
	// References are #123 and GH-123 words outside code that GitHub links
	// to issues.
	References []string
	// Commands are lines that the Actions runner would read as a workflow
	// command ("::name …", after leading white space).
	Commands []string
	// TableRows counts table body rows.
	TableRows int
}

var (
	md = goldmark.New(goldmark.WithExtensions(extension.GFM))

	mentionRE   = regexp.MustCompile(`(?i)(?:^|[^a-z0-9_` + "`" + `])@[a-z0-9]`)
	referenceRE = regexp.MustCompile(`(?i)(?:^|[^a-z0-9_&])(?:#|gh-)[0-9]`)
	// URLs GitHub links in text even where the markdown has none.
	urlRE = regexp.MustCompile(`(?i)(?:https?|ftp)://|www\.|mailto:|[a-z0-9._%+-]@[a-z0-9-]+\.[a-z]`)
)

// Parse reads doc as GitHub flavoured markdown and lists its active parts.
func Parse(doc string) Elements {
	var el Elements
	for _, line := range strings.Split(strings.ReplaceAll(doc, "\r", "\n"), "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), "::") {
			el.Commands = append(el.Commands, line)
		}
	}
	src := []byte(doc)
	root := md.Parser().Parse(text.NewReader(src))
	_ = ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			el.Headings[n.Level]++
			el.inline(n, src)
		case *ast.Link:
			el.Links = append(el.Links, string(n.Destination))
		case *ast.Image:
			el.Images = append(el.Images, string(n.Destination))
		case *ast.AutoLink:
			el.Autolinks = append(el.Autolinks, string(n.URL(src)))
		case *ast.HTMLBlock:
			var b strings.Builder
			for i := 0; i < n.Lines().Len(); i++ {
				seg := n.Lines().At(i)
				b.Write(seg.Value(src))
			}
			if n.HasClosure() {
				b.Write(n.ClosureLine.Value(src))
			}
			el.HTML = append(el.HTML, strings.TrimSpace(b.String()))
		case *ast.RawHTML:
			var b strings.Builder
			for i := 0; i < n.Segments.Len(); i++ {
				seg := n.Segments.At(i)
				b.Write(seg.Value(src))
			}
			el.HTML = append(el.HTML, strings.TrimSpace(b.String()))
		case *east.TableRow:
			el.TableRows++
		case *ast.CodeSpan, *ast.FencedCodeBlock, *ast.CodeBlock:
			return ast.WalkSkipChildren, nil
		case *ast.Paragraph, *ast.TextBlock, *east.TableCell:
			el.inline(n, src)
		}
		return ast.WalkContinue, nil
	})
	return el
}

// inline lists the mentions, references and URLs in the text of block n.
func (el *Elements) inline(n ast.Node, src []byte) {
	t := plain(n, src)
	el.Mentions = append(el.Mentions, mentionRE.FindAllString(t, -1)...)
	el.References = append(el.References, referenceRE.FindAllString(t, -1)...)
	el.Autolinks = append(el.Autolinks, urlRE.FindAllString(t, -1)...)
}

// plain is the text of n's inline children outside code, links and HTML,
// as GitHub's mention and autolink filters see it (entities decoded).
func plain(n ast.Node, src []byte) string {
	var b strings.Builder
	var walk func(ast.Node)
	walk = func(n ast.Node) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.CodeSpan, *ast.Link, *ast.AutoLink, *ast.RawHTML, *ast.Image:
				b.WriteByte(' ')
			case *ast.Text:
				b.Write(c.Segment.Value(src))
				if c.SoftLineBreak() || c.HardLineBreak() {
					b.WriteByte('\n')
				}
			case *ast.String:
				b.Write(c.Value)
			default:
				if c.Type() == ast.TypeInline {
					walk(c)
				}
			}
		}
	}
	walk(n)
	return html.UnescapeString(b.String())
}
