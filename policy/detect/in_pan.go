package detect

// PAN finds Indian Permanent Account Numbers (income tax): five letters,
// four digits and a letter, the fourth letter naming the holder type
// (P person, C company, H HUF, F firm, A AOP, T trust, B BOI, L local
// authority, J artificial juridical person, G government). There is no
// check digit.
type PAN struct{ builtin }

func newPAN(o Options) Detector { return &PAN{newBuiltin(idINPAN, o)} }

var panInfo = Info{
	Name:        "in_pan",
	Description: "Indian Permanent Account Numbers (income tax PAN)",
	Validator:   "AAAAA9999A with the fourth letter one of P, C, H, F, A, T, B, L, J, G; no check digit",
	Confidence:  "low alone; high with a keyword within the proximity window",
	Keywords: []string{
		"PAN", "PAN card", "PAN no", "permanent account number", "income tax", "ITR", "TDS", "आयकर", "स्थायी खाता संख्या",
	},
	TestValues: []string{"AAAPZ1234C"},
	Evidence:   "****34F (last 3 characters)",
	Separators: "unseparated, upper-case",
}

var panTestSet = toSet(panInfo.TestValues)

func validPAN(v []byte) bool {
	for k, c := range v {
		switch {
		case k < 5 || k == 9:
			if !isUpper(c) {
				return false
			}
		default:
			if !isDigit(c) {
				return false
			}
		}
	}
	switch v[3] {
	case 'P', 'C', 'H', 'F', 'A', 'T', 'B', 'L', 'J', 'G':
		return true
	}
	return false
}

// pan checks a 10-character word.
func (sc *scanner) pan(i, j int) int {
	v := append(sc.buf[:0], sc.text[i:j]...)
	if !validPAN(v) {
		return -1
	}
	sc.emit(idINPAN, i, j, Low, panTestSet[string(v)], maskDigits(v, 3), keyOf(idINPAN, v))
	return j
}

var _ Detector = (*PAN)(nil)
