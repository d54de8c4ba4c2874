package extract

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// decodeTransfer undoes a Content-Transfer-Encoding. It never fails: broken
// input decodes as far as it can, and unknown encodings pass through.
func decodeTransfer(cte string, body []byte) []byte {
	switch cteToken(cte) {
	case "base64":
		return decodeBase64(body)
	case "quoted-printable":
		return decodeQP(body)
	case "x-uuencode", "x-uue", "uuencode":
		if data, _, ok := uudecodeBlock(body); ok {
			return data
		}
	}
	return body
}

// stripComments removes the RFC 5322 comments of a structured field
// value ("(legacy) multipart/mixed (x); boundary=b"), nested or not,
// outside quoted strings, as mail clients read them; each comment becomes
// a space. It reads each byte once.
func stripComments(v string) string {
	if strings.IndexByte(v, '(') < 0 {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	depth, quoted := 0, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && (quoted || depth > 0):
			if depth == 0 {
				b.WriteByte(c)
				if i+1 < len(v) {
					b.WriteByte(v[i+1])
				}
			}
			i++
		case depth == 0 && c == '"':
			quoted = !quoted
			b.WriteByte(c)
		case !quoted && c == '(':
			if depth == 0 {
				b.WriteByte(' ')
			}
			depth++
		case depth > 0 && c == ')':
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// cteToken is the encoding a Content-Transfer-Encoding value names, in
// lower case, without a comment or junk after it ("base64 (x)", "base64;").
func cteToken(v string) string {
	v = strings.TrimSpace(stripComments(v))
	if i := strings.IndexAny(v, " \t;(\""); i >= 0 {
		v = v[:i]
	}
	return strings.ToLower(v)
}

// b64 maps a base64 (standard or URL) alphabet byte to its value, or 0xFF.
var b64 = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(std); i++ {
		t[std[i]] = byte(i)
	}
	t['-'], t['_'] = 62, 63
	return t
}()

// decodeBase64 decodes base64 ignoring every byte outside the alphabet
// (line breaks of any length, spaces, junk). Padding ends a group, so that
// concatenated encoded chunks decode too.
func decodeBase64(in []byte) []byte {
	if out, ok := decodeBase64Lines(in); ok {
		return out
	}
	return decodeBase64Tolerant(in)
}

// decodeBase64Lines is the fast path for well-formed bodies: one pass
// over the lines, each decoded by encoding/base64 straight into the output;
// a group split across lines is completed in a 4-byte carry.
func decodeBase64Lines(in []byte) ([]byte, bool) {
	enc := base64.StdEncoding
	out := make([]byte, enc.DecodedLen(len(in))+3) // +3: an unpadded last group
	o := 0
	var carry [4]byte
	nc := 0 // bytes in carry
	for len(in) > 0 {
		i := bytes.IndexByte(in, '\n')
		line := in
		if i >= 0 {
			line, in = in[:i], in[i+1:]
		} else {
			in = nil
		}
		if k := len(line); k > 0 && line[k-1] == '\r' {
			line = line[:k-1]
		}
		if nc > 0 {
			c := copy(carry[nc:], line)
			nc += c
			line = line[c:]
			if nc < 4 {
				continue
			}
			k, err := enc.Decode(out[o:], carry[:])
			if err != nil {
				return nil, false
			}
			o += k
			nc = 0
		}
		m := len(line) &^ 3
		if m > 0 {
			k, err := enc.Decode(out[o:], line[:m])
			if err != nil {
				return nil, false
			}
			o += k
		}
		nc = copy(carry[:], line[m:])
	}
	if nc > 0 {
		// A final group without its padding.
		k, err := base64.RawStdEncoding.Decode(out[o:], carry[:nc])
		if err != nil {
			return nil, false
		}
		o += k
	}
	return out[:o], true
}

// decodeBase64Tolerant decodes base64 ignoring every byte outside the
// alphabet (line breaks of any length, spaces, junk). Padding ends a
// group, so that concatenated encoded chunks decode too.
func decodeBase64Tolerant(in []byte) []byte {
	return appendBase64Tolerant(make([]byte, 0, len(in)*3/4+3), in)
}

// appendBase64Tolerant appends the tolerant decoding of in to out. It
// writes three bytes only after reading four, so out may be in[:0]: the
// decoding then overwrites only bytes already read (decodeBase64InPlace).
func appendBase64Tolerant(out, in []byte) []byte {
	var acc uint32
	n := 0
	flush := func() {
		switch n {
		case 2:
			out = append(out, byte(acc>>4))
		case 3:
			out = append(out, byte(acc>>10), byte(acc>>2))
		}
		acc, n = 0, 0
	}
	for _, c := range in {
		if c == '=' {
			flush()
			continue
		}
		v := b64[c]
		if v == 0xFF {
			continue
		}
		acc = acc<<6 | uint32(v)
		n++
		if n == 4 {
			out = append(out, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
	}
	flush()
	return out
}

// decodeQP decodes quoted-printable (RFC 2045 6.7). Soft line breaks,
// also with transport padding after the "=", join the pieces of a split
// value; hex digits may be lower case; bad escapes are kept as written.
// The standard library's reader works a byte at a time through bufio and
// stops at the first bad escape.
func decodeQP(in []byte) []byte {
	out := make([]byte, 0, len(in))
	for len(in) > 0 {
		i := bytes.IndexByte(in, '=')
		if i < 0 {
			return append(out, in...)
		}
		out = append(out, in[:i]...)
		in = in[i+1:]
		switch {
		case len(in) >= 2 && isHex(in[0]) && isHex(in[1]):
			out = append(out, unhex(in[0])<<4|unhex(in[1]))
			in = in[2:]
			continue
		}
		j := 0
		for j < len(in) && (in[j] == ' ' || in[j] == '\t') {
			j++
		}
		switch {
		case j < len(in) && in[j] == '\n':
			in = in[j+1:]
		case j+1 < len(in) && in[j] == '\r' && in[j+1] == '\n':
			in = in[j+2:]
		case j == len(in):
			in = nil // "=" at the very end
		default:
			out = append(out, '=')
		}
	}
	return out
}

// decodeText converts b to UTF-8. A BOM wins; then the declared charset;
// then detection: valid UTF-8 is kept, NUL patterns mean UTF-16, anything
// else is read as Windows-1252, so that no byte is dropped.
func decodeText(b []byte, cs string) string {
	s, _ := decodeCharset(b, cs)
	return s
}

// unknownCharsetLabels mean "the charset is not known" (RFC 1428
// unknown-8bit and common variants): the reader's client knows no more
// than we do, so reading the bytes as they are matches what it shows.
var unknownCharsetLabels = map[string]bool{
	"": true, "unknown-8bit": true, "x-unknown": true, "unknown": true, "default": true,
}

// decodeCharset is decodeText that also reports whether the declared
// charset was understood. A charset we cannot decode is read as bytes
// (UTF-8, UTF-16 or Windows-1252 by sniffing), so that its text is still
// scanned, and known is false, so that the caller can say so: a client
// that knows the charset may show text we did not read.
func decodeCharset(b []byte, cs string) (s string, known bool) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return toValidUTF8(b[3:]), true
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return decodeUTF16(b[2:], false), true
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return decodeUTF16(b[2:], true), true
	}
	cs = normalizeCharset(cs)
	if a, ok := charsetAliases[cs]; ok {
		cs = a
	}
	switch cs {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return sniffText(b), true
	case "utf-32", "utf-32le", "utf-32be", "ucs-4", "ucs-4le", "ucs-4be":
		order := utf32.LittleEndian
		if strings.HasSuffix(cs, "be") || cs != "utf-32le" && cs != "ucs-4le" && bytes.HasPrefix(b, []byte{0, 0, 0xFE, 0xFF}) {
			order = utf32.BigEndian
		}
		out, err := utf32.UTF32(order, utf32.UseBOM).NewDecoder().Bytes(b)
		if err != nil {
			return sniffText(b), true
		}
		return toValidUTF8(out), true
	case "utf-16le", "ucs-2le":
		return decodeUTF16(b, false), true
	case "utf-16be", "ucs-2be":
		return decodeUTF16(b, true), true
	case "utf-16", "ucs-2", "unicode":
		return decodeUTF16(b, !looksUTF16LE(b)), true
	}
	if unknownCharsetLabels[cs] {
		return sniffText(b), true
	}
	if utf7Charsets[cs] {
		return decodeUTF7(b), true
	}
	r, err := charsetReader(cs, bytes.NewReader(b))
	if err != nil || r == nil {
		return sniffText(b), false
	}
	var buf bytes.Buffer
	buf.Grow(len(b) + len(b)/2)
	if _, err := buf.ReadFrom(r); err != nil {
		return sniffText(b), true
	}
	return toValidUTF8(buf.Bytes()), true
}

// charsetAliases are labels in use in mail that the charset tables lack,
// mapped to the charset they name.
var charsetAliases = map[string]string{
	"utf8mb4": "utf-8", "utf-8-sig": "utf-8", "cp65001": "utf-8", "unicode-1-1-utf-8": "utf-8",
	"latin-1": "iso-8859-1", "8859-1": "iso-8859-1",
	"cp932": "shift_jis", "ms932": "shift_jis", "x-ms-cp932": "shift_jis",
	"cp949": "euc-kr", "x-windows-949": "euc-kr", "ms949": "euc-kr", "uhc": "euc-kr",
}

// normalizeCharset lower-cases a charset label and removes quotes and an
// RFC 2231 language suffix ("utf-8*en").
func normalizeCharset(cs string) string {
	cs = strings.ToLower(strings.Trim(strings.TrimSpace(cs), `"`))
	if i := strings.IndexByte(cs, '*'); i >= 0 {
		cs = cs[:i]
	}
	return cs
}

// safeLabel returns a charset label for a log detail: the label is sender
// text, so a long one or one with many digits is withheld.
func safeLabel(cs string) string {
	digits := 0
	for i := 0; i < len(cs); i++ {
		c := cs[i]
		switch {
		case '0' <= c && c <= '9':
			digits++
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '-', c == '_', c == '.', c == ':':
		default:
			return "(name withheld)"
		}
	}
	if len(cs) > 40 || digits > 6 {
		return "(name withheld)"
	}
	return strconv.Quote(cs)
}

// sniffText decodes text whose charset is unknown.
func sniffText(b []byte) string {
	if bytes.IndexByte(b, 0) >= 0 {
		if le, be := nulPattern(b); le || be {
			return decodeUTF16(b, be)
		}
	}
	// utf8.Valid has a fast path for ASCII of its own: testing isASCII
	// first would read ASCII text twice.
	if utf8.Valid(b) {
		return string(b)
	}
	s, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return toValidUTF8(b)
	}
	return string(s)
}

// nulPattern reports UTF-16LE or UTF-16BE text by where the NUL bytes of
// ASCII characters fall.
func nulPattern(b []byte) (le, be bool) {
	n := min(len(b), 4096) &^ 1
	if n < 4 {
		return false, false
	}
	var even, odd int
	for i := 0; i < n; i += 2 {
		if b[i] == 0 {
			even++
		}
		if b[i+1] == 0 {
			odd++
		}
	}
	pairs := n / 2
	switch {
	case odd*10 >= pairs*3 && even*10 < pairs:
		return true, false
	case even*10 >= pairs*3 && odd*10 < pairs:
		return false, true
	}
	return false, false
}

func looksUTF16LE(b []byte) bool {
	le, _ := nulPattern(b)
	return le
}

func decodeUTF16(b []byte, bigEndian bool) string {
	order := unicode.LittleEndian
	if bigEndian {
		order = unicode.BigEndian
	}
	s, err := unicode.UTF16(order, unicode.IgnoreBOM).NewDecoder().Bytes(b)
	if err != nil {
		return toValidUTF8(b)
	}
	return string(s)
}

func toValidUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// isASCII reports whether b holds only 7-bit bytes, 32 at a time (see
// isASCIIString).
func isASCII(b []byte) bool {
	const high = 0x8080808080808080
	le := binary.LittleEndian
	for len(b) >= 32 {
		if (le.Uint64(b)|le.Uint64(b[8:])|le.Uint64(b[16:])|le.Uint64(b[24:]))&high != 0 {
			return false
		}
		b = b[32:]
	}
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
