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
	Separators: "unseparated",
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

var _ Detector = (*NIE)(nil)
