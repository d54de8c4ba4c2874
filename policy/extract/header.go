package extract

import (
	"bufio"
	"bytes"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// Every header field is sender text: a sender can set any field, X-Spam-*
// and List-* as well as Subject, and a recipient can read them all. So
// every field of every header (the message's, a forwarded message's, each
// MIME part's) is scanned, decoded (RFC 2047). Only tokens that machines
// write and that look like identifiers are left out, and only in the
// fields that hold them (see fieldText): the token, never the field.

// splitHeader splits raw at the first empty line. Lines of the header block
// that are neither fields nor continuations go to junk, so that the rest
// still parses and the junk is still scanned.
func splitHeader(raw []byte) (hdr, body, junk []byte) {
	end := len(raw)
	body = nil
	clean := true
	keptLast := false
	for i := 0; i < len(raw); {
		j := bytes.IndexByte(raw[i:], '\n')
		next := len(raw)
		if j >= 0 {
			next = i + j + 1
		}
		line := bytes.TrimRight(raw[i:next], "\r\n")
		if len(line) == 0 {
			end = i
			body = raw[next:]
			break
		}
		switch {
		case line[0] == ' ' || line[0] == '\t':
			if !keptLast {
				clean = false
			}
		case isFieldLine(line):
			keptLast = true
		default:
			clean = false
			keptLast = false
		}
		i = next
	}
	if clean {
		return raw[:end], body, nil
	}
	// Second pass: separate fields from junk.
	keptLast = false
	for i := 0; i < end; {
		j := bytes.IndexByte(raw[i:end], '\n')
		next := end
		if j >= 0 {
			next = i + j + 1
		}
		line := raw[i:next]
		t := bytes.TrimRight(line, "\r\n")
		switch {
		case len(t) > 0 && (t[0] == ' ' || t[0] == '\t') && keptLast:
			hdr = append(hdr, line...)
		case isFieldLine(t):
			hdr = append(hdr, line...)
			keptLast = true
		default:
			junk = append(junk, line...)
			keptLast = false
		}
		i = next
	}
	return hdr, body, junk
}

// isFieldLine reports whether line starts with a field name and a colon.
// White space between the name and the colon is the obsolete syntax of
// RFC 5322 section 4.5.3 (`Content-Type : text/plain`); readers accept
// it, and go-message trims it from the name, so it is a field here too.
func isFieldLine(line []byte) bool {
	i := 0
	for i < len(line) && line[i] > ' ' && line[i] <= '~' && line[i] != ':' {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	return i < len(line) && line[i] == ':'
}

// maxFieldsParsed bounds the fields of one header that become fields of
// their own (a go-message field, a part, a Result.Header entry), each of
// which costs some hundred bytes: a sender could otherwise buy gigabytes
// with a few megabytes of "X:a" lines in an attached message. The fields
// after it are still scanned, as one text part, and the first
// Content-Type, Content-Transfer-Encoding and Content-Disposition (the
// ones go-message and readers use) are always parsed, wherever they are.
const maxFieldsParsed = 1000

// limitFields splits a header block (fields and continuations, as from
// splitHeader) into the fields to parse and the rest, in one pass.
func limitFields(hdr []byte) (parsed, rest []byte) {
	var seen [len(structuralFields)]bool
	fields := 0
	keep := true
	for i := 0; i < len(hdr); {
		j := bytes.IndexByte(hdr[i:], '\n')
		next := len(hdr)
		if j >= 0 {
			next = i + j + 1
		}
		line := hdr[i:next]
		if line[0] != ' ' && line[0] != '\t' {
			fields++
			keep = fields <= maxFieldsParsed
			for k, name := range structuralFields {
				if fieldNameIs(line, name) {
					keep = keep || !seen[k]
					seen[k] = true
				}
			}
		}
		if fields > maxFieldsParsed {
			if parsed == nil {
				parsed = append([]byte(nil), hdr[:i]...)
			}
			if keep {
				parsed = append(parsed, line...)
			} else {
				rest = append(rest, line...)
			}
		}
		i = next
	}
	if parsed == nil {
		return hdr, nil
	}
	return parsed, rest
}

var structuralFields = [...][]byte{[]byte("content-type"), []byte("content-transfer-encoding"), []byte("content-disposition")}

// fieldNameIs reports whether line is a field named name (lower case),
// white space before the colon allowed.
func fieldNameIs(line, name []byte) bool {
	if len(line) <= len(name) || !bytes.EqualFold(line[:len(name)], name) {
		return false
	}
	t := bytes.TrimLeft(line[len(name):], " \t")
	return len(t) > 0 && t[0] == ':'
}

// headerReaders are the buffered readers of parseHeader, reused: a 4 KiB
// buffer per header block was a fifth of the memory a small message
// allocated. ReadHeader copies every line it returns out of the buffer.
var headerReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

// parseHeader parses a header block with go-message. If it still fails, the
// whole block becomes junk text.
func parseHeader(hdr []byte, junk *[]byte) message.Header {
	if len(hdr) == 0 {
		return message.Header{}
	}
	br := headerReaders.Get().(*bufio.Reader)
	br.Reset(io.MultiReader(bytes.NewReader(hdr), strings.NewReader("\r\n\r\n")))
	h, err := textproto.ReadHeader(br)
	br.Reset(nil)
	headerReaders.Put(br)
	if err != nil {
		*junk = append(*junk, hdr...)
		return message.Header{}
	}
	return message.Header{Header: h}
}

// headerParts decodes the fields of h (RFC 2047), records those of the
// top-level message in Result.Header, and emits each as a part at base +
// "header:Name" (base is "", "part 3 (message/rfc822) > " or "part 1.2 ").
func (e *extractor) headerParts(h message.Header, base string, top bool) {
	fields := h.Fields()
	for fields.Next() {
		key := fields.Key()
		raw := fields.Value()
		e.m.step(len(key) + len(raw))
		name, scanName := fieldName(key)
		loc := base + "header:" + name
		val := e.decodeWords(raw, loc)
		if top {
			e.res.Header = append(e.res.Header, HeaderField{Name: key, Value: val})
		}
		text := fieldText(strings.ToLower(key), val)
		if scanName {
			text = key + ": " + text
		}
		e.emit(Part{Location: loc, Kind: KindHeader, MIMEType: "text/plain", Size: int64(len(raw))}, text)
	}
}

// fieldName returns the name of a field as its location shows it, and
// whether the name is text to scan. A name is the sender's too: one with
// eight digits or more could hold a number, so it is scanned with the
// value, and its digits are not repeated in the location, which reaches
// logs and incidents.
func fieldName(key string) (loc string, scan bool) {
	digits := 0
	for i := 0; i < len(key); i++ {
		if '0' <= key[i] && key[i] <= '9' {
			digits++
		}
	}
	if digits < 8 {
		return key, false
	}
	return strings.Map(func(r rune) rune {
		if '0' <= r && r <= '9' {
			return '#'
		}
		return r
	}, key), true
}

// msgIDFields hold message identifiers (RFC 5322 msg-id, RFC 2045
// Content-ID), whose local parts are often long digit runs (time stamps,
// counters) that checksum validators would take for card or account
// numbers in about one message in ten.
var msgIDFields = map[string]bool{
	"message-id": true, "in-reply-to": true, "references": true, "content-id": true,
	"resent-message-id": true, "original-message-id": true,
}

var (
	// msgIDRE is one msg-id: no white space, an @.
	msgIDRE = regexp.MustCompile(`<[^\s<>@]+@[^\s<>]+>`)
	// boundaryParamRE is a multipart boundary: generators build it from
	// time stamps and counters.
	boundaryParamRE = regexp.MustCompile(`(?i)(\bboundary\s*=\s*)("[^"]*"|[^;\s]+)`)
)

// fieldText is the text of a field to scan: the decoded value without
// the machine-written identifiers of the field (msg-ids, trace ids, the
// multipart boundary). Free text beside them, comments included, stays.
//
// DKIM and ARC signatures (b=, bh=) stay: their base64 gives no run of
// digits long enough for a numeric validator, and a signature-shaped
// value is no reason to skip what a sender wrote there.
func fieldText(lkey, val string) string {
	switch {
	case msgIDFields[lkey]:
		return replaceMsgIDs(val, func(id string) string {
			if longDigitRuns(id) >= 3 {
				return id // not one stamp or counter: a list of values
			}
			return ""
		})
	case lkey == "content-transfer-encoding" || lkey == "mime-version":
		// A bare encoding name or version has no text; anything else
		// in these fields does.
		switch strings.ToLower(strings.TrimSpace(val)) {
		case "7bit", "8bit", "binary", "base64", "quoted-printable", "1.0":
			return ""
		}
	case lkey == "received" || lkey == "x-received":
		return withoutTraceID(val)
	case lkey == "content-type":
		if !containsFoldASCII(val, "boundary") {
			return val // what the expression would return, without running it
		}
		return boundaryParamRE.ReplaceAllString(val, "${1}")
	}
	return val
}

// replaceMsgIDs is msgIDRE.ReplaceAllStringFunc(val, repl), without the
// regular expression engine, which cost more than the rest of a small
// message's header. The expression's classes exclude the byte that ends
// them ('@', then '>'), so at each '<' the match is decided by one scan,
// which stops at the next '<': each byte is read at most twice.
func replaceMsgIDs(val string, repl func(string) string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(val); {
		k := strings.IndexByte(val[i:], '<')
		if k < 0 {
			break
		}
		p := i + k
		q := p + 1
		for q < len(val) && !msgIDStop(val[q]) && val[q] != '@' {
			q++
		}
		if q == p+1 || q >= len(val) || val[q] != '@' {
			i = p + 1
			continue
		}
		r := q + 1
		for r < len(val) && !msgIDStop(val[r]) {
			r++
		}
		if r == q+1 || r >= len(val) || val[r] != '>' {
			i = p + 1
			continue
		}
		b.WriteString(val[last:p])
		b.WriteString(repl(val[p : r+1]))
		last, i = r+1, r+1
	}
	if last == 0 {
		return val
	}
	b.WriteString(val[last:])
	return b.String()
}

// msgIDStop reports the bytes msgIDRE's classes exclude: \s (tab, line
// feed, form feed, carriage return, space), '<' and '>'.
func msgIDStop(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == '<' || c == '>'
}

// containsFoldASCII reports whether s contains the lower-case ASCII word
// w in any case. For the letters of "boundary" that is what (?i) in an
// expression matches: no other rune folds to any of them
// (TestIssue12BoundaryFold).
func containsFoldASCII(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i]|0x20 == w[0] && strings.EqualFold(s[i:i+len(w)], w) {
			return true
		}
	}
	return false
}

// longDigitRuns counts the runs of 13 or more digits in s. A generator
// writes one time stamp or counter in a msg-id, sometimes two; three or
// more long numbers are a list the sender wrote, read like free text.
func longDigitRuns(s string) int {
	n, run := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			run++
			continue
		}
		if run >= 13 {
			n++
		}
		run = 0
	}
	return n
}

// withoutTraceID removes the queue identifier of each "id" clause of a
// trace field (RFC 5321 section 4.4: "id" FWS atom), often a run of
// digits. Only clauses outside comments count: a comment is free text.
func withoutTraceID(val string) string {
	var b strings.Builder
	depth, last := 0, 0
	for i := 0; i < len(val); i++ {
		switch c := val[i]; {
		case c == '\\':
			i++
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth == 0 && (c == 'i' || c == 'I') && i+2 < len(val) && (val[i+1] == 'd' || val[i+1] == 'D') &&
			(val[i+2] == ' ' || val[i+2] == '\t') && (i == 0 || val[i-1] == ' ' || val[i-1] == '\t' || val[i-1] == ';'):
			j := i + 2
			for j < len(val) && (val[j] == ' ' || val[j] == '\t') {
				j++
			}
			k := j
			for k < len(val) && val[k] > ' ' && val[k] != ';' && val[k] != '(' {
				k++
			}
			b.WriteString(val[last:j])
			last, i = k, k-1
		}
	}
	if last == 0 {
		return val
	}
	b.WriteString(val[last:])
	return b.String()
}

// decodeWords decodes the RFC 2047 encoded words of a header value, in
// one pass. It reads what mail clients show, more leniently than
// mime.WordDecoder, which gives up on the rest of the value at the first
// malformed word and rejects unpadded base64: a sender could use either
// to keep text from the scan. Adjacent words in one charset are joined
// before decoding (a character may be split across them), the white
// space between them is dropped, and a charset we cannot decode is read
// as bytes and reported at loc.
func (e *extractor) decodeWords(s, loc string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	var (
		b       strings.Builder
		pending []byte // decoded bytes of adjacent words in charset pcs
		pcs     string
		gap     string // white space after the last word, kept if text follows
	)
	flush := func() {
		if pending != nil {
			text, known := decodeCharset(pending, pcs)
			if !known {
				e.unscannable(loc, UnknownCharset, "encoded word in unknown charset "+safeLabel(pcs)+": read as bytes", "text/plain")
			}
			b.WriteString(text)
			pending = nil
		}
	}
	// No word can end after the last "?=": knowing where it is keeps the
	// search for each word's end from running to the end of s again and
	// again.
	lastClose := strings.LastIndex(s, "?=")
	i := 0
	for i < len(s) {
		j := strings.Index(s[i:], "=?")
		if j < 0 {
			e.m.step(len(s) - i)
			break
		}
		start := i + j
		cs, enc, text, end, ok, examined := encodedWord(s, start, lastClose)
		e.m.step(j + 2 + examined)
		if !ok {
			flush()
			b.WriteString(gap)
			gap = ""
			b.WriteString(s[i : start+2])
			i = start + 2
			continue
		}
		between := s[i:start]
		if pending == nil || !isBlank(between) {
			flush()
			b.WriteString(gap)
			b.WriteString(between)
		}
		gap = ""
		cs = normalizeCharset(cs)
		if pending != nil && cs != pcs {
			flush()
		}
		var word []byte
		if enc == 'b' || enc == 'B' {
			word = decodeBase64Tolerant([]byte(text))
		} else {
			word = appendQWord(nil, text)
		}
		if strings.ContainsAny(text, " \t") {
			// Not a word by RFC 2047 (no white space inside), though some
			// readers decode it: keep both readings.
			flush()
			b.WriteString(s[start:end])
			b.WriteByte(' ')
			pending, pcs = word, cs
			flush()
		} else {
			if pending == nil {
				pending, pcs = []byte{}, cs
			}
			pending = append(pending, word...)
		}
		i = end
		// White space after a word belongs to the next word's gap.
		k := i
		for k < len(s) && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r' || s[k] == '\n') {
			k++
		}
		gap = s[i:k]
		i = k
	}
	flush()
	b.WriteString(gap)
	b.WriteString(s[i:])
	return b.String()
}

// encodedWord parses "=?charset?E?text?=" at s[start:]. The charset is at
// most 64 bytes without white space; the text ends at the first "?=".
// examined is the number of bytes looked at, for the meter.
func encodedWord(s string, start, lastClose int) (cs string, enc byte, text string, end int, ok bool, examined int) {
	p := start + 2
	q := p
	for q < len(s) && q-p <= 64 && s[q] != '?' && s[q] > ' ' && s[q] < 0x7f {
		q++
	}
	examined = q - p + 1
	if q >= len(s) || s[q] != '?' || q == p || q+2 >= len(s) {
		return "", 0, "", 0, false, examined
	}
	enc = s[q+1]
	if s[q+2] != '?' || !strings.ContainsRune("bBqQ", rune(enc)) {
		return "", 0, "", 0, false, examined
	}
	t := q + 3
	if t > lastClose {
		return "", 0, "", 0, false, examined
	}
	k := strings.Index(s[t:], "?=")
	if k < 0 {
		return "", 0, "", 0, false, examined + len(s) - t
	}
	// The word's text is read again to decode it.
	return s[p:q], enc, s[t : t+k], t + k + 2, true, examined + 2*(k+2)
}

// appendQWord decodes the Q encoding of RFC 2047: "_" is a space, "=XX"
// a byte; a bad escape is kept as written.
func appendQWord(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '_':
			dst = append(dst, ' ')
		case c == '=' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			dst = append(dst, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// fileNames emits the names an entity gives its content (Content-Type
// name, Content-Disposition filename, RFC 2231 and RFC 2047 decoded) as
// text at loc: a name is written by the sender and read by the recipient
// like any other text.
func (e *extractor) fileNames(loc string, names []string) {
	var text []string
	for _, n := range names {
		if n != "" && !contains(text, n) {
			text = append(text, n)
		}
	}
	if len(text) > 0 {
		e.emit(Part{Location: loc, Kind: KindHeader, MIMEType: "text/plain"}, strings.Join(text, "\n"))
	}
}

// comment emits an archive's or a member's comment as text at "archive
// comments": it is free text the sender wrote, not a name, so it is not
// read beside the member names (where a value is judged as a file name).
func (e *extractor) comment(archive, c string) {
	if c == "" {
		return
	}
	e.m.step(len(c))
	e.emit(Part{Location: archive + " comments", Kind: KindHeader, MIMEType: "text/plain"}, decodeText([]byte(c), ""))
}

// memberName emits the name (and link target) of an archive
// member as text at "archive member names", whether or not the member
// itself can be read: names are the sender's text, listed by any archive
// tool.
func (e *extractor) memberName(archive, name string, more ...string) {
	e.m.step(len(name))
	text := []string{decodeText([]byte(name), "")}
	for _, n := range more {
		e.m.step(len(n))
		if n = decodeText([]byte(n), ""); n != "" && !contains(text, n) {
			text = append(text, n)
		}
	}
	e.emit(Part{Location: archive + " member names", Kind: KindHeader, MIMEType: "text/plain"}, strings.Join(text, "\n"))
}

// joinWord names something of what is at loc: "part 2" and "file name"
// give "part 2 file name".
func joinWord(loc, what string) string {
	if loc == "" {
		return what
	}
	return loc + " " + what
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
