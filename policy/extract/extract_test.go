package extract

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/testutil"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/unicode/norm"
)

// run extracts msg with lim and fails the test on an error.
func run(t testing.TB, msg []byte, lim Limits) *Result {
	t.Helper()
	res, err := Extract(context.Background(), bytes.NewReader(msg), lim)
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	return res
}

// textAt returns the text of all parts at loc, joined by line breaks.
func textAt(res *Result, loc string) (string, bool) {
	var b []string
	found := false
	for _, p := range res.Parts {
		if p.Location == loc {
			b = append(b, p.Text)
			found = true
		}
	}
	return strings.Join(b, "\n"), found
}

func dump(res *Result) string {
	var b strings.Builder
	for _, p := range res.Parts {
		b.WriteString("  part " + p.Location + " [" + p.MIMEType + "]: " + strings.ReplaceAll(p.Text, "\n", `\n`) + "\n")
	}
	for _, u := range res.Unscannable {
		b.WriteString("  unscannable " + u.Location + " " + string(u.Reason) + " (" + u.Detail + ")\n")
	}
	return b.String()
}

// want is a text expected in the part at loc.
type want struct{ loc, text string }

func checkParts(t *testing.T, res *Result, wants []want) {
	t.Helper()
	for _, w := range wants {
		got, ok := textAt(res, w.loc)
		if !ok {
			t.Errorf("no part at %q; got:\n%s", w.loc, dump(res))
			continue
		}
		if !strings.Contains(got, w.text) {
			t.Errorf("part %q = %q, want it to contain %q", w.loc, got, w.text)
		}
	}
}

func hasUnscannable(res *Result, loc string, r Reason) bool {
	for _, u := range res.Unscannable {
		if u.Location == loc && u.Reason == r {
			return true
		}
	}
	return false
}

func part(ctype, cte string, body []byte, extra ...[2]string) testutil.MIMEPart {
	h := [][2]string{{"Content-Type", ctype}}
	if cte != "" {
		h = append(h, [2]string{"Content-Transfer-Encoding", cte})
	}
	return testutil.MIMEPart{Header: append(h, extra...), Body: body}
}

func encode(t testing.TB, s string, encode func([]byte) ([]byte, error)) []byte {
	t.Helper()
	b, err := encode([]byte(s))
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return b
}

const card = "4111111111111111"

func TestExtractMIME(t *testing.T) {
	latin1 := encode(t, "Kartennummer für Müller: "+card, charmap.ISO8859_1.NewEncoder().Bytes)
	win1251 := encode(t, "Номер карты "+card, charmap.Windows1251.NewEncoder().Bytes)
	koi8 := encode(t, "Номер карты "+card, charmap.KOI8R.NewEncoder().Bytes)
	sjis := encode(t, "カード番号 "+card, japanese.ShiftJIS.NewEncoder().Bytes)
	gb := encode(t, "卡号 "+card, simplifiedchinese.GB18030.NewEncoder().Bytes)
	u16leBOM := encode(t, "card "+card, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes)
	u16beBOM := encode(t, "card "+card, unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().Bytes)
	u16le := encode(t, "card "+card, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewEncoder().Bytes)
	u16be := encode(t, "card "+card, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewEncoder().Bytes)

	tests := []struct {
		name  string
		msg   []byte
		wants []want
	}{
		{"plain body", testutil.Message("card " + card), []want{{"body", "card " + card}, {"header:Subject", "test message"}}},
		{"subject RFC 2047 B and Q split across words",
			testutil.NewMessage().Header("Subject", "=?UTF-8?B?S2FydGUgNDExMTExMTE=?= =?ISO-8859-1?Q?11111111_f=FCr?=").Text("x").Bytes(),
			[]want{{"header:Subject", "Karte " + card + " für"}}},
		{"display names decoded",
			testutil.NewMessage().Header("From", "=?UTF-8?Q?J=C3=B6rg_4111?= <j@example.com>").Header("Cc", `"Ann" <a@example.com>, =?UTF-8?B?QsO2Yg==?= <b@example.com>`).Text("x").Bytes(),
			[]want{{"header:From", "Jörg 4111 <j@example.com>"}, {"header:Cc", "Böb <b@example.com>"}}},
		{"custom X- header scanned", testutil.NewMessage().Header("X-Account", card).Text("x").Bytes(), []want{{"header:X-Account", card}}},
		{"base64 with junk and bad line lengths",
			testutil.NewMessage().Part(part("text/plain; charset=utf-8", "base64", []byte("Y2FyZCA0MTEx\r\nMTEx!!MTEx\r\n  MTEx *MTEx\r\nMQ=="))).Bytes(),
			[]want{{"body", "card " + card}}},
		{"quoted-printable soft break splits a number",
			testutil.NewMessage().Part(part("text/plain; charset=utf-8", "quoted-printable", []byte("card 41111111=\r\n1111=311=31=\r\n1"))).Bytes(),
			[]want{{"body", "card " + card}}},
		{"quoted-printable bad escape kept", testutil.NewMessage().Part(part("text/plain", "quoted-printable", []byte("a =ZZ b "+card))).Bytes(), []want{{"body", "=ZZ b " + card}}},
		{"8bit utf-8", testutil.NewMessage().Part(part("text/plain; charset=utf-8", "8bit", []byte("Größe "+card))).Bytes(), []want{{"body", "Größe " + card}}},
		{"binary", testutil.NewMessage().Part(part("text/plain", "binary", []byte("x "+card))).Bytes(), []want{{"body", "x " + card}}},
		{"iso-8859-1", testutil.NewMessage().Part(part("text/plain; charset=iso-8859-1", "8bit", latin1)).Bytes(), []want{{"body", "für Müller: " + card}}},
		{"windows-1251", testutil.NewMessage().Part(part("text/plain; charset=windows-1251", "8bit", win1251)).Bytes(), []want{{"body", "Номер карты " + card}}},
		{"koi8-r", testutil.NewMessage().Part(part("text/plain; charset=koi8-r", "8bit", koi8)).Bytes(), []want{{"body", "Номер карты " + card}}},
		{"shift_jis", testutil.NewMessage().Part(part("text/plain; charset=shift_jis", "base64", testutil.Base64(sjis, 76))).Bytes(), []want{{"body", "カード番号 " + card}}},
		{"gb18030", testutil.NewMessage().Part(part("text/plain; charset=gb18030", "base64", testutil.Base64(gb, 76))).Bytes(), []want{{"body", "卡号 " + card}}},
		{"utf-16le with BOM", testutil.NewMessage().Part(part("text/plain; charset=utf-16", "base64", testutil.Base64(u16leBOM, 76))).Bytes(), []want{{"body", "card " + card}}},
		{"utf-16be with BOM", testutil.NewMessage().Part(part("text/plain; charset=utf-16", "base64", testutil.Base64(u16beBOM, 76))).Bytes(), []want{{"body", "card " + card}}},
		{"utf-16le no BOM", testutil.NewMessage().Part(part("text/plain; charset=utf-16", "base64", testutil.Base64(u16le, 76))).Bytes(), []want{{"body", "card " + card}}},
		{"utf-16be declared no BOM", testutil.NewMessage().Part(part("text/plain; charset=utf-16be", "base64", testutil.Base64(u16be, 76))).Bytes(), []want{{"body", "card " + card}}},
		{"undeclared utf-16le sniffed", testutil.NewMessage().Part(part("text/plain", "base64", testutil.Base64(u16le, 76))).Bytes(), []want{{"body", "card " + card}}},
		{"undeclared 8-bit read as windows-1252", testutil.NewMessage().Part(part("text/plain", "8bit", latin1)).Bytes(), []want{{"body", "für Müller: " + card}}},
		{"fullwidth digits and zero-width chars normalised",
			testutil.Message("card ４１１１\u200b1111\u00a01111\u20601111"),
			[]want{{"body", "card 41111111 11111111"}}},
		{"multipart alternative",
			testutil.NewMessage().Part(part(`multipart/alternative; boundary="alt"`, "", testutil.Multipart("alt",
				part("text/plain; charset=utf-8", "", []byte("plain "+card)),
				part("text/html; charset=utf-8", "", []byte("<p>html <b>"+card+"</b></p>"))))).Attach("notes.txt", "text/plain", []byte("att "+card)).Bytes(),
			[]want{{"part 1.1 (text/plain)", "plain " + card}, {"part 1.2 (text/html)", "html " + card}, {`attachment "notes.txt"`, "att " + card}}},
		{"attachment filename RFC 2231 utf-8 continuation",
			testutil.NewMessage().Text("x").Part(part("application/octet-stream", "base64", testutil.Base64([]byte("n "+card), 76),
				[2]string{"Content-Disposition", "attachment; filename*0*=UTF-8''r%C3%A9sum; filename*1*=%C3%A9.txt"})).Bytes(),
			[]want{{`attachment "résumé.txt"`, "n " + card}}},
		{"attachment filename RFC 2231 iso-8859-1",
			testutil.NewMessage().Text("x").Part(part("application/octet-stream", "base64", testutil.Base64([]byte("n "+card), 76),
				[2]string{"Content-Disposition", "attachment; filename*=iso-8859-1''r%E9sum%E9.txt"})).Bytes(),
			[]want{{`attachment "résumé.txt"`, "n " + card}}},
		{"attachment filename RFC 2047", testutil.NewMessage().Text("x").Part(part(`text/plain; name="=?UTF-8?Q?d=C3=A4ta.txt?="`, "", []byte("n "+card))).Bytes(),
			[]want{{`attachment "däta.txt"`, "n " + card}}},
		{"forwarded message/rfc822",
			testutil.NewMessage().Text("see below").Part(testutil.NewMessage().Header("Subject", "fwd "+card).Text("inner " + card).Entity()).Bytes(),
			[]want{{"part 2 (message/rfc822) > header:Subject", "fwd " + card}, {"part 2 (message/rfc822) > body", "inner " + card}}},
		{"uuencoded block in body",
			testutil.Message("hello\nbegin 644 card.txt\n" + uuencode("secret "+card) + "`\nend\nbye"),
			[]want{{"body", "hello"}, {"body", "bye"}, {`body > uuencoded "card.txt"`, "secret " + card}}},
		{"x-uuencode transfer encoding", testutil.NewMessage().Part(part("text/plain", "x-uuencode", []byte("begin 644 a.txt\n"+uuencode("x "+card)+"`\nend\n"))).Bytes(),
			[]want{{"body", "x " + card}}},
		{"zip sent as image/png is read as zip",
			testutil.NewMessage().Text("x").Attach("photo.png", "image/png", testutil.Zip(testutil.File{Name: "list.csv", Data: []byte("name,card\nann," + card + "\n")})).Bytes(),
			[]want{{`attachment "photo.png" > "list.csv"`, "ann," + card}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, tc.msg, Limits{})
			checkParts(t, res, tc.wants)
			if len(res.Unscannable) > 0 {
				t.Errorf("unexpected unscannable:\n%s", dump(res))
			}
		})
	}
}

// uuencode encodes s as uuencode body lines (without begin/end).
func uuencode(s string) string {
	var b strings.Builder
	data := []byte(s)
	for len(data) > 0 {
		n := min(45, len(data))
		chunk := data[:n]
		data = data[n:]
		b.WriteByte(byte(' ' + n))
		for i := 0; i < n; i += 3 {
			var c [3]byte
			copy(c[:], chunk[i:min(i+3, n)])
			for _, v := range []byte{c[0] >> 2, (c[0]<<4 | c[1]>>4) & 63, (c[1]<<2 | c[2]>>6) & 63, c[2] & 63} {
				if v == 0 {
					b.WriteByte('`')
				} else {
					b.WriteByte(' ' + v)
				}
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestHeaderFields(t *testing.T) {
	res := run(t, testutil.NewMessage().Header("Subject", "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=").Text("x").Bytes(), Limits{})
	var got string
	for _, h := range res.Header {
		if h.Name == "Subject" {
			got = h.Value
		}
	}
	if got != "Grüße" {
		t.Errorf("Header Subject = %q, want %q", got, "Grüße")
	}
	if len(res.Header) < 5 {
		t.Errorf("Header has %d fields, want all top-level fields: %v", len(res.Header), res.Header)
	}
}

func TestMalformedMIME(t *testing.T) {
	tests := []struct {
		name  string
		msg   string
		wants []want
	}{
		{"missing end boundary",
			"Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfirst " + card + "\r\n--b\r\nContent-Type: text/plain\r\n\r\nsecond " + card + " no end",
			[]want{{"part 1 (text/plain)", "first " + card}, {"part 2 (text/plain)", "second " + card + " no end"}}},
		{"boundary parameter missing: guessed",
			"Subject: x\r\nContent-Type: multipart/mixed\r\n\r\n--zz\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nY2FyZCA0MTExMTExMTExMTExMTEx\r\n--zz--\r\n",
			[]want{{"part 1 (text/plain)", "card " + card}}},
		{"wrong boundary: raw text scanned",
			"Subject: x\r\nContent-Type: multipart/mixed; boundary=nope\r\n\r\nno parts here " + card + "\r\n",
			[]want{{"body", "no parts here " + card}}},
		{"header line without colon",
			"Subject: x\r\nthis line is broken " + card + "\r\nContent-Type: text/plain\r\n\r\nbody " + card,
			[]want{{"header (malformed)", "broken " + card}, {"body", "body " + card}, {"header:Subject", "x"}}},
		{"no header at all", card + " only text\r\nsecond line",
			[]want{{"header (malformed)", card + " only text"}}},
		{"bare LF", "Subject: lf\nContent-Type: text/plain\n\nbody " + card + "\n", []want{{"body", "body " + card}}},
		{"bad content-type parameter",
			"Subject: x\r\nContent-Type: text/plain; charset\r\n\r\nbody " + card,
			[]want{{"body", "body " + card}}},
		{"preamble and epilogue scanned",
			"Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\npre " + card + "\r\n--b\r\n\r\nmid\r\n--b--\r\npost " + card + "\r\n",
			[]want{{"body > preamble", "pre " + card}, {"body > epilogue", "post " + card}, {"part 1 (text/plain)", "mid"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkParts(t, run(t, []byte(tc.msg), Limits{}), tc.wants)
		})
	}
}

func TestHTML(t *testing.T) {
	tests := []struct{ name, html, want string }{
		{"named decimal hex entities", "<p>&#52;&#x31;11&nbsp;1111 1111 111&#49; &amp; caf&eacute;</p>", "4111 1111 1111 1111 & café"},
		{"inline tags do not split", "<p>4111<b>1111</b>1111 1111</p>", "411111111111 1111"},
		{"spans", "<div><span>4111</span><span>1111</span><span>1111</span><span>1111</span></div>", card},
		{"comment inside number", "<p>4111<!-- x -->1111111<!---->11111</p>", card + "\n\n x "},
		{"script and style scanned apart", "<style>.a{}</style><script>var x='9999';</script><p>ok</p>", "ok\n\n.a{}\nvar x='9999';"},
		{"block tags separate", "<div>4111</div><div>1111</div>", "4111\n1111"},
		{"table cells separate", "<table><tr><td>a</td><td>b</td></tr></table>", "a\tb"},
		{"hidden filler does not split", `<p>4111<span style="display: none">99</span>1111<font style="FONT-SIZE:0px">x</font>1111<i hidden>y</i>1111</p>`, card + "\n\n99\nx\ny"},
		{"hidden unknown element ends at its end tag", `<p>41<span style="visibility:hidden"><span>7</span>8</span>11</p>`, "4111\n\n78"},
		{"visible small font kept in place", `<p>41<span style="font-size:0.9em">11</span></p>`, "4111"},
		{"alt and title attributes", `<img alt="card 4111111111111111"><a title="t1" href="mailto:x@example.com">x</a>`, "card " + card},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, testutil.NewMessage().HTML(tc.html).Bytes(), Limits{})
			got, _ := textAt(res, "body")
			if !strings.Contains(got, tc.want) {
				t.Errorf("htmlText(%q) = %q, want it to contain %q", tc.html, got, tc.want)
			}
			if first, _, _ := strings.Cut(got, "\n\n"); strings.Contains(first, "9999") || strings.Contains(first, ".a{}") || strings.Contains(first, " x ") {
				t.Errorf("htmlText(%q) = %q: script, style or comment in the visible text", tc.html, got)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain ascii 4111", "plain ascii 4111"},
		{"４１１１", "4111"},
		{"41\u200b11\u200c11\u200d11\ufeff\u2060", "41111111"},
		{"a\u00a0b\u2009c\u202fd\u3000e", "a b c d e"},
		{"soft\u00adhyphen", "softhyphen"},
		{"line\u2028sep", "line\nsep"},
		{"ﬁ", "fi"},
		{"caf\u0065\u0301", "café"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
	}
	for _, tc := range tests {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalizeASCIIDoesNotAllocate(t *testing.T) {
	s := strings.Repeat("Invoice 4111 1111 1111 1111 due. ", 100)
	if n := testing.AllocsPerRun(100, func() { Normalize(s) }); n != 0 {
		t.Errorf("Normalize(ascii) allocated %v times, want 0", n)
	}
}

func TestCancelledContextIsError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Extract(ctx, bytes.NewReader(testutil.Message("x")), Limits{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Extract(cancelled) error = %v, want context.Canceled", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReadErrorIsError(t *testing.T) {
	if _, err := Extract(context.Background(), failingReader{}, Limits{}); err == nil {
		t.Error("Extract(failing reader) error = nil, want the read error")
	}
}

func TestNFKCInert(t *testing.T) {
	for r := rune(0x80); r <= 0xFFFF; r++ {
		if !nfkcInert(r) {
			continue
		}
		s := string(r)
		p := norm.NFKC.PropertiesString(s)
		// Normal alone, and never combining with what precedes it: a
		// string of such runes is its own NFKC form.
		if !norm.NFKC.IsNormalString(s) || !p.BoundaryBefore() || p.CCC() != 0 {
			t.Errorf("nfkcInert(%U) = true, but NFKC may change or combine it", r)
		}
	}
}
