package extract

import (
	"unicode/utf16"
	"unicode/utf8"
)

// utf7Charsets are the labels of UTF-7 (RFC 2152). golang.org/x/text has
// no UTF-7 codec, and mail clients still decode it, so a body or an
// encoded word in UTF-7 would otherwise be scanned as its base64 letters.
var utf7Charsets = map[string]bool{
	"utf-7": true, "utf7": true, "unicode-1-1-utf-7": true, "csunicode11utf7": true,
	"x-unicode-2-0-utf-7": true, "unicode-2-0-utf-7": true,
}

// decodeUTF7 decodes UTF-7 (RFC 2152) to UTF-8 in one pass over b.
//
// It is lenient the way a reader's client is, and never drops input:
// a byte outside US-ASCII is kept as the Latin-1 character of that byte,
// a '+' that opens no base64 run is kept as '+', an unpaired surrogate
// becomes U+FFFD, and bits left over at the end of a run are ignored.
// A base64 run ends at '-' (which is absorbed) or at any other byte
// outside the base64 alphabet (which is kept).
func decodeUTF7(b []byte) string {
	out := make([]byte, 0, len(b)+len(b)/2)
	var (
		shifted bool
		acc     uint32 // bits of the current run not yet in a code unit
		nbits   uint
		high    rune // a high surrogate waiting for its low half, or 0
	)
	endRun := func() {
		if high != 0 {
			out = utf8.AppendRune(out, utf8.RuneError)
			high = 0
		}
		shifted, acc, nbits = false, 0, 0
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if shifted {
			if v := b64[c]; v != 0xFF && c != '-' && c != '_' {
				acc = acc<<6 | uint32(v)
				nbits += 6
				if nbits >= 16 {
					nbits -= 16
					u := rune(acc >> nbits & 0xFFFF)
					acc &= 1<<nbits - 1
					switch {
					case utf16.IsSurrogate(u) && u < 0xDC00:
						if high != 0 {
							out = utf8.AppendRune(out, utf8.RuneError)
						}
						high = u
					case utf16.IsSurrogate(u):
						if high != 0 {
							out = utf8.AppendRune(out, utf16.DecodeRune(high, u))
							high = 0
						} else {
							out = utf8.AppendRune(out, utf8.RuneError)
						}
					default:
						if high != 0 {
							out = utf8.AppendRune(out, utf8.RuneError)
							high = 0
						}
						out = utf8.AppendRune(out, u)
					}
				}
				continue
			}
			endRun()
			if c == '-' {
				continue
			}
		}
		switch {
		case c == '+' && i+1 < len(b) && b[i+1] == '-':
			out = append(out, '+')
			i++
		case c == '+' && i+1 < len(b) && b64[b[i+1]] != 0xFF && b[i+1] != '_':
			shifted = true
		case c < utf8.RuneSelf:
			out = append(out, c)
		default:
			out = utf8.AppendRune(out, rune(c))
		}
	}
	endRun()
	return string(out)
}
