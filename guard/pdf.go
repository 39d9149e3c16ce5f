package guard

import (
	"bytes"
	"fmt"
	"strings"
)

// summaryPDF renders the one-page text summary `--render-pdf` adds to a
// pack: a minimal PDF 1.4 document (Helvetica, one text line per row), laid
// out as Gait v1 lays it out so the bytes match for the same pack.
func summaryPDF(runID, caseID, template, generated string, evidence []string) []byte {
	lines := []string{
		"Gait Evidence Pack Summary",
		"Run ID: " + runID,
		"Case ID: " + caseID,
		"Template: " + template,
		"Generated: " + generated,
		fmt.Sprintf("Evidence Files: %d", len(evidence)),
	}
	for _, e := range evidence {
		lines = append(lines, "- "+e)
	}
	var content strings.Builder
	content.WriteString("BT\n/F1 10 Tf\n50 760 Td\n")
	for i, l := range lines {
		if i > 0 {
			content.WriteString("0 -14 Td\n")
		}
		fmt.Fprintf(&content, "(%s) Tj\n", pdfString(l))
	}
	content.WriteString("ET") // the EOL before endstream is not part of the stream

	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", content.Len(), content.String()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

// pdfString escapes text for a PDF literal string; control characters
// become spaces so a value cannot break the content stream.
func pdfString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
