package extract

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
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

func init() {
	// Many small data URIs, and one long one of HTML holding more.
	addCostCase("issue 7 HTML data URIs", 64<<10, func(n int) []byte {
		var b strings.Builder
		for b.Len() < n {
			b.WriteString(`<img src="data:text/plain;base64,NDExMSAxMTExIDExMTEgMTExMQ">`)
		}
		return testutil.NewMessage().HTML(b.String()).Bytes()
	})
	addCostCase("issue 7 HTML long data URI", 64<<10, func(n int) []byte {
		inner := strings.Repeat("<p>4111 1111</p>", n/16)
		return testutil.NewMessage().HTML(`<iframe src="data:text/html,` + strings.ReplaceAll(inner, "<", "%3C") + `"></iframe>`).Bytes()
	})
	addCostCase("issue 7 SVG text in HTML", 64<<10, func(n int) []byte {
		return testutil.NewMessage().HTML("<svg>" + strings.Repeat(`<text x="1">4111</text><desc>d</desc>`, n/40) + "</svg>").Bytes()
	})
	addCostCase("issue 7 DOCX field codes", 64<<10, func(n int) []byte {
		body := strings.Repeat(`<w:p w:x="0123456789abc"><w:r><w:instrText>QUOTE 41</w:instrText></w:r><w:u>1</w:u></w:p>`, n/90)
		return attach("a.docx", "application/octet-stream", docxWith(body))
	})
	addCostCase("issue 7 flat ODF character references", 64<<10, func(n int) []byte {
		doc := `<?xml version="1.0"?><office:document><office:body><text:p>` + strings.Repeat("&#52;&#x31;&", n/12) + `</text:p></office:body></office:document>`
		return attach("a.fodt", "application/xml", []byte(doc))
	})
}

func TestIssue7SVGTextInHTML(t *testing.T) {
	c := luhnCard("453201511283036")
	d := luhnCard("520444102490635")
	html := `<p>see</p><svg width="400"><title>t ` + c + `</title><text x="0" y="20">` + c + `</text><text x="0" y="40">` + d +
		`</text><desc>about</desc><text>41<tspan>11</tspan></text></svg>`
	res := run(t, testutil.NewMessage().HTML(html).Bytes(), Limits{})
	got, _ := textAt(res, "body")
	for _, w := range []string{"\n" + c + "\n" + d + "\n", "t " + c, "\n4111"} {
		if !strings.Contains(got, w) {
			t.Errorf("body = %q, want it to contain %q", got, w)
		}
	}
	// An SVG attachment: text elements, then scripts and attributes.
	svg := `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><text>` + c + `</text><script>var n = "` + d + `";</script></svg>`
	res = run(t, testutil.NewMessage().Text("x").Attach("a.svg", "image/svg+xml", []byte(svg)).Bytes(), Limits{})
	checkParts(t, res, []want{
		{`attachment "a.svg"`, c},
		{`attachment "a.svg" > other text`, d},
	})
}

// TestIssue7BreakInsideNumber: a <br> in running text is one line break,
// never a blank line, so that the detector can join a value wrapped by it.
func TestIssue7BreakInsideNumber(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"card 4532 0151<br>1283 0366 ok", "card 4532 0151\n1283 0366 ok"},
		{"card 4532 0151<br/>\n 1283 0366", "card 4532 0151\n1283 0366"},
		{"<p>card 4532 0151<br></p><p>1283</p>", "card 4532 0151\n1283"},
		// list items begin with the marker a browser draws
		{"<ul><li>45320151<br>12830366</li><li>x</li></ul>", "• 45320151\n12830366\n• x"},
	} {
		if got := htmlText(nil, []byte(tc.in)); !strings.HasPrefix(got, tc.want) {
			t.Errorf("htmlText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIssue7HTMLDataURIs(t *testing.T) {
	c := luhnCard("453201511283036")
	b64 := base64.StdEncoding.EncodeToString([]byte("cards " + grouped(c)))
	inner := base64.RawURLEncoding.EncodeToString([]byte("<p>card <b>" + c + "</b></p>"))
	html := `<img src="data:text/plain;base64,` + b64 + `">` +
		`<iframe src="DATA:text/html;charset=utf-8;base64,` + inner + `"></iframe>` +
		`<a href="data:,card%20` + c + `%zz">x</a>` +
		`<object data="data:application/octet-stream;base64,` + base64.StdEncoding.EncodeToString([]byte("id "+c)) + `"></object>` +
		`<img src="data:image/png;base64">`
	res := run(t, testutil.NewMessage().HTML(html).Bytes(), Limits{})
	checkParts(t, res, []want{
		{"body > data URI 1", "cards " + grouped(c)},
		{"body > data URI 2", "card " + c},
		{"body > data URI 3", "card " + c + "%zz"},
		{"body > data URI 4", "id " + c},
	})
	if !hasUnscannable(res, "body > data URI 5", ParseError) {
		t.Errorf("a data URI without a comma is not reported:\n%s", dump(res))
	}
	// Each data URI is a part: max_parts bounds them.
	many := strings.Repeat(`<img src="data:,x">`, 50)
	res = run(t, testutil.NewMessage().HTML(many).Bytes(), Limits{MaxParts: 10})
	found := false
	for _, u := range res.Unscannable {
		found = found || u.Reason == TooManyParts
	}
	if !found {
		t.Errorf("50 data URIs with max_parts 10: no too_many_parts:\n%s", dump(res))
	}
}

// pdfWithObjects inserts objects into a one-page PDF before its xref.
func pdfWithObjects(objs ...string) []byte {
	p := testutil.PDF("page text")
	i := bytes.LastIndex(p, []byte("xref\n"))
	var b bytes.Buffer
	b.Write(p[:i])
	for n, o := range objs {
		b.WriteString(strconv.Itoa(n+6) + " 0 obj\n" + o + "\nendobj\n")
	}
	b.Write(p[i:])
	return b.Bytes()
}

func utf16BEHex(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, r := range s {
		b.WriteString(strings.ToUpper(strconv.FormatInt(int64(r)+0x10000, 16)[1:]))
	}
	return b.String() + ">"
}

func TestIssue7PDFMetadataAnnotationsOutlines(t *testing.T) {
	c := luhnCard("453201511283036")
	oct := ""
	for _, r := range c {
		oct += "\\0" + strconv.FormatInt(int64(r), 8)
	}
	xmp := `<x:xmpmeta><rdf:RDF><dc:description>xmp ` + grouped(c) + `</dc:description></rdf:RDF></x:xmpmeta>`
	p := pdfWithObjects(
		`<< /Title (title `+c+`) /Author `+utf16BEHex("author "+c)+` /Keywords <6B657920>`+
			` /CreationDate (D:20260101120000+01'00') /ModDate (D:20461231235959Z) >>`,
		`<< /Type /Annot /Subtype /Text /Contents (note `+oct+`) /T (Mallory) >>`,
		`<< /FT /Tx /T (field) /TU (tooltip `+c+`) /V (value `+grouped(c)+`) >>`,
		`<< /Title (bookmark `+c+`) /Parent 10 0 R >>`,
		`<< /Type /Metadata /Subtype /XML /Length `+strconv.Itoa(len(xmp))+` >>`+"\nstream\n"+xmp+"\nendstream",
		`<< /Type /XRef /ID [<0123456789ABCDEF0123456789ABCDEF><3132333435363738393031323334353637>] >>`,
	)
	res := run(t, testutil.NewMessage().Text("x").Attach("r.pdf", "application/pdf", p).Bytes(), Limits{})
	const loc = `attachment "r.pdf" > metadata and annotations`
	checkParts(t, res, []want{
		{`attachment "r.pdf" > page 1`, "page text"},
		{loc, "title " + c},
		{loc, "author " + c},
		{loc, "key "},
		{loc, "note " + c},
		{loc, "tooltip " + c},
		{loc, "value " + grouped(c)},
		{loc, "bookmark " + c},
		{loc, "xmp " + grouped(c)},
	})
	got, _ := textAt(res, loc)
	if strings.Contains(got, "2026") || strings.Contains(got, "1234567890") {
		t.Errorf("dates or file identifiers read as text: %q", got)
	}
}

func init() {
	addCostCase("issue 7 PDF many annotation strings", 64<<10, func(n int) []byte {
		var objs []string
		for i := 0; i < n/60; i++ {
			objs = append(objs, `<< /Type /Annot /Contents (note 4111) /T <FEFF0041> >>`)
		}
		return attach("a.pdf", "application/pdf", pdfWithObjects(objs...))
	})
	addCostCase("issue 7 PDF unterminated dictionary string", 64<<10, func(n int) []byte {
		return attach("a.pdf", "application/pdf", pdfWithObjects(`<< /Title (`+strings.Repeat("((\\", n/3)))
	})
}

// TestIssue7ArchiveAfterOtherData: a self-extracting archive (an
// executable with a ZIP after it) or a picture with one is opened by the
// directory at its end, as archive tools open it.
func TestIssue7ArchiveAfterOtherData(t *testing.T) {
	c := luhnCard("453201511283036")
	z := testutil.Zip(testutil.File{Name: "a.txt", Data: []byte("card " + c)})
	exe := append(append([]byte("MZ\x90\x00\x03"), make([]byte, 4000)...), z...)
	gif := append([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), z...)
	res := run(t, testutil.NewMessage().Text("x").
		Attach("setup.exe", "application/octet-stream", exe).
		Attach("logo.gif", "image/gif", gif).Bytes(), Limits{})
	checkParts(t, res, []want{
		{`attachment "setup.exe" > "a.txt"`, "card " + c},
		{`attachment "logo.gif" > "a.txt"`, "card " + c},
	})
	// Text that happens to hold the signature is still read as text.
	res = run(t, testutil.NewMessage().Text("x").Attach("n.txt", "text/plain", []byte(strings.Repeat("card "+c+"\n", 20)+"PK\x05\x06")).Bytes(), Limits{})
	checkParts(t, res, []want{{`attachment "n.txt"`, "card " + c}})
}

// TestIssue7ContentTypeComments: comments in Content-Type and
// Content-Transfer-Encoding (RFC 2045 §5.1, RFC 5322 §3.2.2) are read
// past, at the top and in parts, as mail clients read them.
func TestIssue7ContentTypeComments(t *testing.T) {
	c := luhnCard("453201511283036")
	enc := base64.StdEncoding.EncodeToString([]byte("card " + c))
	msg := "From: a@example.com\r\nTo: b@example.net\r\nSubject: x\r\n" +
		"Content-Type: (legacy) multipart/mixed (x \\) (nested)); boundary=\"b(1)\"\r\n\r\n" +
		"--b(1)\r\nContent-Type: text/plain (plain); charset=utf-8\r\nContent-Transfer-Encoding: (enc) base64 (b)\r\n\r\n" + enc + "\r\n" +
		"--b(1)--\r\n"
	res := run(t, []byte(msg), Limits{})
	checkParts(t, res, []want{{"part 1 (text/plain)", "card " + c}})
	for _, tc := range []struct{ in, want string }{
		{`(a) text/plain (b (c)); charset="x(y)"`, `  text/plain  ; charset="x(y)"`},
		{`a\(b`, `a\ `}, // a backslash quotes only in quotes and comments
		{`x (unclosed`, `x  `},
	} {
		if got := stripComments(tc.in); got != tc.want {
			t.Errorf("stripComments(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func init() {
	addCostCase("issue 7 Content-Type comments", 64<<10, func(n int) []byte {
		return []byte("Content-Type: " + strings.Repeat("((\\)", n/4) + " text/plain\r\n\r\nx")
	})
	addCostCase("issue 7 data after an archive", 64<<10, func(n int) []byte {
		z := testutil.Zip(testutil.File{Name: "a.txt", Data: []byte("x")})
		return attach("a.exe", "application/octet-stream", append(append([]byte("MZ"), bytes.Repeat([]byte("PK\x05\x06\x00"), n/5)...), z...))
	})
}

func FuzzStripComments(f *testing.F) {
	f.Add(`(a) multipart/mixed (b (c) \) d); boundary="x(y)\"z"`)
	f.Add(`base64 (unclosed \`)
	f.Fuzz(func(t *testing.T, v string) {
		s := stripComments(v)
		if len(s) > len(v) {
			t.Fatalf("stripComments(%q) = %q is longer", v, s)
		}
		if strings.IndexByte(v, '(') < 0 && s != v {
			t.Fatalf("stripComments(%q) = %q changed a value without comments", v, s)
		}
		if strings.IndexByte(v, '"') < 0 && strings.IndexByte(s, '(') >= 0 {
			t.Fatalf("stripComments(%q) = %q keeps a comment", v, s)
		}
	})
}

// TestIssue7MessageIDListKept: a msg-id is skipped as a machine token
// (one time stamp or counter, sometimes two), but a local part holding
// three or more long numbers is a list the sender wrote, and is read.
func TestIssue7MessageIDListKept(t *testing.T) {
	c, d, e := luhnCard("453201511283036"), luhnCard("520444102490635"), luhnCard("601178884686848")
	for _, tc := range []struct {
		key, val string
		keep     bool
	}{
		{"content-id", "<" + c + "." + d + "." + e + "@cards>", true},
		{"message-id", "<" + c + "-" + d + "@example.com>", false},
		{"message-id", "<20260101120000.1234567890123@example.com>", false},
		{"references", "<a@b> <" + c + "x" + d + "x" + e + "@c>", true},
	} {
		got := fieldText(tc.key, tc.val)
		if kept := strings.Contains(got, c); kept != tc.keep && (tc.keep || strings.Contains(tc.val, c)) {
			t.Errorf("fieldText(%s, %q) = %q, kept %v, want %v", tc.key, tc.val, got, kept, tc.keep)
		}
	}
}
