package detect

// SIN finds Canadian Social Insurance Numbers: nine digits passing the
// Luhn check, first digit not 0 or 8 (not issued to persons).
type SIN struct{ builtin }

func newSIN(o Options) Detector { return &SIN{newBuiltin(idCASIN, o)} }

var sinInfo = Info{
	Name:        "ca_sin",
	Description: "Canadian Social Insurance Numbers",
	Validator:   "Luhn mod 10; first digit 1-7 or 9 (9: temporary residents); not one repeated digit",
	Confidence:  "low alone; high with a keyword within the proximity window",
	Keywords: []string{
		"SIN", "SIN#", "social insurance", "social insurance number", "numéro d'assurance sociale", "NAS", "assurance sociale", "Service Canada", "T4",
	},
	Evidence:   "****286 (last 3 digits)",
	Separators: "unseparated, or 3-3-3 with one consistent separator",
}

var sinSpec = numericSpec{
	lengths:   []int{9},
	groupings: []string{"\x03\x03\x03"},
	keep:      3,
}

func checkSIN(d []byte) (test, ok bool) {
	if d[0] == '0' || d[0] == '8' || allSame(d) || !luhn(d) {
		return false, false
	}
	return false, true
}

var _ Detector = (*SIN)(nil)
