package idm

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Normalize returns the text that is fingerprinted: Unicode NFKC, case
// folded, letters, digits and marks kept, every run of anything else
// (whitespace, punctuation, symbols, control characters) collapsed to one
// space, no leading or trailing space. Quoting ("> "), re-wrapping,
// upper-casing and re-punctuating a passage therefore leave it unchanged.
// ASCII text takes a byte loop; other text is normalised and folded first.
// The work is linear in len(s).
func Normalize(s string) string {
	return string(AppendNormalized(nil, s))
}

// AppendNormalized appends the normalised form of s to dst (see
// [Normalize]), so that a caller can reuse one buffer for many parts.
func AppendNormalized(dst []byte, s string) []byte {
	if !isASCII(s) {
		s = norm.NFKC.String(s)
		s = cases.Fold().String(s)
		return appendFolded(dst, s)
	}
	space := len(dst) == 0 || dst[len(dst)-1] == ' '
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		default:
			if !space {
				dst = append(dst, ' ')
				space = true
			}
			continue
		}
		dst = append(dst, c)
		space = false
	}
	return trimSpace(dst)
}

// appendFolded is the loop of AppendNormalized for folded Unicode text.
func appendFolded(dst []byte, s string) []byte {
	space := len(dst) == 0 || dst[len(dst)-1] == ' '
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
			space = false
			continue
		}
		if !space {
			dst = append(dst, ' ')
			space = true
		}
	}
	return trimSpace(dst)
}

func trimSpace(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == ' ' {
		return b[:n-1]
	}
	return b
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
