package extract

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/testutil"
	"golang.org/x/text/encoding/charmap"
)

func TestAttachments(t *testing.T) {
	bz2, err := os.ReadFile("testdata/card.txt.bz2") // made by bzip2(1): the standard library has no bzip2 writer
	if err != nil {
		t.Fatal(err)
	}
	docx := testutil.DOCX([]string{"Card: ", "4111", "1111", "1111", "1111"}, []string{"second para"})
	xlsx := testutil.XLSX(
		testutil.Sheet{Name: "Summary", Rows: [][]string{{"total", "12"}}},
		testutil.Sheet{Name: "Payroll", Rows: [][]string{{"name", "card"}, {"Ann", "4.111111111111111E+15"}, {"Bob", "5500 0000 0000 0004"}}},
	)
	tests := []struct {
		name  string
		file  string
		data  []byte
		wants []want
	}{
		{"json", "data.json", []byte(`{"name": "ann", "card": "` + card + `"}`), []want{{`attachment "data.json"`, `"card": "` + card}}},
		{"xml", "data.xml", []byte(`<?xml version="1.0"?><r><card>` + card + `</card></r>`), []want{{`attachment "data.xml"`, card}}},
		{"calendar", "invite.ics", []byte("BEGIN:VCALENDAR\r\nDESCRIPTION:card " + card + "\r\nEND:VCALENDAR\r\n"), []want{{`attachment "invite.ics"`, "card " + card}}},
		{"svg", "chart.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><style>.a{}</style><text x="1">card <tspan>` + card + `</tspan></text></svg>`), []want{{`attachment "chart.svg"`, "card " + card}}},
		{"csv", "list.csv", []byte("name,card\nann," + card + "\n"), []want{{`attachment "list.csv"`, "ann," + card}}},
		{"html attachment", "page.htm", []byte("<html><body><p>41<i>11</i>111111111111</p></body></html>"), []want{{`attachment "page.htm"`, card}}},
		{"zip", "a.zip", testutil.Zip(testutil.File{Name: "b/c.txt", Data: []byte("x " + card)}, testutil.File{Name: "d.txt", Data: []byte("y"), Store: true}),
			[]want{{`attachment "a.zip" > "b/c.txt"`, "x " + card}, {`attachment "a.zip" > "d.txt"`, "y"}}},
		{"zip in zip", "outer.zip", testutil.Zip(testutil.File{Name: "inner.zip", Data: testutil.Zip(testutil.File{Name: "deep.txt", Data: []byte("deep " + card)})}),
			[]want{{`attachment "outer.zip" > "inner.zip" > "deep.txt"`, "deep " + card}}},
		{"gzip", "notes.txt.gz", testutil.Gzip("", []byte("gz "+card)), []want{{`attachment "notes.txt.gz" > "notes.txt"`, "gz " + card}}},
		{"gzip with name", "x.gz", testutil.Gzip("orig.txt", []byte("gz "+card)), []want{{`attachment "x.gz" > "orig.txt"`, "gz " + card}}},
		{"bzip2", "card.txt.bz2", bz2, []want{{`attachment "card.txt.bz2" > "card.txt"`, "bz2 card " + card}}},
		{"html with meta charset", "page.html", append([]byte(`<html><head><meta charset="windows-1251"></head><body>`), encode(t, "Номер 4111", charmap.Windows1251.NewEncoder().Bytes)...),
			[]want{{`attachment "page.html"`, "Номер 4111"}}},
		{"tar", "a.tar", testutil.Tar(testutil.File{Name: "dir/t.txt", Data: []byte("tar " + card)}), []want{{`attachment "a.tar" > "dir/t.txt"`, "tar " + card}}},
		{"tar.gz", "a.tar.gz", testutil.Gzip("", testutil.Tar(testutil.File{Name: "t.txt", Data: []byte("tgz " + card)})),
			[]want{{`attachment "a.tar.gz" > "a.tar" > "t.txt"`, "tgz " + card}}},
		{"docx runs joined", "letter.docx", docx, []want{{`attachment "letter.docx"`, "Card: " + card + "\nsecond para"}}},
		{"docx named .dat", "blob.dat", docx, []want{{`attachment "blob.dat"`, "Card: " + card}}},
		{"xlsx sheets shared strings and numbers", "q3.xlsx", xlsx,
			[]want{{`attachment "q3.xlsx" > sheet "Payroll"`, "Ann\t" + card}, {`attachment "q3.xlsx" > sheet "Payroll"`, "Bob\t5500 0000 0000 0004"}, {`attachment "q3.xlsx" > sheet "Summary"`, "total\t12"}}},
		{"pptx", "deck.pptx", testutil.PPTX("intro", "card "+card), []want{{`attachment "deck.pptx" > slide 2`, "card " + card}}},
		{"odt", "memo.odt", testutil.ODT("hello", "card "+card), []want{{`attachment "memo.odt"`, "hello\ncard " + card}}},
		{"ods", "s.ods", testutil.ODS(testutil.Sheet{Name: "Cards", Rows: [][]string{{"Ann", card}}}), []want{{`attachment "s.ods" > sheet "Cards"`, "Ann\t" + card}}},
		{"docx in zip", "a.zip", testutil.Zip(testutil.File{Name: "b/c.docx", Data: docx}), []want{{`attachment "a.zip" > "b/c.docx"`, "Card: " + card}}},
		{"eml attachment", "fwd.eml", testutil.Message("inner " + card), []want{{`attachment "fwd.eml" > body`, "inner " + card}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, testutil.NewMessage().Text("see attached").Attach(tc.file, "application/octet-stream", tc.data).Bytes(), Limits{})
			checkParts(t, res, tc.wants)
			if len(res.Unscannable) > 0 {
				t.Errorf("unexpected unscannable:\n%s", dump(res))
			}
		})
	}
}

func TestAttachmentMIMEType(t *testing.T) {
	res := run(t, testutil.NewMessage().Text("x").Attach("a.bin", "application/octet-stream", testutil.XLSX(testutil.Sheet{Name: "S", Rows: [][]string{{"v"}}})).Bytes(), Limits{})
	for _, p := range res.Parts {
		if strings.HasPrefix(p.Location, `attachment "a.bin"`) {
			if p.MIMEType != kindXLSX || p.Filename != "a.bin" || p.Kind != KindAttachment {
				t.Errorf("part %q: MIMEType %q Filename %q Kind %v, want %q a.bin attachment", p.Location, p.MIMEType, p.Filename, p.Kind, kindXLSX)
			}
			return
		}
	}
	t.Fatalf("no xlsx part:\n%s", dump(res))
}

func TestZip64(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 65,536-member archive")
	}
	// archive/zip writes a zip64 end of central directory for 65,535 or
	// more members.
	files := make([]testutil.File, 65536)
	for i := range files {
		files[i] = testutil.File{Name: strconv.Itoa(i), Store: true}
	}
	files[65535] = testutil.File{Name: "last.txt", Data: []byte("z64 " + card)}
	z := testutil.Zip(files...)
	lim := Limits{MaxParts: 70000, MaxArchiveMembers: 70000}
	res := run(t, testutil.NewMessage().Text("x").Attach("big.zip", "application/zip", z).Bytes(), lim)
	checkParts(t, res, []want{{`attachment "big.zip" > "last.txt"`, "z64 " + card}})
}

func TestUnscannableContent(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 64)...)
	ole := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 504)...)
	encOffice := append(append([]byte{}, ole...), utf16le("EncryptedPackage")...)
	tests := []struct {
		name   string
		data   []byte
		loc    string
		reason Reason
	}{
		{"encrypted zip member", testutil.Zip(testutil.File{Name: "s.txt", Data: []byte("x"), Encrypted: true}), `attachment "f" > "s.txt"`, Encrypted},
		{"encrypted OOXML", encOffice, `attachment "f"`, Encrypted},
		{"encrypted ODF", testutil.ODTEncrypted(), `attachment "f"`, Encrypted},
		{"legacy office", ole, `attachment "f"`, Unsupported},
		{"legacy office with text", append(append(append([]byte{}, ole...), utf16le("Card "+card)...), []byte("\x00\x01plain 8-bit text\x00")...), `attachment "f"`, Unsupported},
		{"image", png, `attachment "f"`, Unsupported},
		{"random binary", []byte{0x00, 0x01, 0x02, 0x03, 0xfe, 0xff, 0x00, 0x10, 0x11, 0x00, 0x90, 0x91}, `attachment "f"`, Unsupported},
		{"zip member with a wrong checksum", corruptCRC(testutil.Zip(testutil.File{Name: "a.txt", Data: []byte("hello")})), `attachment "f" > "a.txt"`, ParseError},
		{"corrupt zip", testutil.Zip(testutil.File{Name: "a.txt", Data: []byte(strings.Repeat("a", 1000))})[:60], `attachment "f"`, ParseError},
		{"corrupt gzip", testutil.Gzip("", []byte(strings.Repeat("hello ", 1000)))[:40], `attachment "f" > "content"`, ParseError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, testutil.NewMessage().Text("x").Attach("f", "application/octet-stream", tc.data).Bytes(), Limits{})
			if !hasUnscannable(res, tc.loc, tc.reason) {
				t.Errorf("want unscannable %s at %q; got:\n%s", tc.reason, tc.loc, dump(res))
			}
		})
	}
}

func TestSMIMEAndPGPEncrypted(t *testing.T) {
	smime := testutil.NewMessage().Part(part("application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m", "base64", testutil.Base64([]byte{0x30, 0x80, 1, 2, 3}, 76))).Bytes()
	pgp := testutil.NewMessage().Part(part(`multipart/encrypted; protocol="application/pgp-encrypted"; boundary=p`, "", testutil.Multipart("p",
		part("application/pgp-encrypted", "", []byte("Version: 1")),
		part("application/octet-stream", "", []byte("-----BEGIN PGP MESSAGE-----\n\nhQEMA\n-----END PGP MESSAGE-----\n"))))).Bytes()
	inline := testutil.Message("-----BEGIN PGP MESSAGE-----\n\nhQEMA\n-----END PGP MESSAGE-----\n")
	for name, tc := range map[string]struct {
		msg []byte
		loc string
	}{
		"smime":      {smime, `attachment "smime.p7m"`},
		"pgp/mime":   {pgp, "body"},
		"inline pgp": {inline, "body"},
	} {
		res := run(t, tc.msg, Limits{})
		if !hasUnscannable(res, tc.loc, Encrypted) {
			t.Errorf("%s: want encrypted at %q; got:\n%s", name, tc.loc, dump(res))
		}
	}
}

func TestAttachmentsWithoutTextAreListed(t *testing.T) {
	msg := testutil.NewMessage().Text("x").
		Attach("empty.txt", "text/plain", nil).
		Attach("blank.docx", "application/octet-stream", testutil.DOCX()).
		Attach("blank.pdf", "application/pdf", testutil.PDFContent(nil, "")).Bytes()
	res := run(t, msg, Limits{})
	for _, tc := range []struct{ loc, mime string }{
		{`attachment "empty.txt"`, "application/x-empty"},
		{`attachment "blank.docx"`, kindDOCX},
		{`attachment "blank.pdf"`, "application/pdf"},
	} {
		found := false
		for _, p := range res.Parts {
			if p.Location == tc.loc {
				found = true
				if p.Kind != KindAttachment || p.MIMEType != tc.mime || p.Text != "" {
					t.Errorf("part %q: kind %v type %q text %q, want attachment %q with no text", tc.loc, p.Kind, p.MIMEType, p.Text, tc.mime)
				}
			}
		}
		if !found {
			t.Errorf("attachment %q not listed; got:\n%s", tc.loc, dump(res))
		}
	}
}

func TestOfficeMetadataAndComments(t *testing.T) {
	core := `<?xml version="1.0"?><cp:coreProperties xmlns:cp="x" xmlns:dc="y"><dc:title>Card ` + card + `</dc:title><dc:creator>Ann</dc:creator></cp:coreProperties>`
	comments := `<?xml version="1.0"?><comments><commentList><comment ref="A1"><text><r><t>check </t></r><r><t>` + card + `</t></r></text></comment></commentList></comments>`
	docx := addZipMember(testutil.DOCX([]string{"body"}), testutil.File{Name: "docProps/core.xml", Data: []byte(core)})
	xlsx := addZipMember(testutil.XLSX(testutil.Sheet{Name: "S", Rows: [][]string{{"v"}}}), testutil.File{Name: "xl/comments1.xml", Data: []byte(comments)})
	res := run(t, testutil.NewMessage().Text("x").Attach("a.docx", "application/octet-stream", docx).Attach("b.xlsx", "application/octet-stream", xlsx).Bytes(), Limits{})
	checkParts(t, res, []want{
		{`attachment "a.docx" > properties`, "Card " + card + "\nAnn"},
		{`attachment "b.xlsx" > comments`, "check " + card},
	})
}

func TestSignedMessage(t *testing.T) {
	signed := testutil.NewMessage().Part(part(`multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="s"`, "", testutil.Multipart("s",
		part("text/plain", "", []byte("signed "+card)),
		part(`application/pkcs7-signature; name="smime.p7s"`, "base64", testutil.Base64([]byte{0x30, 0x82, 0x01, 0x00, 0x06, 0x09}, 76),
			[2]string{"Content-Disposition", `attachment; filename="smime.p7s"`})))).Bytes()
	res := run(t, signed, Limits{})
	checkParts(t, res, []want{{"part 1 (text/plain)", "signed " + card}})
	if len(res.Unscannable) > 0 {
		t.Errorf("a signature is not unscannable content; got:\n%s", dump(res))
	}
}

func TestLegacyOfficeStrings(t *testing.T) {
	ole := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 504)...)
	doc := append(append(append(ole, utf16le("Card "+card)...), 0x01, 0x02), []byte("\x00caf\xe9 8-bit\x00ab\x00")...)
	res := run(t, testutil.NewMessage().Text("x").Attach("old.doc", "application/msword", doc).Bytes(), Limits{})
	checkParts(t, res, []want{{`attachment "old.doc"`, "Card " + card}, {`attachment "old.doc"`, "café 8-bit"}})
	if got, _ := textAt(res, `attachment "old.doc"`); strings.Contains(got, "ab") && !strings.Contains(got, "café") {
		t.Errorf("short runs kept: %q", got)
	}
}

func TestSheetText(t *testing.T) {
	shared := sharedOf("Ann", "B&B")
	tests := []struct{ xml, want string }{
		{`<row><c t="s"><v>0</v></c><c><v>4.111111111111111E+15</v></c></row>`, "Ann\t4111111111111111\t\n"},
		{`<row><c t="inlineStr"><is><r><t>41</t></r><r><t>11</t></r></is></c><c t="str"><v>x&amp;y</v></c><c t="b"><v>1</v></c></row>`, "4111\tx&y\t1\t\n"},
		{`<row><c t="s"><v>1</v></c><c t="s"><v>99</v></c><c><v>12.5</v></c><c><v>1.5E-3</v></c></row>`, "B&B\t\t12.5\t1.5E-3\t\n"},
	}
	for _, tc := range tests {
		if got, _ := sheetText(nil, []byte(tc.xml), shared, 1<<20); got != tc.want {
			t.Errorf("sheetText(%q) = %q, want %q", tc.xml, got, tc.want)
		}
	}
}

func TestDocxRunText(t *testing.T) {
	x := `<w:body><w:p><w:r><w:t>41</w:t></w:r><w:r><w:t xml:space="preserve">11 </w:t></w:r><w:r><w:tab/><w:t>a&lt;b</w:t></w:r></w:p>` +
		`<w:p><w:r><w:delText>deleted</w:delText><w:instrText>HYPERLINK</w:instrText><w:br/><w:t><![CDATA[cd]]></w:t></w:r></w:p></w:body>`
	want := "4111 \ta<b\ndeleted\ncd\n"
	if got := runText(nil, []byte(x), docxRoles, false); got != want {
		t.Errorf("runText(docx) = %q, want %q", got, want)
	}
}

// corruptCRC flips a bit of the CRC-32 of the first member in both the
// local header and the central directory.
func corruptCRC(z []byte) []byte {
	z = append([]byte(nil), z...)
	z[14] ^= 1 // local file header CRC-32
	if i := bytes.Index(z, []byte("PK\x01\x02")); i >= 0 {
		z[i+16] ^= 1 // central directory CRC-32
	}
	return z
}

// TestPooledFlateReuse: inflaters taken from the pool, closed twice and
// reused, still inflate each member correctly.
func TestPooledFlateReuse(t *testing.T) {
	members := []string{"first member " + card, "second", strings.Repeat("third ", 1000)}
	var files []testutil.File
	for i, m := range members {
		files = append(files, testutil.File{Name: strconv.Itoa(i) + ".txt", Data: []byte(m)})
	}
	data := testutil.Zip(files...)
	zr, err := zipReader(data)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		for i, f := range zr.File {
			rc, err := openMember(data, f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			rc.Close() // a second Close must not put it in the pool twice
			if err != nil || string(got) != members[i] {
				t.Errorf("round %d member %d: got %q, %v; want %q", round, i, got, err, members[i])
			}
		}
	}
}
