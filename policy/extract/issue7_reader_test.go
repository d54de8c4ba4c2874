package extract

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
	"unicode"

	"github.com/maildlp/maildlp/internal/testutil"
)

// Text a reader sees in places the extractors did not read before: the
// comment of an archive, digits of other scripts, SVG text in HTML, field
// codes and unknown elements of documents, flat ODF, workbook names, PDF
// metadata and annotations, data: URIs.

func zipWithComment(comment, memberComment string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "a.txt", Comment: memberComment, Method: zip.Store})
	w.Write([]byte("x"))
	zw.SetComment(comment)
	zw.Close()
	return buf.Bytes()
}

func TestIssue7ZipArchiveComment(t *testing.T) {
	c := grouped(luhnCard("453201511283036"))
	d := grouped(luhnCard("520444102490635"))
	msg := testutil.NewMessage().Text("x").
		Attach("a.zip", "application/zip", zipWithComment("cards "+c, "note "+d)).Bytes()
	res := run(t, msg, Limits{})
	checkParts(t, res, []want{
		{`attachment "a.zip" comments`, "cards " + c},
		{`attachment "a.zip" comments`, "note " + d},
		{`attachment "a.zip" member names`, "a.txt"},
	})
	if got, _ := textAt(res, `attachment "a.zip" member names`); strings.Contains(got, c) || strings.Contains(got, d) {
		t.Errorf("comments read as member names: %q", got)
	}
}

func TestIssue7DigitRanges(t *testing.T) {
	for _, rg := range unicode.Nd.R16 {
		if rg.Stride != 1 || (rg.Hi-rg.Lo+1)%10 != 0 {
			t.Errorf("Nd range %#x-%#x stride %d is not whole runs of ten", rg.Lo, rg.Hi, rg.Stride)
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if rg.Stride != 1 || (rg.Hi-rg.Lo+1)%10 != 0 {
			t.Errorf("Nd range %#x-%#x stride %d is not whole runs of ten", rg.Lo, rg.Hi, rg.Stride)
		}
	}
}

func TestIssue7OtherScriptDigits(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"card ٤٥٣٢ ٠١٥١", "card 4532 0151"}, // Arabic-Indic
		{"۴۵۳۲-۰۱۵۱", "4532-0151"},           // Extended Arabic-Indic
		{"४५३२ ०१५१", "4532 0151"},           // Devanagari
		{"๔๕๓๒", "4532"},                     // Thai
		{"４５３２", "4532"},                     // fullwidth (NFKC)
		{"Straße 12", "Straße 12"},           // letters untouched
		{"\u0661\u200b\u0662", "12"},         // with a format character
	} {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
