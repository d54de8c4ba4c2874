package detect

// BSN finds Dutch citizen service numbers (burgerservicenummer): nine
// digits passing the elfproef (11-proof): 9·d1 + 8·d2 + … + 2·d8 − d9 is a
// positive multiple of 11.
type BSN struct{ builtin }

func newBSN(o Options) Detector { return &BSN{newBuiltin(idNLBSN, o)} }

var bsnInfo = Info{
	Name:        "nl_bsn",
	Description: "Dutch citizen service numbers (BSN)",
	Validator:   "elfproef: weights 9..2 and -1, sum a positive multiple of 11; not one repeated digit",
	Confidence:  "low alone (one random 9-digit number in eleven passes); high with a keyword within the proximity window",
	Keywords: []string{
		"BSN", "burgerservicenummer", "sofinummer", "sofi-nummer", "persoonsnummer", "citizen service number", "paspoort", "identiteitsbewijs",
	},
	TestValues: []string{"111222333", "123456782"},
	Evidence:   "****782 (last 3 digits)",
	Separators: "unseparated, or 4-2-3 or 3-3-3 with one consistent separator",
}

var bsnTestSet = toSet(bsnInfo.TestValues)

var bsnSpec = numericSpec{
	lengths:   []int{9},
	groupings: []string{"\x04\x02\x03", "\x03\x03\x03"},
	keep:      3,
}

func validBSN(d []byte) bool {
	s := weightedSum(d, []int{9, 8, 7, 6, 5, 4, 3, 2, -1})
	return s > 0 && s%11 == 0 && !allSame(d)
}

func checkBSN(d []byte) (test, ok bool) {
	if !validBSN(d) {
		return false, false
	}
	return bsnTestSet[string(d)], true
}

var _ Detector = (*BSN)(nil)
