package idm

import (
	"strings"
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
// ASCII takes a byte loop; each run of other characters is normalised
// and folded on its own.
// The work is linear in len(s).
func Normalize(s string) string {
	return string(AppendNormalized(nil, s))
}

// AppendNormalized appends the normalised form of s to dst (see
// [Normalize]), so that a caller can reuse one buffer for many parts.
func AppendNormalized(dst []byte, s string) []byte {
	return trimSpace(appendNormalized(dst, s))
}

// appendNormalized is AppendNormalized without removing a trailing space,
// so that a text can be normalised in pieces that each end before an ASCII
// byte (see Scanner.Text) with the same result as in one go.
func appendNormalized(dst []byte, s string) []byte {
	space := len(dst) == 0 || dst[len(dst)-1] == ' '
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= utf8.RuneSelf:
			// a run of non-ASCII text: normalised and folded on its own,
			// so the result depends on the run only, the same in a
			// document and in a message
			j := i + 1
			for j < len(s) && s[j] >= utf8.RuneSelf {
				j++
			}
			run := s[i:j]
			if !utf8.ValidString(run) {
				// NFKC is only consistent over valid text: after an
				// invalid byte x/text leaves a mark it would map
				// ("\xf6\u0341" stays, "\xf6\u0341\u0572" gives U+0301),
				// so a piece and the whole would differ. A run of
				// invalid bytes, never cut by pieceEnd, is one U+FFFD
				// (not a letter: a space).
				run = strings.ToValidUTF8(run, "\uFFFD")
			}
			dst, space = appendFolded(dst, cases.Fold().String(norm.NFKC.String(run)), space)
			i = j - 1
			continue
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
	return dst
}

// appendFolded appends the letters, digits and marks of folded Unicode
// text s, lowercased, other runs as one space.
func appendFolded(dst []byte, s string, space bool) ([]byte, bool) {
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
	return dst, space
}

func trimSpace(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == ' ' {
		return b[:n-1]
	}
	return b
}
