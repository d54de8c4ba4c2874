package detect

// NIR finds French social security numbers (numéro d'inscription au
// répertoire, "numéro de sécurité sociale"): sex, year and month of birth,
// département (2A/2B for Corsica), commune, order number and a two-digit
// key equal to 97 − (first 13 digits mod 97), with 2A read as 19 and 2B as
// 18.
type NIR struct{ builtin }

func newNIR(o Options) Detector { return &NIR{newBuiltin(idFRNIR, o)} }

var nirInfo = Info{
	Name:        "fr_nir",
	Description: "French social security numbers (NIR / INSEE number)",
	Validator:   "15 characters: sex 1-4, 7 or 8; month 01-12, 20-42 or 50-99; département not 00 (2A/2B for Corsica); key = 97 - (N mod 97) with 2A→19, 2B→18",
	Confidence:  "medium alone; high with a keyword within the proximity window",
	Keywords: []string{
		"NIR", "INSEE", "numéro de sécurité sociale", "sécurité sociale", "securite sociale", "n° de sécu", "numéro de sécu", "sécu",
		"carte vitale", "assuré social", "numéro d'inscription au répertoire", "social security",
	},
	TestValues: []string{"2 55 08 14 168 025 38"},
	Evidence:   "****538 (last 3 characters)",
	Separators: "unseparated, or 1-2-2-2-3-3-2 or 13-2 with one consistent separator; the Corsican 2A/2B form unseparated or 1-2-2-2-3-3-2 with spaces, '-' or '.'",
}

var nirTestSet = toSet(nirInfo.TestValues)

var nirSpec = numericSpec{
	lengths:   []int{15},
	groupings: []string{"\x01\x02\x02\x02\x03\x03\x02", "\x0d\x02"},
	keep:      3,
}

// validNIR checks 15 characters: digits, except that positions 6-7 may be
// 2A or 2B.
func validNIR(d []byte) bool {
	switch d[0] {
	case '1', '2', '3', '4', '7', '8':
	default:
		return false
	}
	for k, c := range d {
		if !isDigit(c) && !(k == 6 && (c == 'A' || c == 'B') && d[5] == '2') {
			return false
		}
	}
	mm := num(d[3:5])
	if !(mm >= 1 && mm <= 12 || mm >= 20 && mm <= 42 || mm >= 50) {
		return false
	}
	if d[5] == '0' && d[6] == '0' {
		return false
	}
	n := 0
	for k, c := range d[:13] {
		switch {
		case k == 5 && d[6] == 'A':
			n = n*100 + 19
		case k == 5 && d[6] == 'B':
			n = n*100 + 18
		case k == 6 && (c == 'A' || c == 'B'):
		default:
			n = n*10 + int(c-'0')
		}
	}
	return 97-n%97 == num(d[13:15])
}

func checkNIR(d []byte) (test, ok bool) {
	if !validNIR(d) {
		return false, false
	}
	return nirTestSet[string(d)], true
}

// nirCorsica checks a 15-character word with 2A or 2B as département.
func (sc *scanner) nirCorsica(i, j int) int {
	v := append(sc.buf[:0], sc.text[i:j]...)
	if v[5] != '2' || (v[6] != 'A' && v[6] != 'B') || !validNIR(v) {
		return -1
	}
	sc.emit(idFRNIR, i, j, Medium, false, maskDigits(v, 3), keyOf(idFRNIR, v))
	return j
}

// nirCorsicaSpaced checks a Corsican NIR written in groups around the word
// "2A"/"2B" at text[i:i+2]: "1 85 05 2A 123 456 78", one separator kind.
func (sc *scanner) nirCorsicaSpaced(i int) int {
	t := sc.text
	if i < 8 || i+13 > len(t) || t[i] != '2' || (t[i+1] != 'A' && t[i+1] != 'B') {
		return -1
	}
	sep := t[i-1]
	if sep != ' ' && sep != '-' && sep != '.' {
		return -1
	}
	// d_dd_dd_2A_ddd_ddd_dd
	start := i - 8
	form := "d_dd_dd_XX_ddd_ddd_dd"
	v := sc.buf[:0]
	for k := range len(form) {
		c := t[start+k]
		switch form[k] {
		case 'd':
			if !isDigit(c) {
				return -1
			}
			v = append(v, c)
		case '_':
			if c != sep {
				return -1
			}
		case 'X':
			v = append(v, c)
		}
	}
	end := start + len(form)
	if (start > 0 && wordClass[t[start-1]] != 0) || !boundedAfter(t, end) || !validNIR(v) {
		return -1
	}
	sc.emit(idFRNIR, start, end, Medium, false, maskDigits(v, 3), keyOf(idFRNIR, v))
	return end
}

var _ Detector = (*NIR)(nil)
