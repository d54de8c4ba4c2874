package edm

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/maildlp/maildlp/policy/extract"
)

// Class says how the values of a column are written and normalised. The
// same functions normalise a cell at index time and a candidate at scan
// time, so that a value matches however it is formatted.
type Class uint8

const (
	// Digits: the digits only ("123-45-6789" -> "123456789").
	Digits Class = iota + 1
	// Alnum: letters and digits, lower case, no delimiters
	// ("AB-12 34" -> "ab1234").
	Alnum
	// Email: trimmed, lower case.
	Email
	// Phone: the last nine digits, so that "+1 (555) 010-4477",
	// "555.010.4477" and "0044 20 7946 0958" / "020 7946 0958" agree
	// whatever the country prefix or trunk zero.
	Phone
	// Name: words of letters and digits, lower case, joined by one space
	// ("O'Brien, Mary-Ann" -> "o brien mary ann"); matched as a word
	// sequence.
	Name
	// Date: ISO 8601 (1980-03-12), from ISO, day/month/year and
	// month/day/year forms and English month names.
	Date
)

var classNames = [...]string{Digits: "digits", Alnum: "alnum", Email: "email", Phone: "phone", Name: "name", Date: "date"}

func (c Class) String() string {
	if int(c) < len(classNames) && classNames[c] != "" {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// ParseClass maps a class name to a Class; "text" is another name for
// name.
func ParseClass(s string) (Class, error) {
	if s == "text" {
		return Name, nil
	}
	for c, n := range classNames {
		if n != "" && n == s {
			return Class(c), nil
		}
	}
	return 0, fmt.Errorf("unknown column class %q (want digits, alnum, email, phone, name, text or date)", s)
}

// anchorable reports whether values of the class can anchor a row: they
// are single tokens found by shape in the whole text. Names and dates
// only support a row found by an anchor.
func (c Class) anchorable() bool { return c == Digits || c == Alnum || c == Email || c == Phone }

const (
	minPhoneDigits = 7
	maxPhoneDigits = 15
	phoneKeep      = 9
	maxValueLen    = 64 // longest normalised value of an anchor class
	maxNameTokens  = 8
)

// Normalize returns the canonical form of a cell of class c, or "" when
// the cell has no value of that class (it is then not indexed).
func Normalize(c Class, cell string) string {
	cell = extract.Normalize(cell)
	switch c {
	case Digits:
		return keep(cell, func(r rune) bool { return r >= '0' && r <= '9' }, false)
	case Alnum:
		return keep(cell, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }, true)
	case Email:
		s := strings.ToLower(strings.TrimSpace(cell))
		s = strings.Trim(s, "<>.;,")
		if strings.Count(s, "@") != 1 || strings.ContainsAny(s, " \t") {
			return ""
		}
		return s
	case Phone:
		d := keep(cell, func(r rune) bool { return r >= '0' && r <= '9' }, false)
		return phoneCanon(d)
	case Name:
		return strings.Join(words(cell), " ")
	case Date:
		ds := parseDates(cell, "mdy")
		if len(ds) == 0 {
			return ""
		}
		return ds[0]
	}
	return ""
}

func phoneCanon(d string) string {
	if len(d) < minPhoneDigits || len(d) > maxPhoneDigits {
		return ""
	}
	if len(d) > phoneKeep {
		d = d[len(d)-phoneKeep:]
	}
	return d
}

func keep(s string, ok func(rune) bool, lower bool) string {
	var b strings.Builder
	for _, r := range s {
		if ok(r) {
			if lower {
				r = unicode.ToLower(r)
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// words splits normalised text into lower-case words of letters and
// digits.
func words(s string) []string {
	var out []string
	start := -1
	for i, r := range s {
		w := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
		switch {
		case w && start < 0:
			start = i
		case !w && start >= 0:
			out = append(out, strings.ToLower(s[start:i]))
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, strings.ToLower(s[start:]))
	}
	return out
}

var months = map[string]int{
	"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
	"may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
	"september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}

// parseDates reads the date written in s (a cell, or a candidate of three
// words) and returns its ISO forms. An index reads an ambiguous day/month
// (03/04/1980) in the given order ("mdy" or "dmy") unless only the other
// reading is a date; a scan (order "") returns both readings.
func parseDates(s string, order string) []string {
	f := words(s)
	if len(f) != 3 {
		return nil
	}
	num := func(w string) int {
		if len(w) == 0 || len(w) > 4 {
			return -1
		}
		n := 0
		for i := 0; i < len(w); i++ {
			if w[i] < '0' || w[i] > '9' {
				return -1
			}
			n = n*10 + int(w[i]-'0')
		}
		return n
	}
	a, b, c := num(f[0]), num(f[1]), num(f[2])
	var out []string
	add := func(y, m, d int) {
		if y >= 1000 && y <= 2999 && m >= 1 && m <= 12 && d >= 1 && d <= 31 {
			out = append(out, fmt.Sprintf("%04d-%02d-%02d", y, m, d))
		}
	}
	switch {
	case a >= 0 && b >= 0 && c >= 0 && len(f[0]) == 4:
		add(a, b, c)
	case a >= 0 && b >= 0 && c >= 0 && len(f[2]) == 4:
		if order != "" {
			if order == "dmy" && b <= 12 || a > 12 {
				add(c, b, a)
			} else {
				add(c, a, b)
			}
			break
		}
		add(c, b, a)
		if a != b {
			add(c, a, b)
		}
	case a >= 0 && b < 0 && c >= 0 && len(f[2]) == 4: // 12 March 1980
		if m, ok := months[f[1]]; ok {
			add(c, m, a)
		}
	case a < 0 && b >= 0 && c >= 0 && len(f[2]) == 4: // March 12 1980
		if m, ok := months[f[0]]; ok {
			add(c, m, b)
		}
	}
	return out
}

// isWordByte reports whether an ASCII byte belongs to a word.
func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isWordRuneAt(s string, i int) (bool, int) {
	if s[i] < utf8.RuneSelf {
		return isWordByte(s[i]), 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r), n
}

func extractNorm(s string) string { return extract.Normalize(s) }
