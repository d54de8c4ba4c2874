package extract

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/testutil"
)

func flateStream(dict string, data []byte) string {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(data)
	w.Close()
	return fmt.Sprintf("%s\nstream\n%s\nendstream\n", dict, z.String())
}

func TestPDF(t *testing.T) {
	cmap := []byte(`/CIDInit /ProcSet findresource begin 12 dict begin begincmap
1 begincodespacerange <0000> <FFFF> endcodespacerange
2 beginbfchar <0001> <0034> <0002> <0031> endbfchar
1 beginbfrange <0010> <0019> <0030> endbfrange
endcmap end end`)
	withCMap := append(bytes.Replace(testutil.PDFContent([]byte("BT /F1 12 Tf 72 720 Td <00010002000200020011> Tj ET"), ""),
		[]byte("/BaseFont /Helvetica >>"), []byte("/BaseFont /Helvetica /ToUnicode 6 0 R >>"), 1),
		[]byte("6 0 obj\n"+flateStream("<< /Filter /FlateDecode >>", cmap)+"endobj\n")...)
	// Two fonts whose codes overlap: each page font has its own map.
	cmapX := []byte("begincmap 1 begincodespacerange <0000> <FFFF> endcodespacerange 1 beginbfchar <0001> <0058> endbfchar endcmap")
	twoFonts := []byte("%PDF-1.7\n" +
		"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" +
		"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n" +
		"3 0 obj\n<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>\nendobj\n" +
		"4 0 obj\n" + flateStream("<< /Filter /FlateDecode >>", []byte("BT /F1 10 Tf <00010002> Tj /F2 10 Tf <0001> Tj ET")) + "endobj\n" +
		"5 0 obj\n<< /Type /Font /Subtype /Type0 /ToUnicode 7 0 R >>\nendobj\n" +
		"6 0 obj\n<< /Type /Font /Subtype /Type0 /ToUnicode 8 0 R >>\nendobj\n" +
		"7 0 obj\n" + flateStream("<< /Filter /FlateDecode >>", cmap) + "endobj\n" +
		"8 0 obj\n" + flateStream("<< /Filter /FlateDecode >>", cmapX) + "endobj\n" +
		"trailer\n<< /Root 1 0 R >>\n%%EOF\n")
	// Page and font objects packed in an object stream (PDF 1.5).
	objStm := []byte("3 0 5 90 " +
		"<< /Type /Page /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>\n" +
		"<< /Type /Font /ToUnicode 7 0 R >>")
	first := bytes.IndexByte(objStm, '<')
	packed := []byte("%PDF-1.7\n" +
		"9 0 obj\n" + flateStream(fmt.Sprintf("<< /Type /ObjStm /N 2 /First %d /Filter /FlateDecode >>", first), fixOffsets(objStm, first)) + "endobj\n" +
		"4 0 obj\n" + flateStream("<< /Filter /FlateDecode >>", []byte("BT /F1 10 Tf <0001000200020002> Tj ET")) + "endobj\n" +
		"7 0 obj\n" + flateStream("<< /Filter /FlateDecode >>", cmap) + "endobj\n%%EOF\n")
	imageOnly := []byte("%PDF-1.4\n1 0 obj\n<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /Filter /DCTDecode /Length 4 >>\nstream\n\xff\xd8\xff\xe0\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
	uncompressed := []byte("%PDF-1.4\n1 0 obj\n<< /Length 40 >>\nstream\nBT (plain \\(stream\\) 4111111111111111) Tj ET\nendstream\nendobj\n%%EOF\n")
	tests := []struct {
		name   string
		pdf    []byte
		want   string
		reason Reason
	}{
		{"Tj lines", testutil.PDF("Card number:", card), "Card number:\n" + card, ""},
		{"TJ kerning keeps a split value", testutil.PDFContent([]byte("BT [(4111)-20(1111)-10(11)5(11 1111)] TJ ET"), ""), "411111111111 1111", ""},
		{"TJ wide gap is a space", testutil.PDFContent([]byte("BT [(card)-600(4111)] TJ ET"), ""), "card 4111", ""},
		{"hex string", testutil.PDFContent([]byte("BT <34313131> Tj ET"), ""), "4111", ""},
		{"octal escapes and quote operator", testutil.PDFContent([]byte(`BT (a\061\062) Tj (next) ' ET`), ""), "a12\nnext", ""},
		{"utf-16 string", testutil.PDFContent([]byte("BT <FEFF00430061007200640020> Tj ET"), ""), "Card ", ""},
		{"ToUnicode CMap", withCMap, "41111", ""},
		{"ToUnicode per font", twoFonts, "41X", ""},
		{"object streams", packed, "4111", ""},
		{"uncompressed stream", uncompressed, "plain (stream) " + card, ""},
		{"encrypted", testutil.PDFContent([]byte("BT (x) Tj ET"), "/Encrypt 9 0 R"), "", Encrypted},
		{"image only", imageOnly, "", Unsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, testutil.NewMessage().Text("x").Attach("doc.pdf", "application/pdf", tc.pdf).Bytes(), Limits{})
			if tc.reason != "" {
				if !hasUnscannable(res, `attachment "doc.pdf"`, tc.reason) {
					t.Errorf("want %s; got:\n%s", tc.reason, dump(res))
				}
				return
			}
			loc := `attachment "doc.pdf" > page 1`
			if tc.name == "uncompressed stream" { // no page tree: read as a whole
				loc = `attachment "doc.pdf"`
			}
			checkParts(t, res, []want{{loc, tc.want}})
			if len(res.Unscannable) > 0 {
				t.Errorf("unexpected unscannable:\n%s", dump(res))
			}
		})
	}
}

func TestPDFStreamBomb(t *testing.T) {
	bomb := testutil.PDFContent(bytes.Repeat([]byte("0"), 8<<20), "")
	res := run(t, testutil.NewMessage().Text("x").Attach("b.pdf", "application/pdf", bomb).Bytes(), Limits{})
	if !hasUnscannable(res, `attachment "b.pdf"`, TooLarge) {
		t.Errorf("want too_large for a PDF stream bomb; got:\n%s", dump(res))
	}
}

func TestRTF(t *testing.T) {
	tests := []struct{ name, rtf, want string }{
		{"plain with tables skipped", `{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fswiss Arial 9999;}}{\colortbl;\red0\green0\blue0;}\f0\fs20 Card 4111 1111\par 1111 1111}`, "Card 4111 1111\n1111 1111"},
		{"hex escapes in code page", `{\rtf1\ansi\ansicpg1251 \'cd\'ee\'ec\'e5\'f0 4111}`, "Номер 4111"},
		{"hex escapes default 1252", `{\rtf1\ansi caf\'e9}`, "café"},
		{"unicode with fallback", `{\rtf1\uc1\u1053?\u1086?\u-3913? x}`, "Но\uf0b7 x"},
		{"star destinations and pict skipped", `{\rtf1{\*\generator Riched20 9999;}{\pict\pngblip 89504e470d0a}before{\*\bkmkstart b}41\-11{\field{\*\fldinst HYPERLINK "x"}{\fldrslt 1111}}}`, "before41111111"},
		{"escaped braces and tabs", `{\rtf1 a\{b\}c\\d\tab e}`, "a{b}c\\d\te"},
		{"binary data skipped", "{\\rtf1 x\\bin4 \x00\x01\x02\x03y}", "xy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Normalize(rtfText([]byte(tc.rtf), nil))
			if !strings.Contains(got, Normalize(tc.want)) {
				t.Errorf("rtfText(%q) = %q, want it to contain %q", tc.rtf, got, tc.want)
			}
			if strings.Contains(got, "9999") {
				t.Errorf("rtfText(%q) = %q kept a skipped destination", tc.rtf, got)
			}
		})
	}
	res := run(t, testutil.NewMessage().Text("x").Attach("a.doc", "application/msword", []byte(`{\rtf1\ansi Card `+card+`\par}`)).Bytes(), Limits{})
	checkParts(t, res, []want{{`attachment "a.doc"`, "Card " + card}})
}

// fixOffsets rewrites the second offset of a two-object stream header so
// that it points at the second object.
func fixOffsets(objStm []byte, first int) []byte {
	body := objStm[first:]
	second := bytes.Index(body, []byte(">>\n<<")) + 3
	return []byte(fmt.Sprintf("3 0 5 %d ", second) + strings.Repeat(" ", first-len(fmt.Sprintf("3 0 5 %d ", second))) + string(body))
}

func TestPDFManyObjectsIsLinear(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	for i := 1; i <= 50000; i++ {
		fmt.Fprintf(&b, "%d 0 obj\n<< /K %d >>\nendobj\n", i, i)
	}
	b.WriteString("50001 0 obj\n<< /Length 30 >>\nstream\nBT (tail 4111111111111111) Tj ET\nendstream\nendobj\n%%EOF\n")
	msg := testutil.NewMessage().Text("x").Attach("many.pdf", "application/pdf", b.Bytes()).Bytes()
	res := run(t, msg, Limits{})
	// Work, not time: a loaded machine or the race detector cannot make
	// it fail, a quadratic index (work ~ objects x file) does.
	if max := 64 * int64(len(msg)); res.Work > max {
		t.Errorf("50,000-object PDF of %d bytes: work %d, want at most %d", len(msg), res.Work, max)
	}
	checkParts(t, res, []want{{`attachment "many.pdf"`, "tail " + card}})
}

func TestParsePDFNumber(t *testing.T) {
	for in, want := range map[string]float64{"0": 0, "-14": -14, "12.5": 12.5, ".5": 0.5, "-.25": -0.25, "+3": 3, "-600": -600, "1.2.3": 1.2, "": 0} {
		if got := parsePDFNumber([]byte(in)); got != want {
			t.Errorf("parsePDFNumber(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestPDFPages(t *testing.T) {
	var b strings.Builder
	b.WriteString("%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [4 0 R 3 0 R] /Count 2 >>\nendobj\n")
	for i, n := range []int{3, 4} {
		fmt.Fprintf(&b, "%d 0 obj\n<< /Type /Page /Parent 2 0 R /Contents %d 0 R >>\nendobj\n", n, n+10)
		fmt.Fprintf(&b, "%d 0 obj\n%sendobj\n", n+10, flateStream("<< /Filter /FlateDecode >>", []byte(fmt.Sprintf("BT (object %d, written %d) Tj ET", n, i))))
	}
	res := run(t, testutil.NewMessage().Text("x").Attach("p.pdf", "application/pdf", []byte(b.String())).Bytes(), Limits{})
	// page order is the page tree's (Kids [4 3]), not the file's
	checkParts(t, res, []want{{`attachment "p.pdf" > page 1`, "object 4"}, {`attachment "p.pdf" > page 2`, "object 3"}})
}

func TestPDFTextBeforeLimitIsKept(t *testing.T) {
	doc := "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R 4 0 R] >>\nendobj\n" +
		"3 0 obj\n<< /Type /Page /Contents 13 0 R >>\nendobj\n13 0 obj\n" + flateStream("<< /Filter /FlateDecode >>", []byte("BT (first "+card+") Tj ET")) + "endobj\n" +
		"4 0 obj\n<< /Type /Page /Contents 14 0 R >>\nendobj\n14 0 obj\n" + flateStream("<< /Filter /FlateDecode >>", make([]byte, 4<<20)) + "endobj\n"
	res := run(t, testutil.NewMessage().Text("x").Attach("b.pdf", "application/pdf", []byte(doc)).Bytes(), Limits{MaxDecompressedBytes: 1 << 20})
	checkParts(t, res, []want{{`attachment "b.pdf" > page 1`, "first " + card}})
	if !hasUnscannable(res, `attachment "b.pdf"`, TooLarge) {
		t.Errorf("want too_large; got:\n%s", dump(res))
	}
}
