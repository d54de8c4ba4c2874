package detect

// IBAN finds International Bank Account Numbers (ISO 13616): a country
// code from the SWIFT IBAN registry, the length registered for that
// country, and the ISO 7064 MOD 97-10 check (the number, rotated and with
// letters as 10..35, is 1 mod 97).
type IBAN struct{ builtin }

func newIBAN(o Options) Detector { return &IBAN{newBuiltin(idIBAN, o)} }

var ibanInfo = Info{
	Name:        "iban",
	Description: "International Bank Account Numbers of the countries in the SWIFT IBAN registry",
	Validator:   "ISO 13616: registered country code and its length from the SWIFT IBAN registry, BBAN of letters and digits, MOD 97-10 check digits (remainder 1)",
	Confidence:  "medium alone; high with a bank keyword within the proximity window",
	Keywords: []string{
		"IBAN", "account", "account number", "bank", "banking", "bank details", "wire", "transfer", "SEPA", "BIC", "SWIFT", "beneficiary", "payee",
		"Konto", "Kontonummer", "Bankverbindung", "Überweisung", "Empfänger",
		"compte", "numéro de compte", "RIB", "coordonnées bancaires", "virement", "bénéficiaire",
		"cuenta", "número de cuenta", "transferencia", "conto", "conto corrente", "bonifico",
		"rekening", "rekeningnummer", "rachunek", "numer rachunku", "przelew",
	},
	TestValues: ibanTestValues,
	Evidence:   "****3000 (last 4 characters)",
	Separators: "unseparated, or in groups of four joined by one kind of separator (space, two spaces, tab, '-', '.', ' - '; one line break may stand for a space), upper- or lower-case",
}

// ibanTestValues are the examples published in the SWIFT IBAN registry and
// in ECBS/bank documentation.
var ibanTestValues = []string{
	"GB82WEST12345698765432", "GB29NWBK60161331926819", "DE89370400440532013000",
	"AT611904300234573201", "BE68539007547034", "CH9300762011623852957",
	"CZ6508000000192000145399", "DK5000400440116243", "ES9121000418450200051332",
	"FI2112345600000785", "FR1420041010050500013M02606", "IE29AIBK93115212345678",
	"IT60X0542811101000000123456", "LU280019400644750000", "NL91ABNA0417164300",
	"NO9386011117947", "PL61109010140000071219812874", "PT50000201231234567890154",
	"SE4550000000058398257466",
}

var ibanTestSet = toSet(ibanTestValues)

// ibanLengths is the IBAN length per country from the SWIFT IBAN registry.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
	"BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
	"EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
	"GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
	"IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
	"LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
	"NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
	"RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
	"SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

// ibanMod97 reports whether the IBAN v (upper-case letters and digits)
// has valid check digits.
func ibanMod97(v []byte) bool {
	r := 0
	step := func(c byte) {
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A'+10)) % 97
		}
	}
	for _, c := range v[4:] {
		step(c)
	}
	for _, c := range v[:4] {
		step(c)
	}
	return r == 1
}

// validIBAN checks an IBAN in canonical form.
func validIBAN(v []byte) bool {
	if len(v) < 15 || len(v) > 34 || !isUpper(v[0]) || !isUpper(v[1]) || !isDigit(v[2]) || !isDigit(v[3]) {
		return false
	}
	if ibanLengths[string(v[:2])] != len(v) {
		return false
	}
	// Check digits are 98 minus a remainder mod 97: 02 to 98. A string
	// with 00, 01 or 99 passes the check only by chance (one in 97).
	if cd := string(v[2:4]); cd == "00" || cd == "01" || cd == "99" {
		return false
	}
	for _, c := range v {
		if !isDigit(c) && !isUpper(c) {
			return false
		}
	}
	return ibanMod97(v)
}

// iban checks the IBAN that starts with the word text[i:j] (country code
// and check digits first, in either case): either the whole word, or the
// word of four characters followed by groups of four joined by one kind of
// separator (space, two spaces, tab, '-', '.', " - "; one line break may
// stand for a space where a mail client wrapped the line). Letters may be
// lower-case. A string of that shape that fails its length or check is
// still consumed, so that no slice of it is taken for another number.
func (sc *scanner) iban(i, j int) int {
	t := sc.text
	want, ok := ibanLengths[string([]byte{upperASCII(t[i]), upperASCII(t[i+1])})]
	if !ok {
		return -1
	}
	v := sc.buf[:0]
	end := j
	kind := uint8(sepNone)
	switch l := j - i; {
	case l == want:
		v = appendUpper(v, t[i:j])
	case l == 4:
		v = appendUpper(v, t[i:j])
		lines := 0
		for len(v) < want {
			k, sl := sepAt(t, end)
			switch {
			case k == sepLine && kind != sepLine && (kind == sepNone || kind == sepSpace) && lines == 0:
				lines++ // a wrapped line
			case k == sepNone || k == sepSlash || k == sepLine, kind != sepNone && k != kind:
				return sc.ibanLike(v, end, kind)
			default:
				kind = k
			}
			s := end + sl
			e := s
			for e < len(t) && e-s <= 4 && isAlnum(t[e]) {
				e++
			}
			g := e - s
			if g == 0 || g > 4 || (g < 4 && len(v)+g != want) || len(v)+g > want {
				return sc.ibanLike(v, end, kind)
			}
			v = appendUpper(v, t[s:e])
			end = e
		}
	default:
		return -1
	}
	if !validIBAN(v) {
		return sc.ibanLike(v, end, kind)
	}
	if !sc.set.ids.has(idIBAN) {
		return end
	}
	sc.emit(idIBAN, i, end, base(idIBAN, formPlain), ibanTestSet[string(v)], maskDigits(v, 4), keyOf(idIBAN, v))
	return end
}

// ibanLike returns where an IBAN-shaped string of the canonical
// characters v, read up to end, ends, if it is long enough to look like
// an IBAN (the country code, the check digits and at least three groups
// of four): the end of its run of groups of up to four letters and digits
// joined by separator kind (or end, unseparated). Otherwise -1.
func (sc *scanner) ibanLike(v []byte, end int, kind uint8) int {
	if len(v) < 16 {
		return -1
	}
	t := sc.text
	for kind != sepNone {
		k, sl := sepAt(t, end)
		if k != kind {
			break
		}
		e := end + sl
		for e < len(t) && e-end-sl <= 4 && isAlnum(t[e]) {
			e++
		}
		if g := e - end - sl; g == 0 || g > 4 || !boundedAfter(t, e) {
			break
		}
		end = e
	}
	return end
}

// appendUpper appends s to b with ASCII letters upper-cased.
func appendUpper(b []byte, s string) []byte {
	for k := 0; k < len(s); k++ {
		b = append(b, upperASCII(s[k]))
	}
	return b
}

func upperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

var _ Detector = (*IBAN)(nil)
