package detect

// NIE finds Spanish foreigner identity numbers (Número de Identidad de
// Extranjero): X, Y or Z (read as 0, 1, 2), seven digits and the DNI
// control letter.
type NIE struct{ builtin }

func newNIE(o Options) Detector { return &NIE{newBuiltin(idESNIE, o)} }

var nieInfo = Info{
	Name:        "es_nie",
	Description: "Spanish foreigner identity numbers (NIE)",
	Validator:   "X/Y/Z + 7 digits + control letter = \"TRWAGMYFPDXBNJZSQVHLCKE\"[(X=0,Y=1,Z=2 followed by the digits) mod 23]",
	Confidence:  "medium alone; high with a keyword within the proximity window",
	Keywords: []string{
		"NIE", "número de identidad de extranjero", "identidad de extranjero", "extranjero", "TIE", "residencia", "NIF",
	},
	TestValues: []string{"X2482300W", "X1234567L"},
	Evidence:   "****00W (last 3 characters)",
	Separators: "unseparated, or X-1234567-L / X 1234567 L",
}

var nieTestSet = toSet(nieInfo.TestValues)

func validNIE(v []byte) bool {
	p := int(v[0] - 'X')
	if p < 0 || p > 2 || !isUpper(v[8]) {
		return false
	}
	for _, c := range v[1:8] {
		if !isDigit(c) {
			return false
		}
	}
	n := p*10000000 + num(v[1:8])
	return dniLetters[n%23] == v[8]
}

// nie checks a 9-character word.
func (sc *scanner) nie(i, j int) int {
	v := append(sc.buf[:0], sc.text[i:j]...)
	if !validNIE(v) {
		return -1
	}
	sc.emit(idESNIE, i, j, Medium, nieTestSet[string(v)], maskDigits(v, 3), keyOf(idESNIE, v))
	return j
}

// nieSeparated checks the letter X, Y or Z at text[i] followed by the
// seven digits and the control letter, each after the same single '-' or
// space: "X-2482300-W", "X 2482300 W".
func (sc *scanner) nieSeparated(i int) int {
	t := sc.text
	e := i + 11
	if e > len(t) || (t[i+1] != '-' && t[i+1] != ' ') || t[i+9] != t[i+1] || !allDigits(t[i+2:i+9]) || !boundedAfter(t, e) {
		return -1
	}
	v := append(append(append(sc.buf[:0], t[i]), t[i+2:i+9]...), t[i+10])
	if !validNIE(v) {
		return -1
	}
	sc.emit(idESNIE, i, e, Medium, nieTestSet[string(v)], maskDigits(v, 3), keyOf(idESNIE, v))
	return e
}

var _ Detector = (*NIE)(nil)
