package detect

// ITIN finds US Individual Taxpayer Identification Numbers: nine digits
// starting with 9, with the middle group in the ranges the IRS issues
// (50-65, 70-88, 90-92, 94-99).
type ITIN struct{ builtin }

func newITIN(o Options) Detector { return &ITIN{newBuiltin(idUSITIN, o)} }

var itinInfo = Info{
	Name:        "us_itin",
	Description: "US Individual Taxpayer Identification Numbers",
	Validator:   "IRS ranges: first digit 9, group (digits 4-5) 50-65, 70-88, 90-92 or 94-99; no check digit",
	Confidence:  "medium when written 3-2-4 with dashes, low unseparated or with other separators; high with a keyword within the proximity window",
	Keywords: []string{
		"ITIN", "individual taxpayer", "taxpayer identification", "tax id", "TIN", "W-7", "IRS", "1040",
	},
	Evidence:   "****456 (last 3 digits)",
	Separators: "unseparated, or 3-2-4 with one consistent separator",
}

var itinSpec = numericSpec{
	lengths:   []int{9},
	groupings: []string{"\x03\x02\x04"},
	keep:      3,
}

func checkITIN(d []byte) (test, ok bool) {
	if d[0] != '9' {
		return false, false
	}
	g := num(d[3:5])
	if !(g >= 50 && g <= 65 || g >= 70 && g <= 88 || g >= 90 && g <= 92 || g >= 94) {
		return false, false
	}
	if num(d[5:]) == 0 {
		return false, false
	}
	return false, true
}

var _ Detector = (*ITIN)(nil)
