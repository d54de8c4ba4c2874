package detect

// NHSNumber finds NHS numbers (England, Wales, Isle of Man): ten digits
// whose last is a modulus 11 check digit over the first nine with weights
// 10 down to 2.
type NHSNumber struct{ builtin }

func newNHSNumber(o Options) Detector { return &NHSNumber{newBuiltin(idUKNHS, o)} }

var nhsNumberInfo = Info{
	Name:        "uk_nhs",
	Description: "UK NHS numbers",
	Validator:   "modulus 11: weights 10..2 on the first nine digits, check = 11 - (sum mod 11), 11 becomes 0, 10 is invalid; not one repeated digit",
	Confidence:  "low alone; high with a keyword within the proximity window",
	Keywords: []string{
		"NHS", "NHS number", "NHS no", "national health service", "patient", "NHS#", "health", "hospital", "GP", "CHI",
	},
	TestValues: []string{"943 476 5919"},
	Evidence:   "****919 (last 3 digits)",
	Separators: "unseparated, or 3-3-4 with one consistent separator",
}

var nhsTestSet = toSet(nhsNumberInfo.TestValues)

var nhsNumberSpec = numericSpec{
	lengths:   []int{10},
	groupings: []string{"\x03\x03\x04"},
	keep:      3,
}

func validNHS(d []byte) bool {
	c := 11 - weightedSum(d, []int{10, 9, 8, 7, 6, 5, 4, 3, 2})%11
	if c == 11 {
		c = 0
	}
	return c != 10 && c == int(d[9]-'0') && !allSame(d)
}

func checkNHSNumber(d []byte) (test, ok bool) {
	if !validNHS(d) {
		return false, false
	}
	return nhsTestSet[string(d)], true
}

var _ Detector = (*NHSNumber)(nil)
