package extract

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// The document formats (OOXML, ODF) are XML without DTDs. xmlScanner is a
// small streaming tokenizer for them: it does not allocate per token and
// copes with any input (broken markup ends the scan, it never panics).
// encoding/xml would build a token value per element and is several times
// slower on spreadsheet XML.

type xmlKind int

const (
	xmlText xmlKind = iota
	xmlStart
	xmlEnd
	xmlSelfClose
)

type xmlToken struct {
	kind  xmlKind
	name  []byte // qualified name, e.g. "w:t"
	attrs []byte // raw attributes of a start tag
	text  []byte // raw text (escaped unless cdata)
	cdata bool
}

type xmlScanner struct {
	b   []byte
	pos int
	m   *meter // counts the bytes each token takes; nil counts nothing
}

// next returns the next token, or false at the end of input or at the
// deadline. Every search it makes starts where the last one ended and
// stops at the end of the token, so a scan examines each byte a bounded
// number of times whatever the markup (unclosed comments, CDATA or tags
// end the scan).
func (s *xmlScanner) next(t *xmlToken) bool {
	from := s.pos
	ok := s.token(t)
	if !s.m.step(s.pos - from + 1) {
		s.pos = len(s.b)
		return false
	}
	return ok
}

func (s *xmlScanner) token(t *xmlToken) bool {
	for s.pos < len(s.b) {
		b := s.b[s.pos:]
		if b[0] != '<' {
			i := bytes.IndexByte(b, '<')
			if i < 0 {
				i = len(b)
			}
			*t = xmlToken{kind: xmlText, text: b[:i]}
			s.pos += i
			return true
		}
		switch {
		case len(b) < 2 || (b[1] != '!' && b[1] != '?'):
			// an element tag: the common case
		case bytes.HasPrefix(b, []byte("<!--")):
			s.skipPast(4, "-->")
			continue
		case bytes.HasPrefix(b, []byte("<![CDATA[")):
			i := bytes.Index(b[9:], []byte("]]>"))
			if i < 0 {
				*t = xmlToken{kind: xmlText, text: b[9:], cdata: true}
				s.pos = len(s.b)
				return true
			}
			*t = xmlToken{kind: xmlText, text: b[9 : 9+i], cdata: true}
			s.pos += 9 + i + 3
			return true
		case bytes.HasPrefix(b, []byte("<?")):
			s.skipPast(2, "?>")
			continue
		case bytes.HasPrefix(b, []byte("<!")):
			s.skipPast(2, ">")
			continue
		}
		end := tagEnd(b)
		if end < 0 {
			s.pos = len(s.b)
			return false
		}
		inner := b[1:end]
		s.pos += end + 1
		kind := xmlStart
		if len(inner) > 0 && inner[0] == '/' {
			kind = xmlEnd
			inner = inner[1:]
		} else if len(inner) > 0 && inner[len(inner)-1] == '/' {
			kind = xmlSelfClose
			inner = inner[:len(inner)-1]
		}
		n := 0
		for n < len(inner) && !isXMLSpace(inner[n]) {
			n++
		}
		*t = xmlToken{kind: kind, name: inner[:n], attrs: inner[n:]}
		return true
	}
	return false
}

func (s *xmlScanner) skipPast(from int, end string) {
	i := bytes.Index(s.b[s.pos+from:], []byte(end))
	if i < 0 {
		s.pos = len(s.b)
		return
	}
	s.pos += from + i + len(end)
}

// tagEnd finds the '>' closing the tag at b[0], skipping quoted values.
func tagEnd(b []byte) int {
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '>':
			return i
		case '"', '\'':
			j := bytes.IndexByte(b[i+1:], b[i])
			if j < 0 {
				return -1
			}
			i += j + 1
		}
	}
	return -1
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// attr returns the raw value of attribute key in attrs.
func attr(attrs []byte, key string) ([]byte, bool) {
	for i := 0; i < len(attrs); {
		for i < len(attrs) && isXMLSpace(attrs[i]) {
			i++
		}
		ks := i
		for i < len(attrs) && attrs[i] != '=' && !isXMLSpace(attrs[i]) {
			i++
		}
		k := attrs[ks:i]
		for i < len(attrs) && (isXMLSpace(attrs[i]) || attrs[i] == '=') {
			i++
		}
		if i >= len(attrs) {
			return nil, false
		}
		q := attrs[i]
		if q != '"' && q != '\'' {
			return nil, false
		}
		j := bytes.IndexByte(attrs[i+1:], q)
		if j < 0 {
			return nil, false
		}
		v := attrs[i+1 : i+1+j]
		i += j + 2
		if string(k) == key {
			return v, true
		}
	}
	return nil, false
}

// maxEntity is the longest entity or character reference read, with its
// '&' and ';' ("&#x0010FFFF;" is 12 bytes): the ';' is looked for no
// further, so that text of many '&' costs no more than other text.
const maxEntity = 32

// appendUnescaped appends XML text with entity and character references
// decoded; unknown references are kept as written. It examines each byte
// of s at most maxEntity times.
func appendUnescaped(dst, s []byte) []byte {
	for {
		i := bytes.IndexByte(s, '&')
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		s = s[i:]
		j := bytes.IndexByte(s[:min(len(s), maxEntity)], ';')
		if j < 0 {
			dst = append(dst, '&')
			s = s[1:]
			continue
		}
		ent := s[1:j]
		switch string(ent) {
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "amp":
			dst = append(dst, '&')
		case "quot":
			dst = append(dst, '"')
		case "apos":
			dst = append(dst, '\'')
		default:
			r, ok := charRef(ent)
			if !ok {
				dst = append(dst, s[:j+1]...)
				s = s[j+1:]
				continue
			}
			dst = utf8.AppendRune(dst, r)
		}
		s = s[j+1:]
	}
}

func charRef(ent []byte) (rune, bool) {
	if len(ent) < 2 || ent[0] != '#' {
		return 0, false
	}
	var n uint64
	var err error
	if ent[1] == 'x' || ent[1] == 'X' {
		n, err = strconv.ParseUint(string(ent[2:]), 16, 32)
	} else {
		n, err = strconv.ParseUint(string(ent[1:]), 10, 32)
	}
	if err != nil || n > utf8.MaxRune {
		return 0, false
	}
	return rune(n), true
}
