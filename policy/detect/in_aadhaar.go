package detect

// Aadhaar finds Indian Aadhaar numbers (UIDAI): twelve digits, first digit
// 2-9, not a palindrome, with a Verhoeff check digit.
type Aadhaar struct{ builtin }

func newAadhaar(o Options) Detector { return &Aadhaar{newBuiltin(idINAadhaar, o)} }

var aadhaarInfo = Info{
	Name:        "in_aadhaar",
	Description: "Indian Aadhaar numbers",
	Validator:   "12 digits, first 2-9, not a palindrome, Verhoeff check digit",
	Confidence:  "low alone (one random 12-digit number in ten passes Verhoeff, and 4-4-4 is also how tracking and phone numbers are written); high with a keyword within the proximity window",
	Keywords: []string{
		"Aadhaar", "Aadhar", "UIDAI", "UID", "unique identification", "आधार", "enrolment", "VID",
	},
	TestValues: []string{"2341 2341 2346"},
	Evidence:   "****2346 (last 4 digits)",
	Separators: "unseparated, or 4-4-4 with one consistent separator",
}

var aadhaarTestSet = toSet(aadhaarInfo.TestValues)

var aadhaarSpec = numericSpec{
	lengths:   []int{12},
	groupings: []string{"\x04\x04\x04"},
	keep:      4,
}

func validAadhaar(d []byte) bool {
	if d[0] < '2' {
		return false
	}
	pal := true
	for k := range len(d) / 2 {
		if d[k] != d[len(d)-1-k] {
			pal = false
			break
		}
	}
	return !pal && verhoeff(d)
}

func checkAadhaar(d []byte) (test, ok bool) {
	if !validAadhaar(d) {
		return false, false
	}
	return aadhaarTestSet[string(d)], true
}

var _ Detector = (*Aadhaar)(nil)
