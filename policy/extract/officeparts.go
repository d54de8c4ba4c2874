package extract

import (
	"bytes"
	"strings"

	"github.com/gabriel-vasile/mimetype"
)

// An OOXML or ODF document is a ZIP archive: besides the members that make
// its text (document body, slides, sheets) it holds embedded workbooks and
// documents, charts, custom XML, properties, comments, notes, masters,
// macros and pictures. Any of them can carry data, and a reader opens
// them all (double-click the embedded workbook, look at the chart data),
// so after the document's text every other member is read as an archive
// member is: within the part, depth and member limits, nested documents
// and archives at the next depth.

// rest reads the members the document's text did not read, in archive
// order. The document is at depth; its members are at depth+1.
func (d *doc) rest(depth int) {
	for _, f := range d.zr.File {
		if d.e.stopped {
			return
		}
		// A name listed twice is two members, and both are read: the
		// document's text took one of them, a reader may open the other.
		if strings.HasSuffix(f.Name, "/") || d.done[f] {
			continue
		}
		d.done[f] = true
		if d.read >= d.e.lim.MaxArchiveMembers {
			d.open(f, "") // records the limit, once
			return
		}
		loc := join(d.src.loc, quoteName(f.Name))
		if !d.e.enter(loc, depth+1) {
			continue
		}
		data, ok := d.open(f, loc)
		if !ok {
			continue
		}
		d.part(f.Name, loc, data, depth+1)
	}
}

// part reads one member: a worksheet with the workbook's shared strings,
// other XML with the generic reader, binary data by its type as an
// archive member (nested documents and archives are opened).
func (d *doc) part(name, loc string, data []byte, depth int) {
	defer d.e.alive(loc) // records the deadline if a reader stopped at it
	p := Part{Location: loc, Kind: KindAttachment, Filename: name, Size: int64(len(data))}
	if isMarkup(data) {
		switch {
		case d.kind == kindXLSX && isWorksheet(name):
			d.sheetPart(loc, data)
			return
		case hasXMLName(name):
			p.MIMEType = "application/xml"
			d.e.emit(p, anyXMLText(d.e.m, data))
			return
		}
	}
	if t := baseType(mimetype.Detect(data).String()); t == "application/octet-stream" {
		// A binary part of the format (printer settings, obfuscated
		// fonts): its strings are its only text. Reported unsupported,
		// every Office file would be.
		p.MIMEType = t
		d.e.emit(p, binaryStrings(data, d.e.m))
		return
	}
	d.e.content(data, source{loc: loc, name: name, kind: KindAttachment}, depth)
}

// isWorksheet reports the members that hold a workbook's sheets (not
// their relationships, under xl/worksheets/_rels/).
func isWorksheet(name string) bool {
	rest, ok := strings.CutPrefix(name, "xl/worksheets/")
	return ok && !strings.Contains(rest, "/") && strings.HasSuffix(rest, ".xml")
}

// hasXMLName reports the member names of XML parts.
func hasXMLName(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".xml") || strings.HasSuffix(n, ".rels") || strings.HasSuffix(n, ".vml")
}

// isMarkup reports whether data starts like XML: '<' after an optional
// byte order mark and white space. A member named .xml that holds an
// archive is read as what it is.
func isMarkup(data []byte) bool {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	data = bytes.TrimLeft(data[:min(len(data), 512)], " \t\r\n")
	return len(data) > 0 && data[0] == '<'
}

// xmlInline are the run-level elements of OOXML and ODF: their text
// continues the text around them ("41<w:r><w:t>11</w:t></w:r>" is 4111).
// Every other element ends a line, so that the values of unrelated
// elements do not run together.
var xmlInline = map[string]bool{
	"w:r": true, "w:t": true, "w:delText": true, "w:ins": true, "w:del": true,
	"w:hyperlink": true, "w:smartTag": true, "w:fldSimple": true, "w:rPr": true,
	"w:proofErr": true, "w:instrText": true, "w:fldChar": true, "w:delInstrText": true, "w:bookmarkStart": true, "w:bookmarkEnd": true,
	"a:r": true, "a:t": true, "a:fld": true, "a:rPr": true,
	"text:span": true, "text:a": true, "text:s": true, "text:soft-page-break": true,
	"text:bookmark": true, "text:bookmark-start": true, "text:bookmark-end": true,
}

// anyXMLText reads any XML as text: the character data, a line break at the
// start and end of each element that is not a run (tabs for table cells and tab
// elements), then the attribute values, each alone between blank lines
// so that unrelated values cannot form one number.
func anyXMLText(m *meter, data []byte) string {
	s := xmlScanner{b: data, m: m}
	var t xmlToken
	out := make([]byte, 0, len(data)/4)
	var attrs []byte
	for s.next(&t) {
		if t.kind == xmlText {
			if t.cdata {
				out = append(out, t.text...)
			} else {
				out = appendUnescaped(out, t.text)
			}
			continue
		}
		if t.kind != xmlEnd {
			attrs = appendAttrValues(attrs, t.attrs, 1)
		}
		name := string(t.name)
		if xmlInline[name] {
			continue
		}
		c := byte('\n')
		if name == "w:tab" || name == "w:tc" || name == "a:tab" || name == "a:tc" ||
			name == "text:tab" || name == "table:table-cell" || name == "table:covered-table-cell" {
			c = '\t'
		}
		if n := len(out); n == 0 || out[n-1] == '\n' || out[n-1] == '\t' {
			continue // one separator is enough
		}
		out = append(out, c)
	}
	// A blank line between the sections and none at either end.
	out = bytes.TrimRight(out, " \t\r\n")
	if len(out) == 0 && len(attrs) > 0 {
		attrs = attrs[2:]
	}
	return ownedString(append(out, attrs...))
}

// appendAttrValues appends each attribute value in attrs of at least
// minLen bytes (white space trimmed), decoded, after a blank line.
func appendAttrValues(dst, attrs []byte, minLen int) []byte {
	if minLen > 1 && bytes.IndexByte(attrs, '=') < 0 {
		return dst
	}
	for i := 0; i < len(attrs); {
		q := bytes.IndexAny(attrs[i:], `"'`)
		if q < 0 {
			break
		}
		q += i
		j := bytes.IndexByte(attrs[q+1:], attrs[q])
		if j < 0 {
			break
		}
		v := attrs[q+1 : q+1+j]
		i = q + 2 + j
		if len(bytes.TrimSpace(v)) >= minLen {
			dst = appendUnescaped(append(dst, '\n', '\n'), v)
		}
	}
	return dst
}
