package extract

import (
	"slices"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/testutil"
)

// TestLocations pins the location of every part of a message using most
// features at once: the names policies and incidents show.
func TestLocations(t *testing.T) {
	forwarded := testutil.NewMessage().Header("Subject", "fwd").Text("inner").
		Attach("scan.pdf", "application/pdf", testutil.PDF("pdf text")).Entity()
	msg := testutil.NewMessage().
		Header("Subject", "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=").
		Header("Cc", "Carol <carol@example.org>").
		Part(part(`multipart/alternative; boundary="alt"`, "", testutil.Multipart("alt",
			part("text/plain; charset=utf-8", "", []byte("plain")),
			part("text/html; charset=utf-8", "", []byte("<p>html</p>"))))).
		Attach("a.zip", "application/zip", testutil.Zip(
			testutil.File{Name: "b/c.docx", Data: testutil.DOCX([]string{"doc"})},
			testutil.File{Name: "nested.zip", Data: testutil.Zip(testutil.File{Name: "d.csv", Data: []byte("x,y")})},
		)).
		Attach("q3.xlsx", "application/octet-stream", testutil.XLSX(
			testutil.Sheet{Name: "Summary", Rows: [][]string{{"s"}}},
			testutil.Sheet{Name: "Payroll", Rows: [][]string{{"p"}}})).
		Part(forwarded).
		Bytes()
	res := run(t, msg, Limits{})
	var got []string
	for _, p := range res.Parts {
		got = append(got, p.Location)
	}
	want := []string{
		"header:From",
		"header:To",
		"header:Subject",
		"header:Date",
		"header:Cc",
		"header:Content-Type",
		"part 1 header:Content-Type",
		"part 1.1 header:Content-Type",
		"part 1.1 (text/plain)",
		"part 1.2 header:Content-Type",
		"part 1.2 (text/html)",
		"part 2 header:Content-Type",
		"part 2 header:Content-Disposition",
		"part 2 file name",
		`attachment "a.zip"`, // the archive itself, without text
		`attachment "a.zip" member names`,
		`attachment "a.zip" > "b/c.docx"`,
		`attachment "a.zip" > "b/c.docx" > other text`,
		`attachment "a.zip" > "b/c.docx" > "[Content_Types].xml"`,
		`attachment "a.zip" member names`,
		`attachment "a.zip" > "nested.zip"`,
		`attachment "a.zip" > "nested.zip" member names`,
		`attachment "a.zip" > "nested.zip" > "d.csv"`,
		"part 3 header:Content-Type",
		"part 3 header:Content-Disposition",
		"part 3 file name",
		`attachment "q3.xlsx" > workbook`,
		`attachment "q3.xlsx" > sheet "Summary"`,
		`attachment "q3.xlsx" > sheet "Payroll"`,
		`attachment "q3.xlsx" > "[Content_Types].xml"`,
		"part 4 header:Content-Type",
		"part 4 (message/rfc822) > header:From",
		"part 4 (message/rfc822) > header:To",
		"part 4 (message/rfc822) > header:Subject",
		"part 4 (message/rfc822) > header:Date",
		"part 4 (message/rfc822) > header:Content-Type",
		"part 4 (message/rfc822) > part 1 header:Content-Type",
		"part 4 (message/rfc822) > part 1 (text/plain)",
		"part 4 (message/rfc822) > part 2 header:Content-Type",
		"part 4 (message/rfc822) > part 2 header:Content-Disposition",
		"part 4 (message/rfc822) > part 2 file name",
		`part 4 (message/rfc822) > attachment "scan.pdf" > page 1`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("locations:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	if len(res.Unscannable) > 0 {
		t.Errorf("unexpected unscannable:\n%s", dump(res))
	}
}
