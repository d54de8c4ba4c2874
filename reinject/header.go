package reinject

import (
	"bytes"
	"mime"
	"strings"
)

// header is a message's header block split into raw fields and the body
// after it, all as slices of the held message: nothing is copied, however
// large the header (a message without an empty line is all header).
//
// Only the fields the hop acts on (those named when splitting: Subject, the
// pass header) are kept one by one; the fields between them are kept as
// runs, one piece per chunk, so that the memory for the split does not
// grow with the number of fields a sender writes.
type header struct {
	fields []field
	sep    []byte   // the empty line ending the header (nil when there is none)
	body   [][]byte // the body: the rest of sep's chunk, then the chunks after it
}

// field is one raw header field named when splitting (name set), or a run
// of other fields and lines (name ""), with line ends and folded
// continuation lines, in one or more pieces (more than one when it crosses
// a chunk boundary).
type field struct {
	name string
	segs [][]byte
}

// splitHeader splits a message in one piece (tests, fuzzing).
func splitHeader(msg []byte, names ...string) header {
	return splitChunks([][]byte{msg}, names...)
}

// splitChunks splits a message held in chunks at its first empty line,
// keeping the fields called one of names (case-insensitively) apart. It
// never fails: a line that is not a field is kept, untouched. Each byte
// is looked at once (the search for the next line end starts where the
// last one stopped), and fields are slices of the chunks: the work is
// linear in the message and nothing is copied.
func splitChunks(chunks [][]byte, names ...string) header {
	h := header{}
	var line [][]byte // pieces of the current line
	lineLen := 0
	for ci, c := range chunks {
		for pos := 0; pos < len(c); {
			i := bytes.IndexByte(c[pos:], '\n')
			end := len(c)
			if i >= 0 {
				end = pos + i + 1
			}
			line = append(line, c[pos:end])
			lineLen += end - pos
			pos = end
			if i < 0 {
				break // the line goes on in the next chunk
			}
			if blankLine(line, lineLen) {
				h.sep = bytes.Join(line, nil)
				if pos < len(c) {
					h.body = append(h.body, c[pos:])
				}
				for _, rest := range chunks[ci+1:] {
					if len(rest) > 0 {
						h.body = append(h.body, rest)
					}
				}
				return h
			}
			h.addLine(line, names)
			line, lineLen = line[:0], 0
		}
	}
	if lineLen > 0 {
		h.addLine(line, names) // a last line without end
	}
	return h
}

// blankLine reports whether the line in pieces is "\r\n" or "\n".
func blankLine(pieces [][]byte, n int) bool {
	switch n {
	case 1:
		return pieces[0][0] == '\n'
	case 2:
		first := pieces[0][0]
		return first == '\r' && (len(pieces[0]) == 2 || pieces[1][0] == '\n')
	}
	return false
}

// addLine adds one header line: a continuation of the last field when it
// starts with white space, else a field of its own when it is named in
// names, else part of a run.
func (h *header) addLine(pieces [][]byte, names []string) {
	name := ""
	if c := pieces[0][0]; (c != ' ' && c != '\t') || len(h.fields) == 0 {
		name = lineName(pieces, names)
		if name != "" || len(h.fields) == 0 || h.fields[len(h.fields)-1].name != "" {
			h.fields = append(h.fields, field{name: name})
		}
	}
	f := &h.fields[len(h.fields)-1]
	for _, p := range pieces {
		f.segs = appendSeg(f.segs, p)
	}
}

// appendSeg appends p to segs, extending the last piece when p follows it
// in the same chunk.
func appendSeg(segs [][]byte, p []byte) [][]byte {
	if n := len(segs); n > 0 && len(p) > 0 {
		l := segs[n-1]
		if cap(l) > len(l) && &l[:len(l)+1][len(l)] == &p[0] {
			segs[n-1] = l[:len(l)+len(p)]
			return segs
		}
	}
	return append(segs, p)
}

// lineName is the one of names that a header line's field name (the
// bytes before its first colon, without trailing white space) equals,
// ignoring case, or "". It copies nothing: a name is compared only when
// its length is that of a wanted one.
func lineName(pieces [][]byte, names []string) string {
	longest := 0
	for _, n := range names {
		longest = max(longest, len(n))
	}
	if longest == 0 {
		return ""
	}
	k, colon, total := -1, 0, 0 // the colon at pieces[k][colon]; total bytes before it
	for j, p := range pieces {
		if x := bytes.IndexByte(p, ':'); x >= 0 {
			k, colon = j, x
			total += x
			break
		}
		total += len(p)
	}
	if k < 0 {
		return ""
	}
	// Back from the colon over trailing white space, then the name.
	var stack [256]byte
	buf := stack[:]
	if longest > len(buf) {
		buf = make([]byte, longest)
	}
	size, got := total, 0 // size: name length once trailing space is off
	trimming := true
	for j := k; j >= 0 && (trimming || got < size); j-- {
		p := pieces[j]
		if j == k {
			p = p[:colon]
		}
		for x := len(p) - 1; x >= 0 && (trimming || got < size); x-- {
			if trimming {
				if p[x] == ' ' || p[x] == '\t' {
					size--
					continue
				}
				trimming = false
				if size > longest {
					return ""
				}
			}
			got++
			buf[size-got] = p[x]
		}
	}
	if size == 0 {
		return ""
	}
	for _, want := range names {
		if asciiEqualFold(buf[:size], want) {
			return want
		}
	}
	return ""
}

// asciiEqualFold reports whether b equals s with ASCII letters compared
// without case (field names are ASCII, RFC 5322 section 3.6.8).
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// fieldName is the name of a raw field in one piece when it is one of
// names, else "".
func fieldName(f []byte, names ...string) string {
	return lineName([][]byte{f}, names)
}

// has reports whether a field named name is present.
func (h *header) has(name string) bool {
	for _, f := range h.fields {
		if strings.EqualFold(f.name, name) {
			return true
		}
	}
	return false
}

// count is the number of fields named name (one of the names the header
// was split with).
func (h *header) count(name string) int {
	n := 0
	for _, f := range h.fields {
		if strings.EqualFold(f.name, name) {
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
		if strings.EqualFold(f.name, name) {
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
		if !strings.EqualFold(f.name, "Subject") {
			continue
		}
		if replace != "" {
			h.fields[i] = newField("Subject", encodeWord(replace))
			return
		}
		old := valueSegs(f.segs)
		pv := bytes.TrimSuffix(fieldLine("Subject", prefixWord(prefix)), []byte("\r\n"))
		segs := append([][]byte{pv}, old...)
		if len(old) == 0 || !bytes.HasSuffix(old[len(old)-1], []byte("\n")) {
			segs = append(segs, []byte("\r\n"))
		}
		h.fields[i] = field{name: "Subject", segs: segs}
		return
	}
	v := encodeWord(replace)
	if replace == "" {
		v = strings.TrimRight(prefixWord(prefix), " ")
	}
	h.fields = append(h.fields, newField("Subject", v))
}

// valueSegs is the value of a field after its colon, without the white
// space that starts it, as slices of segs.
func valueSegs(segs [][]byte) [][]byte {
	var out [][]byte
	colon := false
	for _, s := range segs {
		if !colon {
			i := bytes.IndexByte(s, ':')
			if i < 0 {
				continue
			}
			colon = true
			s = s[i+1:]
		}
		if len(out) == 0 {
			s = bytes.TrimLeft(s, " \t")
			if len(s) == 0 {
				continue
			}
		}
		out = append(out, s)
	}
	return out
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

func newField(name, value string) field {
	return field{name: name, segs: [][]byte{fieldLine(name, value)}}
}

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

var lineEnd = []byte("\r\n")

// parts is the message to send on, in pieces: extra fields first, then
// the fields, the empty line and the body, as held (no copy).
func (h *header) parts(extra [][]byte) [][]byte {
	out := make([][]byte, 0, len(extra)+len(h.fields)+2+len(h.body))
	out = append(out, extra...)
	for _, f := range h.fields {
		out = append(out, f.segs...)
		if last := f.segs[len(f.segs)-1]; !bytes.HasSuffix(last, []byte("\n")) {
			out = append(out, lineEnd) // a last header line without end
		}
	}
	if len(h.sep) > 0 {
		out = append(out, h.sep)
	}
	return append(out, h.body...)
}
