package detect

// CodiceFiscale finds Italian tax codes of persons: surname and name
// letters, year, month letter, day (plus 40 for women), place code and a
// check letter computed with the odd/even position tables of DM
// 23/12/1976. Digits replaced by letters (omocodia: L M N P Q R S T U V
// for 0-9) are accepted.
type CodiceFiscale struct{ builtin }

func newCodiceFiscale(o Options) Detector {
	return &CodiceFiscale{newBuiltin(idITCodiceFiscale, o)}
}

var codiceFiscaleInfo = Info{
	Name:        "it_codice_fiscale",
	Description: "Italian tax codes of persons (codice fiscale)",
	Validator:   "16 characters: 6 letters, year, month letter (ABCDEHLMPRST), day 01-31 or 41-71, place code, check letter from the odd/even tables mod 26; omocodia letters accepted for digits",
	Confidence:  "medium alone; high with a keyword within the proximity window",
	Keywords: []string{
		"codice fiscale", "cod. fiscale", "cod fisc", "C.F.", "CF", "tessera sanitaria", "partita IVA", "agenzia delle entrate", "fiscal code", "tax code",
	},
	TestValues: []string{"RSSMRA85T10A562S", "MRTMTT91D08F205J"},
	Evidence:   "****05J (last 3 characters)",
	Separators: "unseparated, upper-case",
}

var cfTestSet = toSet(codiceFiscaleInfo.TestValues)

// cfOdd is the value of 0-9 and A-Z in odd (1st, 3rd, …) positions.
var cfOdd = [36]int{
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // 0-9
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23, // A-Z
}

// cfDigit returns the digit a character of a numeric position stands for
// (itself, or its omocodia letter).
func cfDigit(c byte) (int, bool) {
	if isDigit(c) {
		return int(c - '0'), true
	}
	const omocodia = "LMNPQRSTUV"
	for k := range len(omocodia) {
		if omocodia[k] == c {
			return k, true
		}
	}
	return 0, false
}

func validCodiceFiscale(v []byte) bool {
	for _, k := range [...]int{0, 1, 2, 3, 4, 5, 8, 11, 15} {
		if !isUpper(v[k]) {
			return false
		}
	}
	var dd [7]int
	for n, k := range [...]int{6, 7, 9, 10, 12, 13, 14} {
		x, ok := cfDigit(v[k])
		if !ok {
			return false
		}
		dd[n] = x
	}
	switch v[8] {
	case 'A', 'B', 'C', 'D', 'E', 'H', 'L', 'M', 'P', 'R', 'S', 'T':
	default:
		return false
	}
	day := dd[2]*10 + dd[3]
	if !(day >= 1 && day <= 31 || day >= 41 && day <= 71) {
		return false
	}
	sum := 0
	for k, c := range v[:15] {
		x := 0
		if isDigit(c) {
			x = int(c - '0')
		} else {
			x = int(c - 'A')
		}
		if k%2 == 0 {
			if isDigit(c) {
				sum += cfOdd[x]
			} else {
				sum += cfOdd[10+x]
			}
		} else {
			sum += x
		}
	}
	return byte('A'+sum%26) == v[15]
}

// codiceFiscale checks a 16-character word.
func (sc *scanner) codiceFiscale(i, j int) int {
	v := append(sc.buf[:0], sc.text[i:j]...)
	if !validCodiceFiscale(v) {
		return -1
	}
	sc.emit(idITCodiceFiscale, i, j, Medium, cfTestSet[string(v)], maskDigits(v, 3), keyOf(idITCodiceFiscale, v))
	return j
}

var _ Detector = (*CodiceFiscale)(nil)
