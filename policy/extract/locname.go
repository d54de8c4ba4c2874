package extract

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Names the sender chose (attachment and member names, sheet names, the
// name of a uuencoded file) appear in locations, and locations reach logs,
// incidents and the console. The names are scanned as text like any
// other, so a value hidden in one is found; the location must not repeat
// it. quoteName keeps a name readable while dropping what could be a
// value: every digit of a run of five or more becomes '#', and a long
// token of letters and digits with a digit among them (a key, a token)
// keeps its first four characters. Words and paths stay as they are.

const (
	maxNameDigits = 4  // a run of more digits is masked
	maxNameToken  = 20 // a longer token with a digit is cut to its first four characters
	maxNameBytes  = 80 // a longer name is cut, with an ellipsis
)

// quoteName is strconv.Quote of name with possible values masked.
func quoteName(name string) string { return strconv.Quote(redactName(name)) }

func redactName(name string) string {
	var b strings.Builder
	b.Grow(min(len(name), maxNameBytes+8))
	for i := 0; i < len(name); {
		j := i
		for j < len(name) && tokenByte(name[j]) {
			j++
		}
		if j == i {
			r, n := utf8.DecodeRuneInString(name[i:])
			if r == utf8.RuneError && n <= 1 {
				b.WriteByte('?')
				n = 1
			} else {
				b.WriteString(name[i : i+n])
			}
			i += n
		} else {
			writeToken(&b, name[i:j])
			i = j
		}
		if b.Len() > maxNameBytes {
			return b.String()[:maxNameBytes] + "…"
		}
	}
	return b.String()
}

// tokenByte is a byte of a token that may hold a value: letters, digits
// and the punctuation of keys and tokens (not '.', so that an extension
// stays its own token).
func tokenByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
		c == '_' || c == '-' || c == '+' || c == '='
}

func writeToken(b *strings.Builder, t string) {
	if len(t) > maxNameToken && strings.ContainsAny(t, "0123456789") {
		b.WriteString(t[:4])
		b.WriteString("…")
		return
	}
	for i := 0; i < len(t); {
		if t[i] < '0' || t[i] > '9' {
			b.WriteByte(t[i])
			i++
			continue
		}
		j := i
		for j < len(t) && t[j] >= '0' && t[j] <= '9' {
			j++
		}
		if j-i > maxNameDigits {
			b.WriteString(strings.Repeat("#", j-i))
		} else {
			b.WriteString(t[i:j])
		}
		i = j
	}
}

// RedactName is name as locations show it: readable, with what could be a
// value masked (see quoteName), unquoted. Records use it for sender-chosen
// identifiers that are not scanned as values (a Message-ID).
func RedactName(name string) string { return redactName(name) }
