package testutil

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"fmt"
	"html"
	"mime/quotedprintable"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Message returns a small, well-formed text/plain message with body.
func Message(body string) []byte {
	return NewMessage().Text(body).Bytes()
}

// MessageBuilder builds RFC 5322 messages for tests, readable in place of
// opaque .eml blobs. A message with one part and no attachment is a single
// part message; otherwise it is multipart/mixed.
type MessageBuilder struct {
	headers  [][2]string
	parts    []MIMEPart
	Boundary string
}

// MIMEPart is one part of a built message. Body is written as it is, so
// encode it first (see Base64, QP) and say so in Header.
type MIMEPart struct {
	Header [][2]string
	Body   []byte
}

// NewMessage starts a message with From, To, Subject, Date and Message-ID.
func NewMessage() *MessageBuilder {
	return &MessageBuilder{
		headers: [][2]string{
			{"From", "Alice Sender <alice@example.com>"},
			{"To", "Bob Receiver <bob@example.net>"},
			{"Subject", "test message"},
			{"Date", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Format(time.RFC1123Z)},
			{"Message-ID", "<test-1@example.com>"},
		},
		Boundary: fmt.Sprintf("=_boundary_%04d", boundaries.Add(1)),
	}
}

// boundaries numbers the builders' boundaries, so that a message nested
// in another never shares its boundary.
var boundaries atomic.Int64

// Header sets a top-level header field, replacing one of the same name.
func (b *MessageBuilder) Header(k, v string) *MessageBuilder {
	for i, h := range b.headers {
		if strings.EqualFold(h[0], k) {
			b.headers[i][1] = v
			return b
		}
	}
	b.headers = append(b.headers, [2]string{k, v})
	return b
}

// Text adds a text/plain UTF-8 part.
func (b *MessageBuilder) Text(s string) *MessageBuilder {
	return b.Part(MIMEPart{Header: [][2]string{{"Content-Type", "text/plain; charset=utf-8"}, {"Content-Transfer-Encoding", "8bit"}}, Body: []byte(s)})
}

// HTML adds a text/html UTF-8 part.
func (b *MessageBuilder) HTML(s string) *MessageBuilder {
	return b.Part(MIMEPart{Header: [][2]string{{"Content-Type", "text/html; charset=utf-8"}, {"Content-Transfer-Encoding", "8bit"}}, Body: []byte(s)})
}

// Attach adds a base64-encoded attachment.
func (b *MessageBuilder) Attach(name, contentType string, data []byte) *MessageBuilder {
	return b.Part(MIMEPart{
		Header: [][2]string{
			{"Content-Type", contentType + "; name=" + strconv.Quote(name)},
			{"Content-Disposition", "attachment; filename=" + strconv.Quote(name)},
			{"Content-Transfer-Encoding", "base64"},
		},
		Body: Base64(data, 76),
	})
}

// Part adds a part as given.
func (b *MessageBuilder) Part(p MIMEPart) *MessageBuilder {
	b.parts = append(b.parts, p)
	return b
}

// Bytes renders the message with CRLF line ends in the header.
func (b *MessageBuilder) Bytes() []byte {
	var w bytes.Buffer
	for _, h := range b.headers {
		fmt.Fprintf(&w, "%s: %s\r\n", h[0], h[1])
	}
	w.WriteString("MIME-Version: 1.0\r\n")
	if len(b.parts) == 1 {
		writePart(&w, b.parts[0])
		return w.Bytes()
	}
	fmt.Fprintf(&w, "Content-Type: multipart/mixed; boundary=%q\r\n\r\n", b.Boundary)
	w.Write(Multipart(b.Boundary, b.parts...))
	return w.Bytes()
}

// Entity renders the message as a MIMEPart, e.g. to nest it in another
// message as message/rfc822.
func (b *MessageBuilder) Entity() MIMEPart {
	return MIMEPart{Header: [][2]string{{"Content-Type", "message/rfc822"}}, Body: b.Bytes()}
}

func writePart(w *bytes.Buffer, p MIMEPart) {
	for _, h := range p.Header {
		fmt.Fprintf(w, "%s: %s\r\n", h[0], h[1])
	}
	w.WriteString("\r\n")
	w.Write(p.Body)
}

// Multipart renders parts as a multipart body with boundary, ending with
// the closing boundary line.
func Multipart(boundary string, parts ...MIMEPart) []byte {
	var w bytes.Buffer
	for _, p := range parts {
		fmt.Fprintf(&w, "--%s\r\n", boundary)
		writePart(&w, p)
		w.WriteString("\r\n")
	}
	fmt.Fprintf(&w, "--%s--\r\n", boundary)
	return w.Bytes()
}

// Base64 encodes data in lines of lineLen characters (0: one line).
func Base64(data []byte, lineLen int) []byte {
	enc := base64.StdEncoding.EncodeToString(data)
	if lineLen <= 0 {
		return []byte(enc)
	}
	var w bytes.Buffer
	for len(enc) > lineLen {
		w.WriteString(enc[:lineLen])
		w.WriteString("\r\n")
		enc = enc[lineLen:]
	}
	w.WriteString(enc)
	return w.Bytes()
}

// QP encodes data as quoted-printable.
func QP(data []byte) []byte {
	var w bytes.Buffer
	q := quotedprintable.NewWriter(&w)
	q.Write(data)
	q.Close()
	return w.Bytes()
}

// File is an archive member.
type File struct {
	Name string
	Data []byte
	// Store writes the member uncompressed (ZIP only).
	Store bool
	// Encrypted sets the ZIP "encrypted" flag (the data is not encrypted).
	Encrypted bool
}

// Zip builds a ZIP archive.
func Zip(files ...File) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate}
		h.Modified = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if f.Store {
			h.Method = zip.Store
		}
		if f.Encrypted {
			h.Flags |= 0x1
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			panic(err)
		}
		w.Write(f.Data)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Gzip compresses data, recording name in the gzip header if not empty.
func Gzip(name string, data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Name = name
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

// Tar builds a tar archive of regular files.
func Tar(files ...File) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		tw.WriteHeader(&tar.Header{Name: f.Name, Mode: 0o644, Size: int64(len(f.Data)), Typeflag: tar.TypeReg, ModTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
		tw.Write(f.Data)
	}
	tw.Close()
	return buf.Bytes()
}

const contentTypesXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>`

// DOCX builds a Word document; each paragraph is a list of runs, so a
// value can be split across runs as Word does.
func DOCX(paragraphs ...[]string) []byte {
	var body strings.Builder
	for _, p := range paragraphs {
		body.WriteString("<w:p>")
		for _, r := range p {
			fmt.Fprintf(&body, `<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">%s</w:t></w:r>`, html.EscapeString(r))
		}
		body.WriteString("</w:p>")
	}
	doc := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` + body.String() + `</w:body></w:document>`
	return Zip(
		File{Name: "[Content_Types].xml", Data: []byte(contentTypesXML)},
		File{Name: "word/document.xml", Data: []byte(doc)},
	)
}

// Sheet is a spreadsheet tab. A cell that parses as a number is stored as
// a numeric cell, anything else as a shared string.
type Sheet struct {
	Name string
	Rows [][]string
}

// XLSX builds an Excel workbook.
func XLSX(sheets ...Sheet) []byte {
	var shared []string
	index := map[string]int{}
	files := []File{{Name: "[Content_Types].xml", Data: []byte(contentTypesXML)}}
	var wb, rels strings.Builder
	wb.WriteString(`<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`)
	rels.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	for i, sh := range sheets {
		var x strings.Builder
		x.WriteString(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
		for r, row := range sh.Rows {
			fmt.Fprintf(&x, `<row r="%d">`, r+1)
			for c, cell := range row {
				ref := string(rune('A'+c)) + strconv.Itoa(r+1)
				if _, err := strconv.ParseFloat(cell, 64); err == nil {
					fmt.Fprintf(&x, `<c r="%s"><v>%s</v></c>`, ref, cell)
					continue
				}
				n, ok := index[cell]
				if !ok {
					n = len(shared)
					index[cell] = n
					shared = append(shared, cell)
				}
				fmt.Fprintf(&x, `<c r="%s" t="s"><v>%d</v></c>`, ref, n)
			}
			x.WriteString(`</row>`)
		}
		x.WriteString(`</sheetData></worksheet>`)
		files = append(files, File{Name: fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1), Data: []byte(x.String())})
		fmt.Fprintf(&wb, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, html.EscapeString(sh.Name), i+1, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, i+1, i+1)
	}
	wb.WriteString(`</sheets></workbook>`)
	rels.WriteString(`</Relationships>`)
	var ss strings.Builder
	fmt.Fprintf(&ss, `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d">`, len(shared))
	for _, s := range shared {
		fmt.Fprintf(&ss, `<si><t>%s</t></si>`, html.EscapeString(s))
	}
	ss.WriteString(`</sst>`)
	files = append(files,
		File{Name: "xl/workbook.xml", Data: []byte(wb.String())},
		File{Name: "xl/_rels/workbook.xml.rels", Data: []byte(rels.String())},
		File{Name: "xl/sharedStrings.xml", Data: []byte(ss.String())},
	)
	return Zip(files...)
}

// PPTX builds a presentation with one text box per slide.
func PPTX(slides ...string) []byte {
	files := []File{
		{Name: "[Content_Types].xml", Data: []byte(contentTypesXML)},
		{Name: "ppt/presentation.xml", Data: []byte(`<?xml version="1.0"?><p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>`)},
	}
	for i, s := range slides {
		x := `<?xml version="1.0"?><p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>` +
			html.EscapeString(s) + `</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>`
		files = append(files, File{Name: fmt.Sprintf("ppt/slides/slide%d.xml", i+1), Data: []byte(x)})
	}
	return Zip(files...)
}

func odf(mimeType, body string, encrypted bool) []byte {
	manifest := `<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">`
	if encrypted {
		manifest += `<manifest:encryption-data manifest:checksum-type="SHA1"/>`
	}
	manifest += `</manifest:file-entry></manifest:manifest>`
	content := `<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body>` + body + `</office:body></office:document-content>`
	return Zip(
		File{Name: "mimetype", Data: []byte(mimeType), Store: true},
		File{Name: "META-INF/manifest.xml", Data: []byte(manifest)},
		File{Name: "content.xml", Data: []byte(content)},
	)
}

// ODT builds an OpenDocument text with one paragraph per argument.
func ODT(paragraphs ...string) []byte {
	var b strings.Builder
	b.WriteString("<office:text>")
	for _, p := range paragraphs {
		fmt.Fprintf(&b, "<text:p>%s</text:p>", html.EscapeString(p))
	}
	b.WriteString("</office:text>")
	return odf("application/vnd.oasis.opendocument.text", b.String(), false)
}

// ODTEncrypted builds an OpenDocument text whose manifest marks it
// encrypted.
func ODTEncrypted() []byte {
	return odf("application/vnd.oasis.opendocument.text", "<office:text><text:p>x</text:p></office:text>", true)
}

// ODS builds an OpenDocument spreadsheet.
func ODS(sheets ...Sheet) []byte {
	var b strings.Builder
	b.WriteString("<office:spreadsheet>")
	for _, sh := range sheets {
		fmt.Fprintf(&b, `<table:table table:name="%s">`, html.EscapeString(sh.Name))
		for _, row := range sh.Rows {
			b.WriteString("<table:table-row>")
			for _, c := range row {
				fmt.Fprintf(&b, "<table:table-cell><text:p>%s</text:p></table:table-cell>", html.EscapeString(c))
			}
			b.WriteString("</table:table-row>")
		}
		b.WriteString("</table:table>")
	}
	b.WriteString("</office:spreadsheet>")
	return odf("application/vnd.oasis.opendocument.spreadsheet", b.String(), false)
}

// PDF builds a one-page PDF whose Flate-compressed content stream shows
// each line with Tj.
func PDF(lines ...string) []byte {
	var c strings.Builder
	c.WriteString("BT /F1 12 Tf 72 720 Td\n")
	for i, l := range lines {
		if i > 0 {
			c.WriteString("0 -14 Td\n")
		}
		fmt.Fprintf(&c, "(%s) Tj\n", PDFEscape(l))
	}
	c.WriteString("ET\n")
	return PDFContent([]byte(c.String()), "")
}

// PDFEscape escapes a string for a PDF literal string.
func PDFEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`)
	return r.Replace(s)
}

// PDFContent builds a one-page PDF with the given content stream operators
// (Flate-compressed). trailer adds entries to the trailer dictionary, e.g.
// "/Encrypt 9 0 R".
func PDFContent(content []byte, trailer string) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(content)
	zw.Close()
	return pdfPage(fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", z.Len(), z.String()), trailer)
}

// PDFPlain builds a one-page PDF whose content stream is not compressed.
func PDFPlain(content []byte) []byte {
	return pdfPage(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content), "")
}

// pdfPage writes a one-page PDF with a Helvetica font around the content
// stream object, with a correct cross-reference table.
func pdfPage(stream, trailer string) []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		stream,
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var w bytes.Buffer
	w.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = w.Len()
		fmt.Fprintf(&w, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := w.Len()
	fmt.Fprintf(&w, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&w, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&w, "trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, trailer, xref)
	return w.Bytes()
}

// TNEFAttr is one attribute of a TNEF (winmail.dat) stream.
type TNEFAttr struct {
	Level byte // 1 message, 2 attachment
	ID    uint32
	Data  []byte
}

// TNEF builds a TNEF stream from attributes (see TNEFBody, TNEFFile).
func TNEF(attrs ...TNEFAttr) []byte {
	var w bytes.Buffer
	le := func(v uint32) { w.Write([]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}) }
	le(0x223E9F78)
	w.Write([]byte{0x01, 0x00}) // key
	for _, a := range attrs {
		w.WriteByte(a.Level)
		le(a.ID)
		le(uint32(len(a.Data)))
		w.Write(a.Data)
		var sum uint16
		for _, c := range a.Data {
			sum += uint16(c)
		}
		w.Write([]byte{byte(sum), byte(sum >> 8)})
	}
	return w.Bytes()
}

// TNEFBody is a plain-text message body attribute (attBody).
func TNEFBody(text string) TNEFAttr { return TNEFAttr{Level: 1, ID: 0x0001800C, Data: []byte(text)} }

// TNEFFile is the attributes of one attachment: rendering data, title and
// data.
func TNEFFile(name string, data []byte) []TNEFAttr {
	return []TNEFAttr{
		{Level: 2, ID: 0x00069002, Data: make([]byte, 14)},
		{Level: 2, ID: 0x00018010, Data: append([]byte(name), 0)},
		{Level: 2, ID: 0x0006800F, Data: data},
	}
}

// MAPIBinary is a MAPI property list (for attMsgProps, id 0x00069003)
// with one binary property, e.g. PR_RTF_COMPRESSED (0x1009).
func MAPIBinary(propID uint16, value []byte) []byte {
	var w bytes.Buffer
	le32 := func(v uint32) { w.Write([]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}) }
	le32(1)                                                      // count
	w.Write([]byte{0x02, 0x01, byte(propID), byte(propID >> 8)}) // type PT_BINARY, id
	le32(1)                                                      // values
	le32(uint32(len(value)))
	w.Write(value)
	for w.Len()%4 != 0 {
		w.WriteByte(0)
	}
	return w.Bytes()
}
