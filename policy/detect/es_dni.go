package detect

// DNI finds Spanish national identity numbers (Documento Nacional de
// Identidad): eight digits and a control letter, the
// "TRWAGMYFPDXBNJZSQVHLCKE" letter at the number mod 23.
type DNI struct{ builtin }

func newDNI(o Options) Detector { return &DNI{newBuiltin(idESDNI, o)} }

var dniInfo = Info{
	Name:        "es_dni",
	Description: "Spanish national identity numbers (DNI / NIF of persons)",
	Validator:   "8 digits + control letter = \"TRWAGMYFPDXBNJZSQVHLCKE\"[number mod 23]; not 00000000",
	Confidence:  "medium alone; high with a keyword within the proximity window",
	Keywords: []string{
		"DNI", "NIF", "documento nacional de identidad", "número de identificación fiscal", "identidad", "documento de identidad", "carnet",
	},
	TestValues: []string{"54362315K", "12345678Z"},
	Evidence:   "****15K (last 3 characters)",
	Separators: "unseparated, or the letter after a single '-' or space, the number also as 12.345.678",
}

var dniTestSet = toSet(dniInfo.TestValues)

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// validDNI checks 8 digits followed by the control letter.
func validDNI(v []byte) bool {
	n := num(v[:8])
	return n != 0 && dniLetters[n%23] == v[8]
}

// dni checks a 9-character word: 8 digits and a letter.
func (sc *scanner) dni(i, j int) int {
	t := sc.text
	for k := i; k < i+8; k++ {
		if !isDigit(t[k]) {
			return -1
		}
	}
	v := append(sc.buf[:0], t[i:j]...)
	if !isUpper(v[8]) || !validDNI(v) {
		return -1
	}
	sc.emit(idESDNI, i, j, Medium, dniTestSet[string(v)], maskDigits(v, 3), keyOf(idESDNI, v))
	return j
}

// dniSeparated checks the 8 digits of text[i:j] (unseparated, or written
// 12.345.678) followed by '-' or ' ' and a single upper-case letter.
func (sc *scanner) dniSeparated(i, j int) {
	t := sc.text
	if j+2 > len(t) || (t[j] != '-' && t[j] != ' ') || !isUpper(t[j+1]) || !boundedAfter(t, j+2) {
		return
	}
	v := sc.buf[:0]
	for p := i; p < j; p++ {
		if isDigit(t[p]) {
			v = append(v, t[p])
		}
	}
	v = append(v, t[j+1])
	if len(v) != 9 || !validDNI(v) {
		return
	}
	sc.emit(idESDNI, i, j+2, Medium, dniTestSet[string(v)], maskDigits(v, 3), keyOf(idESDNI, v))
}

var _ Detector = (*DNI)(nil)
