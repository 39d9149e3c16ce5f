// Package report renders regress results for people and CI tools: JUnit XML
// for test report readers, markdown for PR comments and job summaries, and
// plain text for terminals.
package report

import (
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gait-dev/gait/internal/spool"
	"github.com/gait-dev/gait/regress"
)

// JUnit writes one testsuite per fixture (file = its fixture.json, so report
// readers can link to it) and one testcase per grader. A failing grader gets
// a one-line message and the unified diff as the failure body; the ticket
// footer goes to system-out. Times are zero: the output depends only on the
// inputs. The XML is what encoding/xml writes for the go-junit-report
// types (tab-indented), written fixture by fixture.
func JUnit(w io.Writer, rep *regress.Report) error {
	var b []byte
	tests, failures := 0, 0
	for _, f := range rep.Fixtures {
		tests += len(f.Graders)
		failures += len(f.Failed())
	}
	b = AppendJUnitHead(b, rep.FixtureSet, tests, failures)
	for i := range rep.Fixtures {
		b = AppendJUnitSuite(b, rep.FixtureSet, i, &rep.Fixtures[i])
		if len(b) > 64<<10 {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	b = AppendJUnitTail(b, len(rep.Fixtures) == 0)
	_, err := w.Write(b)
	return err
}

// AppendJUnitHead appends the XML declaration and the opening testsuites
// element of a report with tests graders of which failures failed.
func AppendJUnitHead(b []byte, fixtureSet string, tests, failures int) []byte {
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<testsuites"...)
	b = appendAttr(b, "name", "gait.regress."+fixtureSet)
	b = append(b, ` time="0"`...)
	if tests != 0 {
		b = appendIntAttr(b, "tests", tests)
	}
	if failures != 0 {
		b = appendIntAttr(b, "failures", failures)
	}
	return append(b, '>')
}

// AppendJUnitTail closes the testsuites element; empty says no suite was
// written.
func AppendJUnitTail(b []byte, empty bool) []byte {
	if empty {
		return append(b, "</testsuites>\n"...)
	}
	return append(b, "\n</testsuites>\n"...)
}

// AppendJUnitSuite appends the testsuite of fixture f, the i-th (from 0).
func AppendJUnitSuite(b []byte, fixtureSet string, i int, f *regress.FixtureResult) []byte {
	failures := 0
	for _, g := range f.Graders {
		if g.Status != regress.StatusPass {
			failures++
		}
	}
	b = append(b, "\n\t<testsuite"...)
	b = appendAttr(b, "name", f.Name)
	b = appendIntAttr(b, "tests", len(f.Graders))
	b = appendIntAttr(b, "failures", failures)
	b = append(b, ` errors="0"`...)
	b = appendIntAttr(b, "id", i)
	b = appendAttr(b, "package", "gait.regress."+fixtureSet)
	b = append(b, ` time="0"`...)
	if f.FixtureFile != "" {
		b = appendAttr(b, "file", f.FixtureFile)
	}
	b = append(b, '>')
	children := false
	for _, g := range f.Graders {
		children = true
		b = append(b, "\n\t\t<testcase"...)
		b = appendAttr(b, "name", g.Name)
		b = appendAttr(b, "classname", f.Name)
		b = append(b, ` time="0">`...)
		if g.Status == regress.StatusPass {
			b = append(b, "</testcase>"...)
			continue
		}
		b = append(b, "\n\t\t\t<failure"...)
		b = appendAttr(b, "message", g.Message)
		if t := strings.Join(g.ReasonCodes, ","); t != "" {
			b = appendAttr(b, "type", t)
		}
		b = append(b, '>')
		b = appendCDATA(b, failureBody(g))
		b = append(b, "</failure>"...)
		if f.TicketFooter != "" {
			b = append(b, "\n\t\t\t<system-out>"...)
			b = appendCDATA(b, f.TicketFooter)
			b = append(b, "</system-out>"...)
		}
		b = append(b, "\n\t\t</testcase>"...)
	}
	if f.TicketFooter != "" {
		children = true
		b = append(b, "\n\t\t<system-out>"...)
		b = appendCDATA(b, f.TicketFooter)
		b = append(b, "</system-out>"...)
	}
	if children {
		b = append(b, "\n\t"...)
	}
	return append(b, "</testsuite>"...)
}

func failureBody(g regress.GraderResult) string {
	var b strings.Builder
	b.WriteString(g.Message)
	b.WriteByte('\n')
	if g.Step > 0 {
		b.WriteString("first differing step: ")
		b.WriteString(strconv.Itoa(g.Step))
		b.WriteByte('\n')
	}
	if g.Diff != "" {
		b.WriteByte('\n')
		b.WriteString(g.Diff)
	}
	return b.String()
}

func appendIntAttr(b []byte, name string, v int) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, `="`...)
	b = strconv.AppendInt(b, int64(v), 10)
	return append(b, '"')
}

// appendAttr appends ` name="value"`, escaped as encoding/xml escapes
// attribute values.
func appendAttr(b []byte, name, value string) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, `="`...)
	b = appendXMLText(b, value)
	return append(b, '"')
}

// appendXMLText escapes s as encoding/xml's EscapeText does: markup
// characters and white space other than the space as character
// references, characters XML cannot hold as U+FFFD.
func appendXMLText(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		r, width := utf8.DecodeRuneInString(s[i:])
		var esc string
		switch r {
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			if !inXMLCharRange(r) || (r == utf8.RuneError && width == 1) {
				esc = "\uFFFD"
				break
			}
			i += width
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		i += width
		last = i
	}
	return append(b, s[last:]...)
}

func inXMLCharRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// appendCDATA appends s as encoding/xml writes a ",cdata" field: nothing
// when empty, and "]]>" split across two sections.
func appendCDATA(b []byte, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, "<![CDATA["...)
	for {
		before, after, ok := strings.Cut(s, "]]>")
		if !ok {
			break
		}
		b = append(b, before...)
		b = append(b, "]]]]><![CDATA[>"...)
		s = after
	}
	b = append(b, s...)
	return append(b, "]]>"...)
}

// JUnitStream writes a JUnit report fixture by fixture: suites go to a
// spool as fixtures are added, and Finish writes the report, whose first
// element counts every grader, once all are known.
type JUnitStream struct {
	spool           *spool.File
	fixtureSet      string // set by the first Add
	buf             []byte
	suites          int
	tests, failures int
}

// NewJUnitStream spools in dir (next to the report).
func NewJUnitStream(dir string) (*JUnitStream, error) {
	s, err := spool.New(dir)
	if err != nil {
		return nil, err
	}
	return &JUnitStream{spool: s}, nil
}

// Add appends the suite of f, the next fixture in name order of the run
// rep reports.
func (j *JUnitStream) Add(rep *regress.Report, f *regress.FixtureResult) error {
	j.fixtureSet = rep.FixtureSet
	j.buf = AppendJUnitSuite(j.buf[:0], j.fixtureSet, j.suites, f)
	j.suites++
	j.tests += len(f.Graders)
	for _, g := range f.Graders {
		if g.Status != regress.StatusPass {
			j.failures++
		}
	}
	_, err := j.spool.Write(j.buf)
	return err
}

// Finish writes the report of rep, whose fixtures were added, to w.
func (j *JUnitStream) Finish(w io.Writer, rep *regress.Report) error {
	if _, err := w.Write(AppendJUnitHead(nil, rep.FixtureSet, j.tests, j.failures)); err != nil {
		return err
	}
	if _, err := j.spool.WriteTo(w); err != nil {
		return err
	}
	_, err := w.Write(AppendJUnitTail(nil, j.suites == 0))
	return err
}

// Close removes the spool.
func (j *JUnitStream) Close() error { return j.spool.Close() }
