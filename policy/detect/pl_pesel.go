package detect

// PESEL finds Polish national identification numbers: eleven digits
// encoding the date of birth (the month carries the century: +80 for the
// 1800s, +0, +20, +40, +60 for the 1900s to 2100s) and a check digit with
// weights 1-3-7-9.
type PESEL struct{ builtin }

func newPESEL(o Options) Detector { return &PESEL{newBuiltin(idPLPESEL, o)} }

var peselInfo = Info{
	Name:        "pl_pesel",
	Description: "Polish national identification numbers (PESEL)",
	Validator:   "valid date of birth in digits 1-6 with the century in the month; check digit (10 - Σ w·d mod 10) mod 10 with weights 1,3,7,9,1,3,7,9,1,3",
	Confidence:  "low alone; high with a keyword within the proximity window",
	Keywords: []string{
		"PESEL", "numer PESEL", "nr PESEL", "numer ewidencyjny", "dowód osobisty", "data urodzenia", "national id",
	},
	TestValues: []string{"44051401359"},
	Evidence:   "****359 (last 3 digits)",
	Separators: "unseparated",
}

var peselTestSet = toSet(peselInfo.TestValues)

var peselSpec = numericSpec{
	lengths: []int{11},
	keep:    3,
}

func validPESEL(d []byte) bool {
	c := (10 - weightedSum(d, []int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3})%10) % 10
	if c != int(d[10]-'0') {
		return false
	}
	yy, mm, dd := num(d[:2]), num(d[2:4]), num(d[4:6])
	var year int
	switch {
	case mm > 80 && mm <= 92:
		year, mm = 1800+yy, mm-80
	case mm >= 1 && mm <= 12:
		year = 1900 + yy
	case mm > 20 && mm <= 32:
		year, mm = 2000+yy, mm-20
	case mm > 40 && mm <= 52:
		year, mm = 2100+yy, mm-40
	case mm > 60 && mm <= 72:
		year, mm = 2200+yy, mm-60
	default:
		return false
	}
	return dd >= 1 && dd <= daysIn(year, mm)
}

// daysIn returns the number of days in month m (1-12) of year y.
func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func checkPESEL(d []byte) (test, ok bool) {
	if !validPESEL(d) {
		return false, false
	}
	return peselTestSet[string(d)], true
}

var _ Detector = (*PESEL)(nil)
