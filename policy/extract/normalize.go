package extract

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize prepares text for matching: format characters (category Cf:
// zero-width space and joiners, word joiner, BOM, soft hyphen, bidi marks)
// are removed, space separators (category Zs: NBSP, narrow and thin spaces)
// become a plain space, line and paragraph separators become a line break,
// and the result is in Unicode NFKC, so that fullwidth digits become ASCII
// digits. ASCII text is returned unchanged without allocating.
func Normalize(s string) string {
	if isASCIIString(s) {
		return s
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	changed := false
	last := 0 // start of the bytes not yet copied
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		var repl rune = -2 // keep
		switch {
		case r == 0x2028 || r == 0x2029:
			repl = '\n'
		case unicode.Is(unicode.Cf, r):
			repl = -1
		case unicode.Is(unicode.Zs, r):
			repl = ' '
		}
		if repl != -2 {
			if !changed {
				changed = true
				b.Grow(len(s))
			}
			b.WriteString(s[last:i])
			if repl >= 0 {
				b.WriteByte(byte(repl))
			}
			last = i + size
		}
		i += size
	}
	if changed {
		b.WriteString(s[last:])
		s = b.String()
	}
	return norm.NFKC.String(s)
}

// isASCIIString reports whether s holds only 7-bit bytes.
func isASCIIString(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if (uint64(s[i])|uint64(s[i+1])<<8|uint64(s[i+2])<<16|uint64(s[i+3])<<24|
			uint64(s[i+4])<<32|uint64(s[i+5])<<40|uint64(s[i+6])<<48|uint64(s[i+7])<<56)&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
