package extract

import (
	"bytes"
	"mime"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
)

// message reads one RFC 5322 message (the top-level one or a forwarded
// message/rfc822 part) whose locations start with prefix.
func (e *extractor) message(raw []byte, prefix string, depth int, top bool) {
	e.m.step(len(raw)) // the header split and MIME walk look at each byte
	hdr, body, junk := splitHeader(raw)
	hdr, more := limitFields(hdr)
	h := parseHeader(hdr, &junk)
	if len(junk) > 0 {
		e.emit(Part{Location: join(prefix, "header (malformed)"), Kind: KindHeader, MIMEType: "text/plain"}, decodeText(junk, ""))
	}
	base := ""
	if prefix != "" {
		base = prefix + " > "
	}
	e.headerParts(h, base, top)
	if len(more) > 0 {
		loc := join(prefix, "header (more fields)")
		e.emit(Part{Location: loc, Kind: KindHeader, MIMEType: "text/plain"}, e.decodeWords(decodeText(more, ""), loc))
	}
	e.entityBody(h, body, prefix, nil, depth)
}

// entity reads one part of a multipart body.
func (e *extractor) entity(raw []byte, prefix string, path []int, depth int) {
	e.m.step(len(raw))
	hdr, body, junk := splitHeader(raw)
	hdr, more := limitFields(hdr)
	h := parseHeader(hdr, &junk)
	if len(junk) > 0 {
		loc := join(prefix, "part "+pathString(path)+" header (malformed)")
		e.emit(Part{Location: loc, Kind: KindBody, MIMEType: "text/plain"}, decodeText(junk, ""))
	}
	if len(more) > 0 {
		loc := join(prefix, "part "+pathString(path)+" header (more fields)")
		e.emit(Part{Location: loc, Kind: KindHeader, MIMEType: "text/plain"}, e.decodeWords(decodeText(more, ""), loc))
	}
	e.entityBody(h, body, prefix, path, depth)
}

// entityBody reads the body of an entity whose header is h. The header
// fields of a MIME part (path not nil) are scanned here, below the part's
// location; those of a message were scanned by message.
func (e *extractor) entityBody(h message.Header, body []byte, prefix string, path []int, depth int) {
	// The part's own header fields and file names are at "part 1.2
	// header:X" and "part 1.2 file name", not below its location: loc >
	// ... is where the content's own text goes.
	here := prefix
	if path != nil {
		here = join(prefix, "part "+pathString(path))
	}
	mt, params := contentType(h)
	disp, dparams, _ := h.ContentDisposition()
	names := e.filenames(h, params, dparams, joinWord(here, "file name"))
	name := ""
	if len(names) > 0 {
		name = names[0]
	}
	attached := strings.EqualFold(disp, "attachment") || name != ""
	loc := join(prefix, partLocation(path, mt, name, attached))
	if !e.enter(loc, depth) {
		return
	}
	if path != nil {
		e.headerParts(h, here+" ", false)
	}
	e.fileNames(joinWord(here, "file name"), names)

	if strings.HasPrefix(mt, "multipart/") {
		if mt == "multipart/encrypted" {
			e.unscannable(loc, Encrypted, "multipart/encrypted (PGP/MIME)", mt)
			return
		}
		e.multipart(body, params["boundary"], loc, prefix, path, depth)
		return
	}

	e.m.step(len(body)) // the transfer decoding reads each byte once
	data := e.decodeBody(h, body)
	switch mt {
	case "message/rfc822", "message/global":
		// Read with every encoding its fields name, as any other part:
		// a reader that takes another field shows another message.
		again := !oneEncoding(h)
		if again {
			e.rereads++
		}
		e.message(data, loc, depth+1, false)
		e.otherEncodings(h, body, source{loc: loc, declared: mt, kind: KindBody}, depth)
		if again {
			e.rereads--
		}
		return
	case "application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature":
		// A detached signature holds certificates and a digest, no
		// content: list it, there is no text to read.
		e.emit(Part{Location: loc, Kind: KindAttachment, MIMEType: mt, Filename: name, Size: int64(len(data))}, "")
		return
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		if strings.EqualFold(params["smime-type"], "signed-data") {
			e.unscannable(loc, Unsupported, "S/MIME opaque signed data", mt)
		} else {
			e.unscannable(loc, Encrypted, "S/MIME enveloped data", mt)
		}
		return
	}
	kind := KindBody
	if attached {
		kind = KindAttachment
	}
	src := source{loc: loc, name: name, declared: mt, charset: params["charset"], kind: kind}
	// A body read with more than one transfer encoding is read again
	// after its content has been walked: no part within it may be
	// decoded over these bytes in the meantime (decodeBody).
	again := !oneEncoding(h)
	if again {
		e.rereads++
	}
	e.content(data, src, depth)
	e.otherEncodings(h, body, src, depth)
	if again {
		e.rereads--
	}
}

// otherEncodings reads body again with each other encoding that a second
// Content-Transfer-Encoding field names, at "loc (read as base64)":
// go-message takes the first field, other readers may take another, and a
// sender could put the text where only they look.
func (e *extractor) otherEncodings(h message.Header, body []byte, src source, depth int) {
	seen := []string{cteKind(cteToken(h.Get("Content-Transfer-Encoding")))}
	fields := h.FieldsByKey("Content-Transfer-Encoding")
	for fields.Next() {
		k := cteKind(cteToken(fields.Value()))
		if contains(seen, k) {
			continue
		}
		seen = append(seen, k)
		e.m.step(len(body))
		alt := src
		alt.loc = joinWord(src.loc, "(read as "+k+")")
		e.content(decodeTransfer(k, body), alt, depth)
	}
}

// cteKind is how a Content-Transfer-Encoding token is read.
func cteKind(tok string) string {
	switch tok {
	case "base64", "quoted-printable":
		return tok
	case "x-uuencode", "x-uue", "uuencode":
		return "x-uuencode"
	}
	return "8bit" // passed through as it is
}

// multipart splits a multipart body and walks its parts. When the boundary
// is missing or wrong it guesses one from the body, and failing that scans
// the body as text, so that nothing is dropped.
func (e *extractor) multipart(body []byte, boundary, loc, prefix string, path []int, depth int) {
	parts, pre, epi, ok := splitMultipart(body, boundary, e.m)
	if !ok {
		if guess := guessBoundary(body, e.m); guess != "" {
			parts, pre, epi, ok = splitMultipart(body, guess, e.m)
		}
	}
	if !ok {
		e.emit(Part{Location: loc, Kind: KindBody, MIMEType: "text/plain", Size: int64(len(body))}, decodeText(body, ""))
		return
	}
	if !isBlankBytes(pre) {
		e.emit(Part{Location: join(loc, "preamble"), Kind: KindBody, MIMEType: "text/plain"}, decodeText(pre, ""))
	}
	for i, p := range parts {
		if e.stopped {
			return
		}
		child := make([]int, len(path), len(path)+1)
		copy(child, path)
		e.entity(p, prefix, append(child, i+1), depth+1)
	}
	if !isBlankBytes(epi) {
		e.emit(Part{Location: join(loc, "epilogue"), Kind: KindBody, MIMEType: "text/plain"}, decodeText(epi, ""))
	}
}

// partLocation names a MIME part: `body`, `part 1.2 (text/html)`,
// `attachment "q3.xlsx"`.
func partLocation(path []int, mt, name string, attached bool) string {
	switch {
	case name != "":
		return "attachment " + quoteName(name)
	case len(path) == 0 && !attached:
		if strings.HasPrefix(mt, "text/") || strings.HasPrefix(mt, "multipart/") || mt == "message/rfc822" {
			return "body"
		}
		return "body (" + mt + ")"
	case len(path) == 0:
		return "attachment (" + mt + ")"
	}
	return "part " + pathString(path) + " (" + mt + ")"
}

func pathString(path []int) string {
	var b strings.Builder
	for i, n := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// contentType returns the lower-case media type (text/plain when absent or
// unreadable) and its parameters.
func contentType(h message.Header) (string, map[string]string) {
	v := h.Get("Content-Type")
	if v == "" {
		return "text/plain", map[string]string{}
	}
	if strings.IndexByte(v, '(') >= 0 {
		// Comments are allowed anywhere between tokens (RFC 2045 §5.1);
		// the parser takes none.
		v = stripComments(v)
		var hc message.Header
		hc.Set("Content-Type", v)
		h = hc
	}
	mt, params, err := h.ContentType()
	if err != nil {
		// mime.ParseMediaType still returns the type when only a
		// parameter is broken.
		mt, params, _ = mime.ParseMediaType(v)
		if mt == "" {
			// A parameter error such as a duplicate name makes
			// ParseMediaType return no type at all; readers still
			// take the type before the first ";".
			mt = strings.TrimSpace(v)
			if i := strings.IndexByte(mt, ';'); i >= 0 {
				mt = strings.TrimSpace(mt[:i])
			}
			if !mediaTypeRE.MatchString(mt) {
				mt = "text/plain"
			}
		}
		if params == nil {
			params = map[string]string{}
		}
		if _, ok := params["boundary"]; !ok {
			if m := boundaryRE.FindStringSubmatch(v); m != nil {
				params["boundary"] = strings.Trim(m[1], `"`)
			}
		}
	}
	if !strings.Contains(mt, "/") {
		mt = "application/octet-stream"
	}
	return strings.ToLower(mt), params
}

var (
	boundaryRE  = regexp.MustCompile(`(?i)boundary\s*=\s*("[^"]*"|[^;\s]+)`)
	mediaTypeRE = regexp.MustCompile(`^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+$`)
)

// filenames returns the names an entity gives its content, the one to
// show first: Content-Disposition filename, then Content-Type name, RFC
// 2231 and RFC 2047 decoded. Readers differ in which they show, so all
// are scanned.
func (e *extractor) filenames(h message.Header, params, dparams map[string]string, loc string) []string {
	// mime.ParseMediaType drops RFC 2231 values in charsets other than
	// UTF-8 and US-ASCII; decode those here.
	cands := []string{
		dparams["filename"], params["name"],
		rfc2231Param(h.Get("Content-Disposition"), "filename"),
		rfc2231Param(h.Get("Content-Type"), "name"),
	}
	var names []string
	for _, n := range cands {
		if n = e.decodeWords(n, loc); n != "" && !contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

var rfc2231RE = regexp.MustCompile(`(?i)(?:^|[;\s])([a-z]+)\*(?:(\d+)(\*)?|)=\s*("[^"]*"|[^;\s]*)`)

// rfc2231Param decodes an RFC 2231 parameter (with continuations and a
// charset) from a raw header value.
func rfc2231Param(v, key string) string {
	if !strings.Contains(v, "*") {
		return ""
	}
	type seg struct {
		n       int
		encoded bool
		val     string
	}
	var segs []seg
	for _, m := range rfc2231RE.FindAllStringSubmatch(v, 32) {
		if !strings.EqualFold(m[1], key) {
			continue
		}
		s := seg{val: strings.Trim(m[4], `"`)}
		if m[2] == "" {
			s.encoded = true
		} else {
			s.n, _ = strconv.Atoi(m[2])
			s.encoded = m[3] != ""
		}
		segs = append(segs, s)
	}
	if len(segs) == 0 {
		return ""
	}
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].n < segs[j].n })
	cs := ""
	var raw []byte
	for i, s := range segs {
		val := s.val
		if i == 0 && s.encoded {
			if parts := strings.SplitN(val, "'", 3); len(parts) == 3 {
				cs, val = parts[0], parts[2]
			}
		}
		if s.encoded {
			raw = append(raw, percentDecode(val)...)
		} else {
			raw = append(raw, val...)
		}
	}
	return decodeText(raw, cs)
}

// percentDecode decodes %XX escapes; anything else is kept as written.
func percentDecode[T string | []byte](s T) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

// splitMultipart splits body at the boundary lines. A missing final boundary
// ends the last part at the end of the body.
func splitMultipart(body []byte, boundary string, m *meter) (parts [][]byte, preamble, epilogue []byte, ok bool) {
	if boundary == "" || len(boundary) > 200 {
		return nil, nil, nil, false
	}
	delim := []byte("--" + boundary)
	start := findDelimiter(body, delim, 0, m)
	if start < 0 {
		return nil, nil, nil, false
	}
	preamble = trimLineEnd(body[:start])
	pos := start
	for {
		after := pos + len(delim)
		if bytes.HasPrefix(body[after:], []byte("--")) {
			if nl := bytes.IndexByte(body[after:], '\n'); nl >= 0 {
				epilogue = body[after+nl+1:]
			}
			return parts, preamble, epilogue, true
		}
		nl := bytes.IndexByte(body[after:], '\n')
		if nl < 0 {
			m.step(len(body) - after)
			return parts, preamble, nil, true
		}
		m.step(nl + 1)
		partStart := after + nl + 1
		next := findDelimiter(body, delim, partStart, m)
		if next < 0 {
			parts = append(parts, body[partStart:])
			return parts, preamble, nil, true
		}
		parts = append(parts, trimLineEnd(body[partStart:next]))
		pos = next
	}
}

// findDelimiter finds delim at the start of a line at or after from. A
// match inside a line moves the search one byte on, so each byte is
// compared with at most len(delim) bytes of delim: linear.
func findDelimiter(body, delim []byte, from int, m *meter) int {
	for from <= len(body) {
		i := bytes.Index(body[from:], delim)
		if i < 0 {
			m.step(len(body) - from)
			return -1
		}
		m.step(i + len(delim))
		at := from + i
		end := at + len(delim)
		if (at == 0 || body[at-1] == '\n') && (end == len(body) || isDelimEnd(body[end])) {
			return at
		}
		from = at + 1
	}
	return -1
}

func isDelimEnd(c byte) bool {
	return c == '-' || c == '\r' || c == '\n' || c == ' ' || c == '\t'
}

func trimLineEnd(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// guessBoundary returns the first "--token" line that occurs at least twice,
// for multiparts whose boundary parameter is missing or wrong. It tries at
// most 20 candidates in the first 1000 lines, each a search of the body
// after it: linear, with a bounded factor.
func guessBoundary(body []byte, m *meter) string {
	tried := 0 // candidates counted, each a pass over the body
	for i, lines := 0, 0; i < len(body) && lines < 1000 && tried < 20; lines++ {
		j := bytes.IndexByte(body[i:], '\n')
		next := len(body)
		if j >= 0 {
			next = i + j + 1
		}
		m.step(next - i)
		line := bytes.TrimRight(body[i:next], "\r\n \t")
		if len(line) > 2 && len(line) < 200 && line[0] == '-' && line[1] == '-' && bytes.IndexByte(line, ' ') < 0 {
			cand := string(bytes.TrimSuffix(line[2:], []byte("--")))
			if cand != "" {
				tried++
				// The line itself is one occurrence: look for another.
				k := bytes.Index(body[next:], []byte("--"+cand))
				if k >= 0 {
					m.step(k + len(cand) + 2)
					return cand
				}
				m.step(len(body) - next)
			}
		}
		i = next
	}
	return ""
}

func isBlankBytes(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			return false
		}
	}
	return true
}

// charsetReader adapts the go-message charset table for decodeText.
var charsetReader = charset.Reader
