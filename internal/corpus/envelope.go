package corpus

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"strings"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"

	"github.com/maildlp/maildlp/internal/testutil"
)

// Doc is the content of one generated message before it is put into an
// envelope: a subject, header fields, prose and an optional table.
type Doc struct {
	Subject string
	Header  [][2]string // extra top-level header fields
	Body    string      // prose, lines separated by \n
	Table   [][]string  // optional; the first row is the header row
	Name    string      // base name for an attachment (no extension)
}

// Envelope is how a Doc is sent: the encoding of the body or the kind of
// attachment that carries it.
type Envelope int

const (
	Plain Envelope = iota
	QuotedPrintable
	Base64Body
	HTMLBody
	HTMLQuotedPrintable
	Alternative
	Latin1
	UTF16
	ShiftJIS
	Forwarded
	ZIP
	Gzip
	Tar
	DOCX
	XLSX
	PPTX
	ODT
	ODS
	PDF
	PDFPlain
	RTF
	CSV
	TNEF
	TextAttachment
	numEnvelopes
)

var envelopeNames = [numEnvelopes]string{
	"plain", "quoted-printable", "base64", "html", "html-qp", "multipart-alternative",
	"iso-8859-1", "utf-16", "shift_jis", "message-rfc822", "zip", "gzip", "tar", "docx",
	"xlsx", "pptx", "odt", "ods", "pdf", "pdf-plain", "rtf", "csv", "tnef", "text-attachment",
}

func (e Envelope) String() string { return envelopeNames[e] }

// Envelopes lists every envelope.
func Envelopes() []Envelope {
	out := make([]Envelope, numEnvelopes)
	for i := range out {
		out[i] = Envelope(i)
	}
	return out
}

// Text renders the prose and the table as plain text, the table as
// aligned columns.
func (d Doc) Text() string {
	var b strings.Builder
	b.WriteString(d.Body)
	if len(d.Table) > 0 {
		widths := make([]int, len(d.Table[0]))
		for _, row := range d.Table {
			for c, cell := range row {
				if c < len(widths) {
					widths[c] = max(widths[c], len([]rune(cell)))
				}
			}
		}
		b.WriteString("\n\n")
		for _, row := range d.Table {
			for c, cell := range row {
				if c > 0 {
					b.WriteString("  ")
				}
				pad := 0
				if c < len(widths) && c < len(row)-1 {
					pad = widths[c] - len([]rune(cell))
				}
				b.WriteString(cell + strings.Repeat(" ", pad))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// HTML renders the prose as paragraphs and the table as an HTML table.
func (d Doc) HTML() string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + html.EscapeString(d.Subject) + "</title></head><body>\n")
	for _, p := range strings.Split(d.Body, "\n\n") {
		b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(p), "\n", "<br>\n") + "</p>\n")
	}
	if len(d.Table) > 0 {
		b.WriteString("<table border=\"1\">\n")
		for i, row := range d.Table {
			tag := "td"
			if i == 0 {
				tag = "th"
			}
			b.WriteString("<tr>")
			for _, c := range row {
				fmt.Fprintf(&b, "<%s>%s</%s>", tag, html.EscapeString(c), tag)
			}
			b.WriteString("</tr>\n")
		}
		b.WriteString("</table>\n")
	}
	b.WriteString("</body></html>\n")
	return b.String()
}

// CSV renders the table (or the prose, one line per row) as CSV.
func (d Doc) CSV() []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	rows := d.Table
	if len(rows) == 0 {
		for _, l := range strings.Split(d.Body, "\n") {
			rows = append(rows, []string{l})
		}
	}
	w.WriteAll(rows)
	return buf.Bytes()
}

func (d Doc) lines() []string { return strings.Split(d.Text(), "\n") }

func (d Doc) name() string {
	if d.Name != "" {
		return d.Name
	}
	return "document"
}

const coverNote = "Hello,\n\nplease find the details attached.\n\nBest regards\n"

// Message renders d in envelope e as an RFC 5322 message.
func (d Doc) Message(e Envelope) []byte {
	b := testutil.NewMessage().Header("Subject", d.Subject)
	for _, h := range d.Header {
		b.Header(h[0], h[1])
	}
	text := d.Text()
	switch e {
	case Plain:
		b.Text(text)
	case QuotedPrintable:
		b.Part(part("text/plain; charset=utf-8", "quoted-printable", testutil.QP([]byte(text))))
	case Base64Body:
		b.Part(part("text/plain; charset=utf-8", "base64", testutil.Base64([]byte(text), 76)))
	case HTMLBody:
		b.HTML(d.HTML())
	case HTMLQuotedPrintable:
		b.Part(part("text/html; charset=utf-8", "quoted-printable", testutil.QP([]byte(d.HTML()))))
	case Alternative:
		b.Boundary = "=_alt_" + b.Boundary
		b.Part(testutil.MIMEPart{
			Header: [][2]string{{"Content-Type", "multipart/alternative; boundary=\"alt" + b.Boundary + "\""}},
			Body: testutil.Multipart("alt"+b.Boundary,
				part("text/plain; charset=utf-8", "quoted-printable", testutil.QP([]byte(text))),
				part("text/html; charset=utf-8", "quoted-printable", testutil.QP([]byte(d.HTML())))),
		}).Text("--\nSent from the office\n")
	case Latin1:
		enc, err := charmap.ISO8859_1.NewEncoder().String(latin1Safe(text))
		if err != nil {
			panic(err)
		}
		b.Part(part("text/plain; charset=iso-8859-1", "quoted-printable", testutil.QP([]byte(enc))))
	case UTF16:
		enc, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(text)
		if err != nil {
			panic(err)
		}
		b.Part(part("text/plain; charset=utf-16", "base64", testutil.Base64([]byte(enc), 76)))
	case ShiftJIS:
		enc, err := japanese.ShiftJIS.NewEncoder().String("お世話になっております。\n" + asciiSafe(text) + "\nよろしくお願いいたします。\n")
		if err != nil {
			panic(err)
		}
		b.Part(part("text/plain; charset=shift_jis", "base64", testutil.Base64([]byte(enc), 76)))
	case Forwarded:
		inner := testutil.NewMessage().Header("Subject", d.Subject).Header("From", "Carol Vendor <carol@vendor.example>")
		inner.Text(text)
		b.Text("FYI, see the forwarded message below.\n").Part(inner.Entity())
	case ZIP:
		b.Text(coverNote).Attach(d.name()+".zip", "application/zip", testutil.Zip(
			testutil.File{Name: d.name() + ".txt", Data: []byte(text)},
			testutil.File{Name: d.name() + ".csv", Data: d.CSV()}))
	case Gzip:
		b.Text(coverNote).Attach(d.name()+".txt.gz", "application/gzip", testutil.Gzip(d.name()+".txt", []byte(text)))
	case Tar:
		b.Text(coverNote).Attach(d.name()+".tar", "application/x-tar", testutil.Tar(
			testutil.File{Name: d.name() + "/README.txt", Data: []byte(text)},
			testutil.File{Name: d.name() + "/data.csv", Data: d.CSV()}))
	case DOCX:
		var paras [][]string
		for _, l := range d.lines() {
			paras = append(paras, []string{l})
		}
		b.Text(coverNote).Attach(d.name()+".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", testutil.DOCX(paras...))
	case XLSX:
		b.Text(d.Body).Attach(d.name()+".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", testutil.XLSX(testutil.Sheet{Name: "Sheet1", Rows: d.rows()}))
	case PPTX:
		b.Text(coverNote).Attach(d.name()+".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", testutil.PPTX(strings.Split(text, "\n\n")...))
	case ODT:
		b.Text(coverNote).Attach(d.name()+".odt", "application/vnd.oasis.opendocument.text", testutil.ODT(d.lines()...))
	case ODS:
		b.Text(d.Body).Attach(d.name()+".ods", "application/vnd.oasis.opendocument.spreadsheet", testutil.ODS(testutil.Sheet{Name: "Data", Rows: d.rows()}))
	case PDF:
		b.Text(coverNote).Attach(d.name()+".pdf", "application/pdf", testutil.PDF(asciiLines(d.lines())...))
	case PDFPlain:
		var c strings.Builder
		c.WriteString("BT /F1 10 Tf 72 760 Td\n")
		for _, l := range asciiLines(d.lines()) {
			fmt.Fprintf(&c, "(%s) Tj 0 -12 Td\n", testutil.PDFEscape(l))
		}
		c.WriteString("ET\n")
		b.Text(coverNote).Attach(d.name()+".pdf", "application/pdf", testutil.PDFPlain([]byte(c.String())))
	case RTF:
		b.Text(coverNote).Attach(d.name()+".rtf", "application/rtf", RTFDoc(d.lines()...))
	case CSV:
		b.Text(d.Body).Attach(d.name()+".csv", "text/csv", d.CSV())
	case TNEF:
		attrs := append([]testutil.TNEFAttr{testutil.TNEFBody(text)}, testutil.TNEFFile(d.name()+".csv", d.CSV())...)
		b.Text("(Outlook rich text follows)\n").Attach("winmail.dat", "application/ms-tnef", testutil.TNEF(attrs...))
	case TextAttachment:
		b.Text(coverNote).Attach(d.name()+".txt", "text/plain; charset=utf-8", []byte(text))
	default:
		panic(fmt.Sprintf("corpus: unknown envelope %d", e))
	}
	return b.Bytes()
}

// rows is the table, or the prose one line per row.
func (d Doc) rows() [][]string {
	if len(d.Table) > 0 {
		return d.Table
	}
	var rows [][]string
	for _, l := range strings.Split(d.Body, "\n") {
		rows = append(rows, []string{l})
	}
	return rows
}

func part(ct, cte string, body []byte) testutil.MIMEPart {
	return testutil.MIMEPart{Header: [][2]string{{"Content-Type", ct}, {"Content-Transfer-Encoding", cte}}, Body: body}
}

// RTFDoc builds an RTF document with one paragraph per line; characters
// outside ASCII are written as \uN? escapes.
func RTFDoc(lines ...string) []byte {
	var b strings.Builder
	b.WriteString(`{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fswiss Arial;}}\f0\fs20 `)
	for _, l := range lines {
		for _, c := range l {
			switch {
			case c == '\\' || c == '{' || c == '}':
				b.WriteString(`\` + string(c))
			case c > 127:
				fmt.Fprintf(&b, `\u%d?`, int16(c))
			default:
				b.WriteRune(c)
			}
		}
		b.WriteString("\\par\n")
	}
	b.WriteString("}")
	return []byte(b.String())
}

// latin1Safe replaces characters ISO-8859-1 cannot encode.
func latin1Safe(s string) string {
	return strings.Map(func(c rune) rune {
		if c > 0xff {
			return '?'
		}
		return c
	}, strings.ReplaceAll(s, "€", "EUR"))
}

// asciiSafe replaces characters outside ASCII (for Shift_JIS and PDF).
func asciiSafe(s string) string {
	s = strings.NewReplacer("€", "EUR", "£", "GBP", "–", "-", "—", "-", "’", "'", "“", "\"", "”", "\"").Replace(s)
	return strings.Map(func(c rune) rune {
		if c > 127 {
			return '?'
		}
		return c
	}, s)
}

func asciiLines(ls []string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = asciiSafe(l)
	}
	return out
}
