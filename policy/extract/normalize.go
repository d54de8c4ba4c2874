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
// decimal digits of every script (category Nd: Arabic-Indic, Devanagari,
// Thai...) become ASCII digits, and the result is in Unicode NFKC, so that
// fullwidth digits become ASCII digits too: a reader sees a number
// whatever the script of its digits. ASCII text is returned unchanged
// without allocating.
func Normalize(s string) string {
	if isASCIIString(s) {
		return s
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	changed := false
	inert := true // every rune is one NFKC leaves alone
	last := 0     // start of the bytes not yet copied
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if plainRune(r) {
			if inert && !nfkcInert(r) {
				inert = false
			}
			i += size
			continue
		}
		var repl rune = -2 // keep
		switch {
		case r == 0x2028 || r == 0x2029:
			repl = '\n'
		case unicode.Is(unicode.Cf, r):
			repl = -1
		case unicode.Is(unicode.Zs, r):
			repl = ' '
		case unicode.Is(unicode.Nd, r):
			repl = '0' + rune(digitValue(r))
		case !nfkcInert(r):
			inert = false
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
	if inert {
		return s // NFKC would return it unchanged, at some cost
	}
	return norm.NFKC.String(s)
}

// digitValue returns the value of a decimal digit (category Nd). Unicode
// encodes each script's digits as a run of ten from zero, and every range
// of the Nd table is made of whole runs (TestIssue7DigitRanges checks it),
// so the value is the offset from the range start modulo ten.
func digitValue(r rune) int {
	for _, rg := range unicode.Nd.R16 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	return 0
}

// isASCIIString reports whether s holds only 7-bit bytes, 32 at a time:
// four 8-byte words ORed together before one test.
func isASCIIString(s string) bool {
	const high = 0x8080808080808080
	for len(s) >= 32 {
		if (load64(s[:8])|load64(s[8:16])|load64(s[16:24])|load64(s[24:32]))&high != 0 {
			return false
		}
		s = s[32:]
	}
	for len(s) >= 8 {
		if load64(s[:8])&high != 0 {
			return false
		}
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// load64 reads the first 8 bytes of s as a little-endian word; the
// compiler makes it one load.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// plainRune reports runes in ranges without format characters, space
// separators or digits other than ASCII (Latin, Greek, Cyrillic, Hebrew,
// CJK, Hangul), to skip the table lookups for most text. U+A620 to U+ABFF
// holds the digits of several scripts.
func plainRune(r rune) bool {
	switch {
	case r < 0x0600:
		return r != 0x00A0 && r != 0x00AD
	case r >= 0x3040 && r < 0xA620, r >= 0xAC00 && r < 0xFE00:
		return true
	}
	return false
}

// nfkcInert reports runes that NFKC leaves unchanged and that never
// combine with their neighbours: letters of the common alphabets and
// ideographs. A text made only of these and ASCII needs no NFKC pass.
// TestNFKCInert checks the ranges against golang.org/x/text.
func nfkcInert(r rune) bool {
	switch {
	case r >= 0x00C0 && r <= 0x00FF, // Latin-1 letters
		r >= 0x0388 && r <= 0x03CE, // Greek
		r >= 0x0400 && r <= 0x045F, // Cyrillic
		r >= 0x05D0 && r <= 0x05EA, // Hebrew
		r >= 0x0621 && r <= 0x064A, // Arabic letters
		r >= 0x3041 && r <= 0x3096, // Hiragana
		r >= 0x30A1 && r <= 0x30FA, // Katakana
		r >= 0x4E00 && r <= 0x9FFF, // CJK ideographs
		r >= 0xAC00 && r <= 0xD7A3: // Hangul syllables
		return true
	case r == 0x2013, r == 0x2014, r == 0x2018, r == 0x2019, r == 0x201C, r == 0x201D, r == 0x2022, r == 0x20AC:
		return true
	}
	return false
}
