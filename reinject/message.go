package reinject

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"strings"
	"sync"
)

// errBareNewline is a bare CR or bare LF in DATA under bare_newline = "reject".
var errBareNewline = errors.New("reinject: bare CR or LF in message data")

// newlineReader checks line ends in DATA as it streams. With reject set it
// fails at the first CR not followed by LF or LF not preceded by CR; else
// it rewrites each to CRLF. Either way nothing but CRLF ends a line in what
// it returns, so no bare-CR/LF sequence (<LF>.<LF>, <CR>.<CR>,
// <CR><LF>.<CR>, ...) can become a message boundary downstream.
type newlineReader struct {
	r      io.Reader
	reject bool
	cr     bool   // the last byte read was a CR not yet known to be bare
	buf    []byte // read buffer
	out    []byte // normalised bytes not yet returned
	err    error
}

func newNewlineReader(r io.Reader, reject bool) *newlineReader {
	return &newlineReader{r: r, reject: reject, buf: make([]byte, 32<<10)}
}

func (n *newlineReader) Read(p []byte) (int, error) {
	if n.reject {
		return n.readReject(p)
	}
	for len(n.out) == 0 {
		if n.err != nil {
			return 0, n.err
		}
		k, err := n.r.Read(n.buf[:min(len(n.buf), max(len(p), 512))])
		if err != nil {
			n.err = err
			if err == io.EOF && n.cr {
				// A CR at the very end: go-smtp's reader ends on CRLF.CRLF,
				// so this cannot happen with it, but a reader may.
				if n.reject {
					n.err = errBareNewline
				} else {
					n.out = append(n.out, '\n')
				}
				n.cr = false
			}
		}
		if e := n.scan(n.buf[:k]); e != nil {
			n.err = e
			n.out = n.out[:0]
			return 0, e
		}
	}
	c := copy(p, n.out)
	n.out = n.out[c:]
	if len(n.out) == 0 {
		n.out = n.out[:0:cap(n.out)]
	}
	return c, nil
}

// readReject reads straight into p and checks it.
func (n *newlineReader) readReject(p []byte) (int, error) {
	if n.err != nil {
		return 0, n.err
	}
	k, err := n.r.Read(p)
	if !cleanLineEnds(p[:k], &n.cr) {
		n.err = errBareNewline
		return 0, n.err
	}
	if err == io.EOF && n.cr {
		n.err = errBareNewline
		return 0, n.err
	}
	if err != nil {
		n.err = err
	}
	return k, err
}

// cleanLineEnds reports whether every CR in b is followed by LF and every
// LF preceded by CR; cr carries a trailing CR from one call to the next.
func cleanLineEnds(b []byte, cr *bool) bool {
	for len(b) > 0 {
		if *cr {
			if b[0] != '\n' {
				return false
			}
			*cr = false
			b = b[1:]
			continue
		}
		i := indexCRLF(b)
		if i < 0 {
			return true
		}
		if b[i] == '\n' {
			return false
		}
		*cr = true
		b = b[i+1:]
	}
	return true
}

func (n *newlineReader) scan(b []byte) error {
	for _, c := range b {
		switch {
		case n.cr && c == '\n':
			n.out = append(n.out, '\n')
			n.cr = false
			continue
		case n.cr:
			n.out = append(n.out, '\n') // bare CR -> CRLF
		case c == '\n':
			n.out = append(n.out, '\r', '\n') // bare LF -> CRLF
			n.cr = false
			continue
		}
		n.out = append(n.out, c)
		n.cr = c == '\r'
	}
	return nil
}

// header is a message's header block split into raw fields (each with its
// folded continuation lines and line ends), and the body after it.
type header struct {
	fields [][]byte
	sep    []byte // the empty line ending the header ("" when there is none)
	body   []byte
}

// splitHeader splits msg at the first empty line. It never fails: a line
// that is not a field is kept as one, untouched.
func splitHeader(msg []byte) header {
	var h header
	rest := msg
	for len(rest) > 0 {
		end := bytes.IndexByte(rest, '\n')
		if end < 0 {
			end = len(rest)
		} else {
			end++
		}
		line := rest[:end]
		if bytes.Equal(line, []byte("\r\n")) || bytes.Equal(line, []byte("\n")) {
			h.sep = line
			h.body = rest[end:]
			return h
		}
		if (line[0] == ' ' || line[0] == '\t') && len(h.fields) > 0 {
			last := h.fields[len(h.fields)-1]
			h.fields[len(h.fields)-1] = last[:len(last)+len(line)] // fields are contiguous in msg
		} else {
			h.fields = append(h.fields, line)
		}
		rest = rest[end:]
	}
	return h
}

// fieldName is the name of a raw field, or "" when it has no colon.
func fieldName(f []byte) string {
	i := bytes.IndexByte(f, ':')
	if i <= 0 {
		return ""
	}
	return string(bytes.TrimRight(f[:i], " \t"))
}

// has reports whether a field named name is present.
func (h *header) has(name string) bool {
	for _, f := range h.fields {
		if strings.EqualFold(fieldName(f), name) {
			return true
		}
	}
	return false
}

// count is the number of fields named name.
func (h *header) count(name string) int {
	n := 0
	for _, f := range h.fields {
		if strings.EqualFold(fieldName(f), name) {
			n++
		}
	}
	return n
}

// remove drops every field named name.
func (h *header) remove(name string) int {
	kept := h.fields[:0:0]
	n := 0
	for _, f := range h.fields {
		if strings.EqualFold(fieldName(f), name) {
			n++
			continue
		}
		kept = append(kept, f)
	}
	h.fields = kept
	return n
}

// setSubject puts prefix before the subject (as given: a separating space
// is the prefix's own), or replaces the subject when replace is set.
// Non-ASCII text is encoded (RFC 2047); the existing value is kept as it
// was, folding included.
func (h *header) setSubject(prefix, replace string) {
	if prefix == "" && replace == "" {
		return
	}
	for i, f := range h.fields {
		if !strings.EqualFold(fieldName(f), "Subject") {
			continue
		}
		if replace != "" {
			h.fields[i] = fieldLine("Subject", encodeWord(replace))
			return
		}
		old := strings.TrimLeft(string(f[bytes.IndexByte(f, ':')+1:]), " \t")
		if !strings.HasSuffix(old, "\n") {
			old += "\r\n"
		}
		pv := strings.TrimSuffix(string(fieldLine("Subject", prefixWord(prefix))), "\r\n")
		h.fields[i] = []byte(pv + old)
		return
	}
	v := encodeWord(replace)
	if replace == "" {
		v = strings.TrimRight(prefixWord(prefix), " ")
	}
	h.fields = append(h.fields, fieldLine("Subject", v))
}

// prefixWord is prefix ready to stand before other text: as it is when
// ASCII, else one encoded word followed by a space (RFC 2047 words must be
// separated from text by white space).
func prefixWord(prefix string) string {
	if e := encodeWord(prefix); e != prefix {
		return encodeWord(strings.TrimRight(prefix, " ")) + " "
	}
	return prefix
}

func encodeWord(s string) string { return mime.QEncoding.Encode("utf-8", s) }

// fieldLine renders one header field; CR and LF in name or value are
// dropped so a configured value cannot start a new field.
func fieldLine(name, value string) []byte {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, s)
	}
	return []byte(clean(name) + ": " + clean(value) + "\r\n")
}

// bytes renders the header block (fields and the separating empty line)
// with extra fields first.
func (h *header) render(extra [][]byte) []byte {
	n := len(h.sep)
	for _, f := range extra {
		n += len(f)
	}
	for _, f := range h.fields {
		n += len(f)
	}
	out := make([]byte, 0, n+2)
	for _, f := range extra {
		out = append(out, f...)
	}
	for _, f := range h.fields {
		out = append(out, f...)
		if !bytes.HasSuffix(f, []byte("\n")) {
			out = append(out, '\r', '\n') // a last header line without end
		}
	}
	return append(out, h.sep...)
}

// chunkSize is the unit in which a received message is held.
const chunkSize = 64 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, chunkSize); return &b }}

// message is a received message held in pooled chunks: no copying as it
// grows, no second copy at its largest, memory back to the pool after it.
type message struct {
	chunks []*[]byte
	size   int64
}

// space returns room for at least 512 bytes at the end of the message.
func (m *message) space() []byte {
	if n := len(m.chunks); n > 0 {
		last := *m.chunks[n-1]
		if cap(last)-len(last) >= 512 {
			return last[len(last):cap(last)]
		}
	}
	m.chunks = append(m.chunks, chunkPool.Get().(*[]byte))
	last := *m.chunks[len(m.chunks)-1]
	return last[len(last):cap(last)]
}

// grow adds the n bytes just read into space().
func (m *message) grow(n int) {
	last := m.chunks[len(m.chunks)-1]
	*last = (*last)[:len(*last)+n]
	m.size += int64(n)
}

// split returns the header (with the body bytes that share its chunks)
// and the chunks after it. The header is contiguous: chunks are joined
// (copied) only while no end of header has been seen.
func (m *message) split() (header, [][]byte) {
	if m == nil || len(m.chunks) == 0 {
		return splitHeader(nil), nil
	}
	joined := *m.chunks[0]
	used := 1
	for !hasHeaderEnd(joined) && used < len(m.chunks) {
		joined = append(joined[:len(joined):len(joined)], *m.chunks[used]...)
		used++
	}
	rest := make([][]byte, 0, len(m.chunks)-used)
	for _, c := range m.chunks[used:] {
		rest = append(rest, *c)
	}
	return splitHeader(joined), rest
}

func hasHeaderEnd(b []byte) bool {
	return bytes.HasPrefix(b, []byte("\r\n")) || bytes.HasPrefix(b, []byte("\n")) ||
		bytes.Contains(b, []byte("\n\r\n")) || bytes.Contains(b, []byte("\n\n"))
}

// release returns the chunks to the pool; m must not be used after.
func (m *message) release() {
	if m == nil {
		return
	}
	for _, c := range m.chunks {
		*c = (*c)[:0]
		chunkPool.Put(c)
	}
	m.chunks, m.size = nil, 0
}
