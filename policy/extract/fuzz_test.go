package extract

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/maildlp/maildlp/internal/testutil"
	"golang.org/x/text/unicode/norm"
)

// fuzzLimits keep fuzz iterations small and fast.
var fuzzLimits = Limits{
	MaxMessageBytes:      1 << 20,
	MaxParts:             200,
	MaxDepth:             8,
	MaxArchiveMembers:    50,
	MaxDecompressedBytes: 4 << 20,
	MaxExpansionRatio:    100,
	MaxTextBytes:         256 << 10,
}

// checkResult asserts the invariants of every Extract result.
func checkResult(t *testing.T, res *Result, lim Limits) {
	t.Helper()
	var total int64
	for _, p := range res.Parts {
		if !utf8.ValidString(p.Text) {
			t.Fatalf("part %q: text is not valid UTF-8", p.Location)
		}
		if p.Location == "" {
			t.Fatalf("part with empty location")
		}
		total += int64(len(p.Text))
	}
	if total > lim.MaxTextBytes {
		t.Fatalf("text bytes %d > max_text_bytes %d", total, lim.MaxTextBytes)
	}
	for _, u := range res.Unscannable {
		if u.Location == "" || u.Reason == "" {
			t.Fatalf("unscannable without location or reason: %+v", u)
		}
	}
}

// fuzzAttachment reads data as an attachment, without building a message
// around it, so that each run is cheap. Its cost oracle: the work counted
// is linear in the input and in what decoders produced from it.
func fuzzAttachment(t *testing.T, data []byte) {
	e := &extractor{ctx: context.Background(), lim: fuzzLimits.withDefaults(), res: &Result{}}
	e.m = newMeter(nil, time.Time{})
	e.content(data, source{loc: `attachment "f"`, name: "f", kind: KindAttachment}, 1)
	for _, u := range e.res.Unscannable {
		if strings.HasPrefix(u.Detail, "extractor failed") {
			t.Fatalf("extractor panicked: %s", u.Detail)
		}
	}
	checkResult(t, e.res, fuzzLimits)
	checkCost(t, e.m, len(data))
}

// Work per byte of input or decoded output that the cost oracle allows,
// and the work allowed for any input: large enough for the fixed costs of
// an extractor, far below what a quadratic path costs on inputs of the
// sizes the fuzzer makes.
const (
	fuzzWorkPerByte = 64
	fuzzWorkFixed   = 64 << 10
)

// checkCost fails when m counted more work than linear in n input bytes
// plus the bytes decoders produced.
func checkCost(t *testing.T, m *meter, n int) {
	t.Helper()
	if max := fuzzWorkPerByte*(int64(n)+m.output) + fuzzWorkFixed; m.work > max {
		t.Fatalf("work %d for %d input bytes and %d decoded: more than %d (not linear)", m.work, n, m.output, max)
	}
}

func FuzzExtract(f *testing.F) {
	f.Add(testutil.Message("card " + card))
	f.Add(testutil.NewMessage().HTML("<p>4111<b>1111</b></p>").Attach("a.zip", "application/zip", testutil.Zip(testutil.File{Name: "a.txt", Data: []byte("x")})).Bytes())
	f.Add(nested(4))
	f.Add([]byte("Subject: =?UTF-8?B?w6k=?=\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3D=\r\nb\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nbody\r\n"))
	f.Add([]byte("broken header\r\n\r\nbegin 644 a.txt\n#86)C\n`\nend\n"))
	f.Add(testutil.NewMessage().Text("x").Attach("a.pdf", "application/pdf", testutil.PDF("p")).Attach("a.rtf", "text/rtf", []byte(`{\rtf1 x\par}`)).Bytes())
	f.Add(testutil.NewMessage().Text("x").Attach("winmail.dat", "application/ms-tnef", testutil.TNEF(testutil.TNEFFile("a.txt", []byte("t"))...)).Bytes())
	// Obsolete header syntax, encoded words, UTF-7 and unknown charsets.
	f.Add([]byte("Content-Type : multipart/mixed; boundary=b\r\nX-A\t: =?utf-8?B?NDEx?=\r\n\r\n--b\r\nContent-Transfer-Encoding : base64\r\nContent-Type : text/plain; charset=utf-7\r\n\r\nK0FEUUFNUS0=\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject : =? =?x-bogus?Q?=34?=\r\nContent-Type : text/plain; charset=x-bogus\r\n\r\na\x00b\r\n--b--\r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b; boundary=b\r\n\r\n--b\r\nContent-Disposition: attachment; filename*0*=utf-8''%41; filename*1=\"=?utf-8?Q?b?=\"\r\n\r\nbegin 644 a\nbegin 644 b\n\nendx\n--b--\r\n"))
	f.Add([]byte("Content-Type: (c) multipart/mixed (x); boundary=\"b(1)\"\r\n\r\n--b(1)\r\nContent-Transfer-Encoding: (e) base64\r\n\r\nNDEx\r\n--b(1)--\r\n"))
	f.Add(testutil.NewMessage().Text("x").Attach("a.exe", "application/octet-stream", append([]byte("MZ\x90\x00"), testutil.Zip(testutil.File{Name: "a.txt", Data: []byte("x")})...)).Bytes())
	f.Add(testutil.NewMessage().HTML(`<img src="data:text/html;base64,PGI+NDExMTwvYj4"><iframe src="data:,%3Cimg%20src=%22data:,x%22%3E">`).Bytes())
	f.Fuzz(func(t *testing.T, msg []byte) {
		res, err := Extract(context.Background(), bytes.NewReader(msg), fuzzLimits)
		if err != nil {
			t.Fatalf("Extract: %v", err)
		}
		checkResult(t, res, fuzzLimits)
	})
}

func FuzzZip(f *testing.F) {
	f.Add(testutil.Zip(testutil.File{Name: "a.txt", Data: []byte("hello " + card)}))
	f.Add(testutil.Zip(testutil.File{Name: "in.zip", Data: testutil.Zip(testutil.File{Name: "b.txt", Data: []byte("b")})}))
	f.Add(testutil.Zip(testutil.File{Name: "e.txt", Data: []byte("e"), Encrypted: true}))
	f.Add(lyingZip(1000, 1<<20))
	f.Add(lyingZip(1000, 200<<20))
	f.Add(zipWithComment("archive "+card, "member "+card))
	f.Fuzz(fuzzAttachment)
}

func FuzzTar(f *testing.F) {
	f.Add(testutil.Tar(testutil.File{Name: "a.txt", Data: []byte("hello " + card)}))
	f.Fuzz(fuzzAttachment)
}

func FuzzGzip(f *testing.F) {
	f.Add(testutil.Gzip("a.txt", []byte("hello "+card)))
	f.Add(testutil.Gzip("", testutil.Tar(testutil.File{Name: "a.txt", Data: []byte("x")})))
	f.Fuzz(fuzzAttachment)
}

func FuzzOOXML(f *testing.F) {
	f.Add(testutil.DOCX([]string{"a", "b"}))
	f.Add(testutil.XLSX(testutil.Sheet{Name: "S", Rows: [][]string{{"a", "1E+3"}}}))
	f.Add(testutil.PPTX("slide"))
	f.Add(testutil.ODS(testutil.Sheet{Name: "S", Rows: [][]string{{"a"}}}))
	f.Add(testutil.ODT("p"))
	f.Add(docxWith(`<w:p><w:r><w:instrText> QUOTE 41</w:instrText></w:r><w:fldSimple w:instr="QUOTE 4111 1111"/><w:x>11</w:x></w:p>`))
	f.Add([]byte(`<?xml version="1.0"?><office:document><office:body><text:p>&#52;&#x31;</text:p></office:body></office:document>`))
	f.Fuzz(fuzzAttachment)
}

func FuzzXMLText(f *testing.F) {
	f.Add([]byte(`<w:p><w:r><w:t>a&amp;b&#52;&#x31;</w:t></w:r><![CDATA[x]]><!-- c --><w:tab/></w:p>`))
	f.Add([]byte(`<sst><si><t>x</t><rPh><t>y</t></rPh></si></sst><c t="s"><v>0</v></c>`))
	f.Add([]byte(`<w:p a="0123456789"><w:r><w:instrText>QUOTE 41</w:instrText></w:r><w:fldSimple w:instr="QUOTE 4111"/><x>&#x34;</x></w:p>`))
	f.Add([]byte(`<svg><text>41<tspan>11</tspan></text><title>t</title><script>s</script></svg>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sheet, _ := sheetText(nil, data, sharedStrings(nil, data), 1<<20)
		text, other := docText(nil, data, docxRoles, false)
		svg, svgOther := docText(nil, data, svgRoles, true)
		for _, s := range []string{text, other, svg, svgOther, runText(nil, data, odfRoles, true), sheet, anyXMLText(nil, data)} {
			if !utf8.ValidString(toValidUTF8([]byte(s))) {
				t.Fatal("invalid UTF-8")
			}
		}
	})
}

func FuzzPDF(f *testing.F) {
	f.Add(testutil.PDF("hello", card))
	f.Add(testutil.PDFContent([]byte("BT [(41)-300(11)] TJ <3031> Tj (a\\101) ' ET"), ""))
	f.Add([]byte("%PDF-1.4\nstream\nbegincmap 1 beginbfrange <00> <FF> [<0041>] endbfrange endcmap\nendstream"))
	f.Add(pdfRepeatedObjects(2000))
	f.Add(pdfManyObjects(2000))
	f.Add(pdfSharedKids(2000))
	f.Add(pdfUnterminated(2000))
	f.Add(pdfWithObjects(`<< /Title (t\\064) /Author <FEFF0034> /ID [<00>] /M (D:2026) >>`, "<< /Type /Metadata /Subtype /XML >>\nstream\n<x>&#52;</x>\nendstream"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := newMeter(nil, time.Time{})
		out, _ := pdfContentText(nil, data, nil, &pdfCMap{m: map[uint32]string{}}, m, 1<<20)
		c := &pdfCMap{m: map[uint32]string{}, meter: m}
		c.parse(data)
		_, _ = pdfContentText(out, data, map[string]*pdfCMap{"/F1": c}, c, m, 1<<20)
		checkCost(t, m, 3*len(data))
		d := newPDFDoc(&extractor{ctx: context.Background(), m: m, lim: fuzzLimits, res: &Result{}}, data, "")
		d.index()
		if !utf8.ValidString(toValidUTF8(d.objectStrings())) {
			t.Fatal("invalid UTF-8")
		}
		fuzzAttachment(t, append([]byte("%PDF-1.4\n"), data...))
	})
}

func FuzzRTF(f *testing.F) {
	f.Add([]byte(`{\rtf1\ansi\ansicpg1251{\fonttbl{\f0 A;}}\'cd\u1086?\par x\bin2 ab}`))
	f.Add([]byte(`{\rtf1{\*\x{\pict 00}}\uc2\u-10\'3f\'3fz}`))
	f.Add(rtfDeepGroups(1000))
	f.Add(rtfHugeBin(200))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := newMeter(nil, time.Time{})
		if s := rtfText(data, m); !utf8.ValidString(s) {
			t.Fatalf("rtfText(%q) is not valid UTF-8", data)
		}
		checkCost(t, m, len(data))
		fuzzAttachment(t, data)
	})
}

func FuzzHTML(f *testing.F) {
	f.Add([]byte(`<p>4111<b>1111</b><!-- c --><script>x</script>&#x34;&nbsp;<img alt="a"></p>`))
	f.Add([]byte(`<svg><text>4111</text><desc>d</desc><tspan>1</tspan></svg><img src="data:text/plain;base64,NDEx"><a href="DATA:,%34%zz">`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if s := Normalize(htmlText(nil, data)); !utf8.ValidString(s) {
			t.Fatalf("htmlText(%q) is not valid UTF-8", data)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	f.Add("４１１１\u200b 1111\u00a0")
	f.Add("plain")
	f.Add("٤٥٣٢ ۴۵۳۲ ४५३२ ๔๕ ᠑᠒ 𝟒𝟓 ①")
	f.Add("bad \xff\xfe")
	f.Add("Номер счёта 4111 Ά日本語한국어\u0301 カ\u3099 À")
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q is not valid UTF-8", s, n)
		}
		if Normalize(n) != n {
			t.Fatalf("Normalize is not idempotent on %q: %q then %q", s, n, Normalize(n))
		}
		// The same as the plain definition, fast paths included.
		ref := norm.NFKC.String(strings.Map(func(r rune) rune {
			switch {
			case r == 0x2028 || r == 0x2029:
				return '\n'
			case unicode.Is(unicode.Cf, r):
				return -1
			case unicode.Is(unicode.Zs, r):
				return ' '
			case r >= 0x80 && unicode.Is(unicode.Nd, r):
				return '0' + rune(digitValue(r))
			}
			return r
		}, strings.ToValidUTF8(s, "\uFFFD")))
		if n != ref {
			t.Fatalf("Normalize(%q) = %q, want %q", s, n, ref)
		}
	})
}
