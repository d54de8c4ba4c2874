package extract

import (
	"archive/zip"
	"bytes"
	"strconv"
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

// docxWith builds a DOCX whose document.xml body is body.
func docxWith(body string) []byte {
	doc := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` + body + `</w:body></w:document>`
	return testutil.Zip(
		testutil.File{Name: "[Content_Types].xml", Data: []byte(`<?xml version="1.0"?><Types/>`)},
		testutil.File{Name: "word/document.xml", Data: []byte(doc)},
	)
}

func TestIssue7DocxFieldCodesAndOtherText(t *testing.T) {
	c := luhnCard("453201511283036")
	d := luhnCard("520444102490635")
	e := luhnCard("601178884686848")
	body := `<w:p><w:r><w:t>visible</w:t></w:r>` +
		// a field code split over runs, as Word writes it
		`<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> QUOTE "` + c[:8] + `</w:instrText></w:r>` +
		`<w:r><w:instrText>` + c[8:] + `" </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>` +
		`<w:fldSimple w:instr=" QUOTE ` + d + ` "><w:r><w:t>shown</w:t></w:r></w:fldSimple>` +
		`<w:customThing>` + e + `</w:customThing></w:p>` +
		`<w:p w:rsidR="00A1B2C3" w:rsidRDefault="00A1B2C3"><w:r><w:t>more</w:t></w:r></w:p>`
	res := run(t, testutil.NewMessage().Text("x").Attach("a.docx", "application/octet-stream", docxWith(body)).Bytes(), Limits{})
	checkParts(t, res, []want{
		{`attachment "a.docx"`, "visible"},
		{`attachment "a.docx" > other text`, "QUOTE \"" + c + "\""},
		{`attachment "a.docx" > other text`, "QUOTE " + d},
		{`attachment "a.docx" > other text`, e},
	})
	other, _ := textAt(res, `attachment "a.docx" > other text`)
	if strings.Contains(other, "00A1B2C3") || strings.Contains(other, "preserve") {
		t.Errorf("short attribute values read: %q", other)
	}
	if txt, _ := textAt(res, `attachment "a.docx"`); strings.Contains(txt, c) {
		t.Errorf("field code read as the document's text: %q", txt)
	}
}

func TestIssue7XLSXWorkbookText(t *testing.T) {
	c := luhnCard("453201511283036")
	wb := `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="r">` +
		`<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>` +
		`<definedNames><definedName name="card_` + c + `">"` + grouped(c) + `"</definedName></definedNames></workbook>`
	x := testutil.Zip(
		testutil.File{Name: "[Content_Types].xml", Data: []byte(`<Types/>`)},
		testutil.File{Name: "xl/workbook.xml", Data: []byte(wb)},
		testutil.File{Name: "xl/_rels/workbook.xml.rels", Data: []byte(`<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>`)},
		testutil.File{Name: "xl/worksheets/sheet1.xml", Data: []byte(`<worksheet><sheetData/></worksheet>`)},
	)
	res := run(t, testutil.NewMessage().Text("x").Attach("a.xlsx", "application/octet-stream", x).Bytes(), Limits{})
	checkParts(t, res, []want{
		{`attachment "a.xlsx" > workbook`, `"` + grouped(c) + `"`},
		{`attachment "a.xlsx" > workbook`, "card_" + c},
	})
}

func TestIssue7FlatODFAndCharacterReferences(t *testing.T) {
	c := luhnCard("453201511283036")
	var refs strings.Builder
	for i, r := range c {
		if i%2 == 0 {
			refs.WriteString("&#" + strconv.Itoa(int(r)) + ";")
		} else {
			refs.WriteString("&#x" + strconv.FormatInt(int64(r), 16) + ";")
		}
	}
	fodt := `<?xml version="1.0"?><office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="t">` +
		`<office:automatic-styles><style:style style:name="P1">hidden ` + grouped(c) + `</style:style></office:automatic-styles>` +
		`<office:body><office:text><text:p>card ` + refs.String() + `</text:p></office:text></office:body></office:document>`
	plain := `<?xml version="1.0"?><root><item note="card number ` + grouped(c) + `">` + refs.String() + `</item></root>`
	res := run(t, testutil.NewMessage().Text("x").
		Attach("r.fodt", "application/vnd.oasis.opendocument.text-flat-xml", []byte(fodt)).
		Attach("d.xml", "application/xml", []byte(plain)).Bytes(), Limits{})
	checkParts(t, res, []want{
		{`attachment "r.fodt"`, "card " + c},
		{`attachment "r.fodt" > other text`, "hidden " + grouped(c)},
		{`attachment "d.xml"`, c},
		{`attachment "d.xml"`, "card number " + grouped(c)},
	})
}
