package detect

// TFN finds Australian Tax File Numbers: nine digits with weights
// 1,4,3,7,5,8,6,9,10 (or eight digits with weights 10,7,8,4,6,3,5,1)
// whose weighted sum is a multiple of 11.
type TFN struct{ builtin }

func newTFN(o Options) Detector { return &TFN{newBuiltin(idAUTFN, o)} }

var tfnInfo = Info{
	Name:        "au_tfn",
	Description: "Australian Tax File Numbers",
	Validator:   "weighted sum ≡ 0 mod 11 (9 digits: weights 1,4,3,7,5,8,6,9,10; 8 digits: 10,7,8,4,6,3,5,1); not one repeated digit",
	Confidence:  "low alone; high with a keyword within the proximity window",
	Keywords: []string{
		"TFN", "tax file number", "tax file no", "ATO", "australian taxation office", "payg", "superannuation",
	},
	TestValues: []string{"123 456 782"},
	Evidence:   "****782 (last 3 digits)",
	Separators: "unseparated, or 3-3-3 (9 digits) / 3-3-2 (8 digits) with one consistent separator",
}

var tfnTestSet = toSet(tfnInfo.TestValues)

var tfnSpec = numericSpec{
	lengths:   []int{8, 9},
	groupings: []string{"\x03\x03\x03", "\x03\x03\x02"},
	keep:      3,
}

func validTFN(d []byte) bool {
	var s int
	switch len(d) {
	case 9:
		s = weightedSum(d, []int{1, 4, 3, 7, 5, 8, 6, 9, 10})
	case 8:
		s = weightedSum(d, []int{10, 7, 8, 4, 6, 3, 5, 1})
	default:
		return false
	}
	return s%11 == 0 && !allSame(d)
}

func checkTFN(d []byte) (test, ok bool) {
	if !validTFN(d) {
		return false, false
	}
	return tfnTestSet[string(d)], true
}

var _ Detector = (*TFN)(nil)
