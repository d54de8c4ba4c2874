package detect

// SSN finds US Social Security Numbers under the Social Security
// Administration's rules: area 001-899 except 666, group 01-99, serial
// 0001-9999. There is no check digit, so an unseparated 9-digit number is
// low confidence until a keyword is near.
type SSN struct{ builtin }

func newSSN(o Options) Detector { return &SSN{newBuiltin(idUSSSN, o)} }

var ssnInfo = Info{
	Name:        "us_ssn",
	Description: "US Social Security Numbers",
	Validator:   "SSA rules: area not 000, 666 or 900-999; group not 00; serial not 0000; not one repeated digit",
	Confidence:  "medium when written 3-2-4 with dashes, low unseparated or with other separators; high with a keyword within the proximity window",
	Keywords: []string{
		"SSN", "SSN#", "social security", "social security number", "social security no", "soc sec", "SS#", "SSA",
		"taxpayer", "tax id", "TIN", "date of birth", "DOB", "W-2", "W-4", "I-9", "1099",
		"número de seguro social", "seguro social",
	},
	TestValues: ssnTestValues,
	Evidence:   "****789 (last 3 digits)",
	Separators: "unseparated, or 3-2-4 with one consistent separator (see Digits, separators and groups)",
}

// ssnTestValues are sample numbers published by the SSA or widely printed
// as examples (the Woolworth wallet card 078-05-1120, the SSA pamphlet
// number 219-09-9999, the placeholder 123-45-6789).
var ssnTestValues = []string{"078-05-1120", "219-09-9999", "123-45-6789"}

var ssnTestSet = toSet(ssnTestValues)

var ssnSpec = numericSpec{
	lengths:   []int{9},
	groupings: []string{"\x03\x02\x04"},
	keep:      3,
}

// validSSN applies the SSA rules to 9 digits.
func validSSN(d []byte) bool {
	area, group, serial := num(d[:3]), num(d[3:5]), num(d[5:])
	return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 && !allSame(d)
}

func checkSSN(d []byte) (test, ok bool) {
	if !validSSN(d) {
		return false, false
	}
	return ssnTestSet[string(d)], true
}

var _ Detector = (*SSN)(nil)
