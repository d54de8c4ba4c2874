package extract

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/testutil"
)

// TestIssue7PDFReusedNumbersCount: every definition of an object counts
// toward the object limit, also when it reuses a number; the objects
// before the limit are still read.
func TestIssue7PDFReusedNumbersCount(t *testing.T) {
	pdf := func(defs int) []byte {
		b := bytes.NewBuffer(testutil.PDF("before " + card))
		b.WriteString(strings.Repeat("99 0 obj endobj\n", defs))
		return b.Bytes()
	}
	loc := `attachment "a.pdf"`
	for _, tc := range []struct {
		defs     int
		tooLarge bool
	}{
		{maxPDFObjects - 5, false}, // with the 5 objects of the page: at the limit
		{maxPDFObjects - 4, true},
	} {
		res := run(t, attach("a.pdf", "application/pdf", pdf(tc.defs)), DefaultLimits())
		if got := hasUnscannable(res, loc, TooLarge); got != tc.tooLarge {
			t.Errorf("%d definitions of one number: too_large %v, want %v", tc.defs, got, tc.tooLarge)
		}
		if text, _ := textAt(res, loc+" > page 1"); !strings.Contains(text, card) {
			t.Errorf("%d definitions: page text %q, want the card read", tc.defs, text)
		}
	}
}

// TestIssue7PDFSharedObjects: pages that share a content stream, a Kids
// array and a font map still give their text, read once.
func TestIssue7PDFSharedObjects(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n")
	b.WriteString("2 0 obj << /Type /Pages /Kids 3 0 R /Resources << /Font << /F1 4 0 R >> >> >> endobj\n")
	b.WriteString("3 0 obj [10 0 R 11 0 R 2 0 R] endobj\n") // 2 is its own grandchild: a cycle
	b.WriteString("4 0 obj << /Type /Font /ToUnicode 5 0 R >> endobj\n")
	cmap := "begincmap 1 begincodespacerange <00> <FF> endcodespacerange 1 beginbfrange <30> <39> <0030> endbfrange endcmap"
	fmt.Fprintf(&b, "5 0 obj << /Length %d >> stream\n%s\nendstream endobj\n", len(cmap), cmap)
	content := "BT /F1 12 Tf (" + card + ") Tj ET"
	fmt.Fprintf(&b, "6 0 obj << /Length %d >> stream\n%s\nendstream endobj\n", len(content), content)
	for _, n := range []int{10, 11} {
		fmt.Fprintf(&b, "%d 0 obj << /Type /Page /Parent 2 0 R /Contents 6 0 R >> endobj\n", n)
	}
	res := run(t, attach("a.pdf", "application/pdf", b.Bytes()), DefaultLimits())
	text, _ := textAt(res, `attachment "a.pdf" > page 1`)
	if !strings.Contains(text, card) {
		t.Errorf("page 1 text %q, want the card:\n%s", text, dump(res))
	}
	if len(res.Unscannable) > 0 {
		t.Errorf("unexpected unscannable:\n%s", dump(res))
	}
}
