package guard

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"
)

// TestSummaryPDF checks the document's structure: the xref offsets point
// at their objects, startxref at the xref, the stream length is exact, and
// quoted values cannot end their string or break a line.
func TestSummaryPDF(t *testing.T) {
	pdf := summaryPDF("run_(x)", "case\\1\nTj", "soc2", "2026-02-05T00:00:00Z", []string{"a.json", "b.json"})
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Fatalf("not a PDF:\n%s", pdf)
	}
	offsets := regexp.MustCompile(`(?m)^(\d{10}) 00000 n $`).FindAllSubmatch(pdf, -1)
	if len(offsets) != 5 {
		t.Fatalf("want 5 xref entries, got %d", len(offsets))
	}
	for i, m := range offsets {
		off, _ := strconv.Atoi(string(m[1]))
		if want := strconv.Itoa(i+1) + " 0 obj\n"; !bytes.HasPrefix(pdf[off:], []byte(want)) {
			t.Errorf("xref entry %d points at %q", i+1, pdf[off:off+10])
		}
	}
	start := regexp.MustCompile(`startxref\n(\d+)\n`).FindSubmatch(pdf)
	if off, _ := strconv.Atoi(string(start[1])); !bytes.HasPrefix(pdf[off:], []byte("xref\n")) {
		t.Errorf("startxref %d does not point at the xref table", off)
	}
	m := regexp.MustCompile(`(?s)/Length (\d+) >>\nstream\n(.*)\nendstream`).FindSubmatch(pdf)
	if n, _ := strconv.Atoi(string(m[1])); n != len(m[2]) {
		t.Errorf("/Length %d, stream holds %d bytes", n, len(m[2]))
	}
	for _, want := range []string{`(Run ID: run_\(x\)) Tj`, `(Case ID: case\\1 Tj) Tj`, `(Evidence Files: 2) Tj`, `(- b.json) Tj`} {
		if !bytes.Contains(pdf, []byte(want)) {
			t.Errorf("missing %s in\n%s", want, m[2])
		}
	}
}
