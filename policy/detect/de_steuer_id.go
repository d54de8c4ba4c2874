package detect

// SteuerID finds German tax identification numbers (steuerliche
// Identifikationsnummer): eleven digits, no leading zero, in the first ten
// exactly one digit occurring two or three times (three times not all in a
// row), and an ISO 7064 MOD 11,10 check digit.
type SteuerID struct{ builtin }

func newSteuerID(o Options) Detector { return &SteuerID{newBuiltin(idDESteuerID, o)} }

var steuerIDInfo = Info{
	Name:        "de_steuer_id",
	Description: "German tax identification numbers (Steuer-ID, IdNr)",
	Validator:   "11 digits, first not 0; in digits 1-10 exactly one digit appears twice or three times (not three in a row); ISO 7064 MOD 11,10 check digit",
	Confidence:  "low alone; high with a keyword within the proximity window",
	Keywords: []string{
		"Steuer-ID", "SteuerID", "Steuer-IdNr", "Steueridentifikationsnummer", "Identifikationsnummer", "IdNr", "Steuernummer",
		"steuerliche Identifikationsnummer", "Finanzamt", "Lohnsteuer", "tax id", "tax identification",
	},
	TestValues: []string{"86095742719"},
	Evidence:   "****719 (last 3 digits)",
	Separators: "unseparated, or 2-3-3-3 with one consistent separator",
}

var steuerTestSet = toSet(steuerIDInfo.TestValues)

var steuerIDSpec = numericSpec{
	lengths:   []int{11},
	groupings: []string{"\x02\x03\x03\x03"},
	keep:      3,
}

func validSteuerID(d []byte) bool {
	if d[0] == '0' {
		return false
	}
	var count [10]int
	for _, c := range d[:10] {
		count[c-'0']++
	}
	multi := 0
	for _, n := range count {
		switch {
		case n == 2, n == 3:
			multi++
		case n > 3:
			return false
		}
	}
	if multi != 1 {
		return false
	}
	for k := 0; k+2 < 10; k++ {
		if d[k] == d[k+1] && d[k] == d[k+2] {
			return false
		}
	}
	return iso7064Mod11_10(d)
}

func checkSteuerID(d []byte) (test, ok bool) {
	if !validSteuerID(d) {
		return false, false
	}
	return steuerTestSet[string(d)], true
}

var _ Detector = (*SteuerID)(nil)
