package extract

// The lexer of PDF content streams, CMaps and dictionary values. Each call
// of next consumes at least one byte or ends the input, and no token is
// looked at twice: an unterminated string, hex string or array runs to the
// end of the input once, and nesting is counted, not recursed into.

type pdfKind int

const (
	pdfEOF pdfKind = iota
	pdfNumber
	pdfString
	pdfHex
	pdfName
	pdfOp
	pdfArrayStart
	pdfArrayEnd
	pdfDict
)

// pdfLexer splits PDF content into tokens; strings are returned decoded,
// in buf, and stay valid until the caller truncates buf.
type pdfLexer struct {
	b   []byte
	pos int
	buf []byte
}

func (l *pdfLexer) next() ([]byte, pdfKind) {
	b := l.b
	for l.pos < len(b) {
		c := b[l.pos]
		switch {
		case c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0:
			l.pos++
		case c == '%':
			for l.pos < len(b) && b[l.pos] != '\n' && b[l.pos] != '\r' {
				l.pos++
			}
		case c == '(':
			return l.literal(), pdfString
		case c == '<':
			if l.pos+1 < len(b) && b[l.pos+1] == '<' {
				l.pos += 2
				return nil, pdfDict
			}
			return l.hex(), pdfHex
		case c == '>':
			l.pos++
			if l.pos < len(b) && b[l.pos] == '>' {
				l.pos++
			}
			return nil, pdfDict
		case c == '[':
			l.pos++
			return nil, pdfArrayStart
		case c == ']':
			l.pos++
			return nil, pdfArrayEnd
		case c == '/':
			start := l.pos
			l.pos++
			for l.pos < len(b) && isPDFRegular(b[l.pos]) {
				l.pos++
			}
			return b[start:l.pos], pdfName
		case c == '+' || c == '-' || c == '.' || ('0' <= c && c <= '9'):
			start := l.pos
			l.pos++
			for l.pos < len(b) && (b[l.pos] == '.' || ('0' <= b[l.pos] && b[l.pos] <= '9')) {
				l.pos++
			}
			return b[start:l.pos], pdfNumber
		case c == '{' || c == '}' || c == ')':
			l.pos++
		default:
			start := l.pos
			l.pos++
			for l.pos < len(b) && isPDFRegular(b[l.pos]) {
				l.pos++
			}
			return b[start:l.pos], pdfOp
		}
	}
	return nil, pdfEOF
}

func isPDFRegular(c byte) bool {
	switch c {
	case ' ', '\n', '\r', '\t', '\f', 0, '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return false
	}
	return true
}

// literal reads a (string) with nesting and escapes.
func (l *pdfLexer) literal() []byte {
	b := l.b
	l.pos++
	out := l.buf
	start := len(out)
	depth := 1
	for l.pos < len(b) {
		c := b[l.pos]
		l.pos++
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				l.buf = out
				return out[start:len(out):len(out)]
			}
		case '\\':
			if l.pos >= len(b) {
				break
			}
			e := b[l.pos]
			l.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if l.pos < len(b) && b[l.pos] == '\n' {
					l.pos++
				}
				continue
			case '\n':
				continue
			default:
				if '0' <= e && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && l.pos < len(b) && '0' <= b[l.pos] && b[l.pos] <= '7'; k++ {
						v = v*8 + int(b[l.pos]-'0')
						l.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
	l.buf = out
	return out[start:len(out):len(out)]
}

// hex reads a <hex string>.
func (l *pdfLexer) hex() []byte {
	b := l.b
	l.pos++
	out := l.buf
	start := len(out)
	var hi byte
	half := false
	for l.pos < len(b) {
		c := b[l.pos]
		l.pos++
		if c == '>' {
			break
		}
		if !isHex(c) {
			continue
		}
		if half {
			out = append(out, hi<<4|unhex(c))
		} else {
			hi = unhex(c)
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	l.buf = out
	return out[start:len(out):len(out)]
}

// parsePDFNumber parses a PDF number ([+-]digits[.digits], no exponent).
func parsePDFNumber(t []byte) float64 {
	neg := false
	i := 0
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		neg = t[i] == '-'
		i++
	}
	var v, scale float64 = 0, 0
	for ; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= '0' && c <= '9':
			v = v*10 + float64(c-'0')
			if scale > 0 {
				scale *= 10
			}
		case c == '.' && scale == 0:
			scale = 1
		default:
			i = len(t)
		}
	}
	if scale > 1 {
		v /= scale
	}
	if neg {
		v = -v
	}
	return v
}
