package extract

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
)

// A data: URI (RFC 2397) carries a whole file in an attribute of an HTML
// element: <img src="data:...">, <iframe src="data:text/html;base64,...">,
// <a href="data:...">, <object data="data:...">. A browser shows or opens
// it, so its content is read like an attachment, whatever its declared
// type, at "… > data URI N" below the HTML.

// dataURIs reads the data URIs an HTML document at src holds, in order.
// Each counts as a part toward max_parts and nests one level deeper; the
// decoded bytes are held from max_scan_memory while they are read.
func (e *extractor) dataURIs(uris [][]byte, src source, depth int) {
	for i, u := range uris {
		if e.stopped {
			return
		}
		loc := join(src.loc, "data URI "+strconv.Itoa(i+1))
		if !e.enter(loc, depth+1) {
			continue
		}
		e.m.step(len(u))
		typ, cs, data, ok := decodeDataURI(u)
		if !ok {
			e.unscannable(loc, ParseError, "data URI without a comma", "")
			continue
		}
		if !e.hold(cap(data), loc, typ) {
			continue
		}
		e.content(data, source{loc: loc, declared: typ, charset: cs, kind: KindAttachment}, depth+1)
		e.release(cap(data))
	}
}

// isDataURI reports an attribute value that is a data URI.
func isDataURI(v []byte) bool {
	v = bytes.TrimLeft(v, " \t\r\n\f")
	return len(v) > 5 && bytes.EqualFold(v[:5], []byte("data:"))
}

// decodeDataURI returns the media type, charset and content of a data
// URI: base64 when its header ends in ";base64" (white space ignored,
// padding optional, the URL-safe alphabet accepted; an invalid byte
// ends the content), percent-decoded otherwise (a '%' not followed by
// two hex digits is kept as written). It reads each byte a bounded number
// of times and allocates no more than the URI's length.
func decodeDataURI(u []byte) (typ, charset string, data []byte, ok bool) {
	u = bytes.TrimSpace(u)[5:]
	comma := bytes.IndexByte(u, ',')
	if comma < 0 {
		return "", "", nil, false
	}
	head, body := string(u[:comma]), u[comma+1:]
	params := strings.Split(head, ";")
	typ = strings.ToLower(strings.TrimSpace(params[0]))
	b64 := false
	for _, p := range params[1:] {
		p = strings.TrimSpace(p)
		if strings.EqualFold(p, "base64") {
			b64 = true
		} else if k, v, found := strings.Cut(p, "="); found && strings.EqualFold(strings.TrimSpace(k), "charset") {
			charset = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	if b64 {
		return typ, charset, decodeLenientBase64(body), true
	}
	return typ, charset, percentDecode(body), true
}

// decodeLenientBase64 decodes base64 as browsers do: white space and
// percent-encoded padding skipped, padding optional, either alphabet.
func decodeLenientBase64(s []byte) []byte {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		case c == '-':
			clean = append(clean, '+')
		case c == '_':
			clean = append(clean, '/')
		case c == '%' && i+2 < len(s) && s[i+1] == '3' && (s[i+2] == 'D' || s[i+2] == 'd'):
			i += 2 // %3D, an encoded '='
		case c == '=' || isHTMLSpace(c):
		default:
			i = len(s) // not base64: the content ends here
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	n, _ := base64.RawStdEncoding.Decode(clean, clean)
	return clean[:n]
}
