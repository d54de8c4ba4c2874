package extract

import (
	"bytes"
	"unicode/utf8"
)

// Besides its pages, a PDF holds text a reader sees in its viewer's panes
// and pop-ups: the document information (/Title, /Author, /Subject,
// /Keywords, /Creator, /Producer), the XMP metadata stream, annotations
// (/Contents of comments and sticky notes, /T authors), form fields
// (/V values, /TU tooltips) and bookmarks (/Title of outline items). All
// of these are string objects in dictionaries, so the strings of every
// object's dictionary are read, each on a line of its own, at
// "> metadata and annotations"; XMP streams are read as XML.

// pdfSkipKeys are dictionary keys whose strings are binary or machine
// data, never text: file identifiers and encryption keys.
var pdfSkipKeys = map[string]bool{"/ID": true, "/O": true, "/U": true, "/OE": true, "/UE": true, "/Perms": true}

// objectStrings returns the text strings of every object's dictionary and
// the XMP metadata, in file order. Each object is lexed once (objects do
// not overlap), and each XMP stream decoded once; the work is counted on
// the scan's meter.
func (d *pdfDoc) objectStrings() []byte {
	var out []byte
	var l pdfLexer
	for _, n := range d.order {
		o := d.objs[n]
		if !d.m.step(len(o.dict)) {
			break
		}
		l = pdfLexer{b: o.dict, buf: l.buf[:0]}
		var key []byte // the last name: the key of the strings after it
		for {
			tok, k := l.next()
			if k == pdfEOF {
				break
			}
			switch k {
			case pdfName:
				key = tok
			case pdfString, pdfHex:
				if !pdfSkipKeys[string(key)] && !isPDFDate(tok) {
					out = append(appendPDFText(out, tok), '\n')
				}
				l.buf = l.buf[:0]
			}
		}
		if o.isStream && d.has(o.dict, "/Metadata") && d.has(o.dict, "/XML") {
			if x := d.stream(n); len(x) > 0 {
				out = append(append(out, anyXMLText(d.m, x)...), '\n')
			}
			d.drop(n)
		}
		if d.limited {
			break
		}
	}
	return out
}

// isPDFDate reports a date string ("D:20260101120000+01'00'"): its
// fourteen digits are a time, not a value.
func isPDFDate(s []byte) bool {
	if len(s) < 6 || s[0] != 'D' || s[1] != ':' {
		return false
	}
	for _, c := range s[2:] {
		if !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '\'' || c == 'Z') {
			return false
		}
	}
	return true
}

// appendPDFText appends a PDF text string: UTF-16BE after its byte order
// mark (UTF-16LE and UTF-8 ones are accepted too), otherwise
// PDFDocEncoding, read as Latin-1 (they differ only in a few punctuation
// marks).
func appendPDFText(dst, s []byte) []byte {
	switch {
	case len(s) >= 2 && s[0] == 0xFE && s[1] == 0xFF:
		return append(dst, utf16BEText(s[2:])...)
	case len(s) >= 2 && s[0] == 0xFF && s[1] == 0xFE:
		sw := make([]byte, len(s)-2)
		for i := 0; i+1 < len(sw); i += 2 {
			sw[i], sw[i+1] = s[i+3], s[i+2]
		}
		return append(dst, utf16BEText(sw)...)
	case bytes.HasPrefix(s, []byte("\xEF\xBB\xBF")):
		return append(dst, s[3:]...)
	}
	for _, c := range s {
		if c < utf8.RuneSelf {
			dst = append(dst, c)
		} else {
			dst = utf8.AppendRune(dst, rune(c))
		}
	}
	return dst
}
