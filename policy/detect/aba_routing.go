package detect

// ABARouting finds US bank routing transit numbers (ABA RTN): nine digits
// whose first two lie in the Federal Reserve ranges (00-12 Federal
// Reserve districts, 21-32 thrifts, 61-72 electronic, 80 traveller's
// cheques) and that pass the 3-7-1 weighted checksum.
type ABARouting struct{ builtin }

func newABARouting(o Options) Detector { return &ABARouting{newBuiltin(idABARouting, o)} }

var abaRoutingInfo = Info{
	Name:        "aba_routing",
	Description: "US ABA bank routing transit numbers",
	Validator:   "prefix 00-12, 21-32, 61-72 or 80; 3(d1+d4+d7) + 7(d2+d5+d8) + (d3+d6+d9) ≡ 0 mod 10; not all zeros",
	Confidence:  "low alone (one random 9-digit number in ten passes); high with a keyword within the proximity window",
	Keywords: []string{
		"routing", "routing number", "routing no", "ABA", "ABA#", "RTN", "transit number", "bank", "wire", "ACH", "direct deposit", "checking", "account",
	},
	Evidence:   "****025 (last 3 digits)",
	Separators: "unseparated",
}

var abaRoutingSpec = numericSpec{
	lengths: []int{9},
	keep:    3,
}

func checkABARouting(d []byte) (test, ok bool) {
	p := num(d[:2])
	if !(p <= 12 || p >= 21 && p <= 32 || p >= 61 && p <= 72 || p == 80) || allSame(d) {
		return false, false
	}
	if weightedSum(d, []int{3, 7, 1, 3, 7, 1, 3, 7, 1})%10 != 0 {
		return false, false
	}
	return false, true
}

var _ Detector = (*ABARouting)(nil)
