package extract

import (
	"strconv"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// rtf reads the text of an RTF document.
// Text read before the deadline is returned; the deadline is recorded.
func (e *extractor) rtf(data []byte, src source) {
	e.emit(Part{Location: src.loc, Kind: KindAttachment, MIMEType: "text/rtf", Filename: src.name, Size: int64(len(data))}, rtfText(data, e.m))
	e.alive(src.loc)
}

// rtfSkip lists destinations whose content is not document text.
var rtfSkip = map[string]bool{
	"fonttbl": true, "colortbl": true, "stylesheet": true, "info": true, "pict": true,
	"object": true, "objdata": true, "themedata": true, "colorschememapping": true,
	"datastore": true, "latentstyles": true, "listtable": true, "listoverridetable": true,
	"rsidtbl": true, "generator": true, "xmlnstbl": true, "mmathPr": true, "fldinst": true,
	"filetbl": true, "revtbl": true, "pgdsctbl": true, "wgrffmtfilter": true, "panose": true,
	"falt": true, "bkmkstart": true, "bkmkend": true, "xe": true, "tc": true,
}

var rtfSymbols = map[string]string{
	"par": "\n", "line": "\n", "sect": "\n", "page": "\n", "row": "\n", "pard": "",
	"tab": "\t", "cell": "\t", "nestcell": "\t", "emdash": "—", "endash": "–",
	"bullet": "•", "lquote": "‘", "rquote": "’", "ldblquote": "“", "rdblquote": "”",
	"emspace": " ", "enspace": " ", "qmspace": " ",
}

// rtfCodepage maps \ansicpg values to decoders; unknown pages use 1252.
func rtfCodepage(n int) encoding.Encoding {
	switch n {
	case 437:
		return charmap.CodePage437
	case 850:
		return charmap.CodePage850
	case 866:
		return charmap.CodePage866
	case 874:
		return charmap.Windows874
	case 932:
		return japanese.ShiftJIS
	case 936:
		return simplifiedchinese.GBK
	case 949:
		return korean.EUCKR
	case 950:
		return traditionalchinese.Big5
	case 1250:
		return charmap.Windows1250
	case 1251:
		return charmap.Windows1251
	case 1253:
		return charmap.Windows1253
	case 1254:
		return charmap.Windows1254
	case 1255:
		return charmap.Windows1255
	case 1256:
		return charmap.Windows1256
	case 1257:
		return charmap.Windows1257
	case 1258:
		return charmap.Windows1258
	case 10000:
		return charmap.Macintosh
	}
	return charmap.Windows1252
}

// rtfText returns the text of an RTF document: control words for breaks
// and special characters, \'hh bytes in the document's code page, \uN
// Unicode characters (with their \ucN fallbacks skipped), and no text from
// font tables, pictures, objects, field instructions or \* destinations.
// Each byte is looked at once (\binN skips its N bytes unread); the work
// is counted on m every few KiB and the reading ends at its deadline.
func rtfText(b []byte, m *meter) string {
	type state struct {
		skip bool
		uc   int
	}
	stack := make([]state, 0, 16)
	cur := state{uc: 1}
	enc := encoding.Encoding(charmap.Windows1252)
	out := make([]byte, 0, len(b)/2)
	var pending []byte // \'hh bytes waiting for decoding as a run
	skipChars := 0     // fallback characters after \uN still to skip
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if dec, err := enc.NewDecoder().Bytes(pending); err == nil {
			out = append(out, dec...)
		}
		pending = pending[:0]
	}
	text := func(c byte) {
		if cur.skip {
			return
		}
		if skipChars > 0 {
			skipChars--
			return
		}
		if c >= 0x80 {
			pending = append(pending, c)
			return
		}
		flush()
		out = append(out, c)
	}
	counted := 0
	for i := 0; i < len(b); {
		if i-counted >= 4<<10 {
			if !m.step(i - counted) {
				break
			}
			counted = i
		}
		c := b[i]
		switch c {
		case '{':
			flush()
			if len(stack) < 10000 {
				stack = append(stack, cur)
			}
			i++
		case '}':
			flush()
			if n := len(stack); n > 0 {
				cur = stack[n-1]
				stack = stack[:n-1]
			}
			skipChars = 0
			i++
		case '\r', '\n':
			i++
		case '\\':
			i++
			if i >= len(b) {
				break
			}
			c = b[i]
			switch {
			case isLetter(c):
				start := i
				for i < len(b) && isLetter(b[i]) && i-start < 32 {
					i++
				}
				word := string(b[start:i])
				param, hasParam := 0, false
				ps := i
				if i < len(b) && (b[i] == '-' || ('0' <= b[i] && b[i] <= '9')) {
					i++
					for i < len(b) && '0' <= b[i] && b[i] <= '9' && i-ps < 11 {
						i++
					}
					param, _ = strconv.Atoi(string(b[ps:i]))
					hasParam = true
				}
				if i < len(b) && b[i] == ' ' {
					i++
				}
				switch {
				case rtfSkip[word]:
					cur.skip = true
				case word == "ansicpg" && hasParam:
					enc = rtfCodepage(param)
				case word == "uc" && hasParam:
					cur.uc = min(max(param, 0), 10)
				case word == "u" && hasParam:
					if !cur.skip {
						flush()
						r := rune(param)
						if r < 0 {
							r += 65536
						}
						if !utf8.ValidRune(r) {
							r = utf8.RuneError
						}
						out = utf8.AppendRune(out, r)
						skipChars = cur.uc
					}
				case word == "bin" && hasParam:
					i += min(max(param, 0), len(b)-i)
				default:
					if s, ok := rtfSymbols[word]; ok && !cur.skip {
						flush()
						out = append(out, s...)
					}
				}
			case c == '\'':
				if i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
					text(unhex(b[i+1])<<4 | unhex(b[i+2]))
					i += 3
				} else {
					i++
				}
			case c == '*':
				cur.skip = true
				i++
			case c == '~':
				text(' ')
				i++
			case c == '_':
				text('-')
				i++
			case c == '-':
				i++
			case c == '\r' || c == '\n':
				if !cur.skip {
					flush()
					out = append(out, '\n')
				}
				i++
			default:
				text(c)
				i++
			}
		default:
			text(c)
			i++
		}
	}
	m.step(len(b) - counted)
	flush()
	return toValidUTF8(out)
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
