package detect

import "strings"

// BIC finds SWIFT Business Identifier Codes (ISO 9362): four letters of
// institution code, an ISO 3166-1 country code, two characters of location
// and an optional three-character branch. There is no check digit and a
// BIC looks like a word in capitals, so a BIC alone is low confidence.
type BIC struct{ builtin }

func newBIC(o Options) Detector { return &BIC{newBuiltin(idSwiftBIC, o)} }

var bicInfo = Info{
	Name:        "swift_bic",
	Description: "SWIFT/BIC bank identifier codes",
	Validator:   "ISO 9362: 4 letters, ISO 3166-1 alpha-2 country (and XK), 2 letters/digits location, optional 3 letters/digits branch; location with '0' second is a test BIC",
	Confidence:  "low alone; high with a keyword within the proximity window",
	Keywords: []string{
		"BIC", "SWIFT", "SWIFT code", "BIC code", "bank identifier", "IBAN", "bank", "wire transfer", "Bankleitzahl", "code banque", "código SWIFT",
	},
	Evidence:   "****FF (last 2 characters)",
	Separators: "unseparated, upper-case",
}

// iso3166 holds the ISO 3166-1 alpha-2 country codes (and XK, used by SWIFT
// for Kosovo), indexed by (first-'A')*26 + (second-'A'), without the
// uninhabited territories that have no bank (AQ, BV, GS, HM, IO, TF, UM):
// capitalised words such as VERSIONS (VERS IO NS) fit the shape.
var iso3166 = func() (t [26 * 26]bool) {
	const codes = "AD AE AF AG AI AL AM AO AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BW BY BZ " +
		"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
		"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GT GU GW GY HK HN HR HT HU ID IE IL IM IN IQ IR IS IT JE JM JO JP " +
		"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT " +
		"MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
		"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG " +
		"US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW"
	for k := 0; k+1 < len(codes); k += 3 {
		t[int(codes[k]-'A')*26+int(codes[k+1]-'A')] = true
	}
	return t
}()

func isCountry(a, b byte) bool { return isUpper(a) && isUpper(b) && iso3166[int(a-'A')*26+int(b-'A')] }

// validBIC checks 8 or 11 upper-case letters and digits.
func validBIC(v []byte) bool {
	if len(v) != 8 && len(v) != 11 {
		return false
	}
	for _, c := range v[:4] {
		if !isUpper(c) {
			return false
		}
	}
	if !isCountry(v[4], v[5]) {
		return false
	}
	for _, c := range v[6:] {
		if !isUpper(c) && !isDigit(c) {
			return false
		}
	}
	return true
}

// bic checks an 8- or 11-character word of capitals and digits.
func (sc *scanner) bic(i, j int) int {
	v := append(sc.buf[:0], sc.text[i:j]...)
	if !validBIC(v) {
		return -1
	}
	test := v[7] == '0' // location code with 0 second: a test BIC (ISO 9362)
	sc.emit(idSwiftBIC, i, j, base(idSwiftBIC, formPlain), test, maskDigits(v, 2), keyOf(idSwiftBIC, v))
	if allLetters(v) && (capsWord(sc.text, i, -1, false) && capsWord(sc.text, j, 1, false) || capsWord(sc.text, j, 1, true)) {
		w := &sc.dst[len(sc.dst)-1]
		w.Why.Demoted = DemotedCaps
	}
	return j
}

// allLetters reports whether v has no digit.
func allLetters(v []byte) bool {
	for _, c := range v {
		if isDigit(c) {
			return false
		}
	}
	return true
}

// capsWord reports whether the word next to position p (the one ending
// before p for dir -1, the one starting after p for +1), past spaces and
// punctuation on the same line, is a word of two to fifteen capital
// letters (strict: that is not a keyword of a BIC or an IBAN; otherwise:
// not BIC, SWIFT or CODE, which introduce one): text written in capitals,
// where words such as CUSTOMER or VERSIONS fit the shape of a BIC.
func capsWord(t string, p, dir int, strict bool) bool {
	q := p
	if dir < 0 {
		q--
	}
	for k := 0; k < 4 && q >= 0 && q < len(t) && wordClass[t[q]] == 0; k++ {
		if t[q] == '\n' {
			return false
		}
		q += dir
	}
	s, e := q, q
	if dir < 0 {
		e = q + 1
		for s >= 0 && e-s <= 16 && wordClass[t[s]] != 0 {
			s--
		}
		s++
	} else {
		for e < len(t) && e-s <= 16 && wordClass[t[e]] != 0 {
			e++
		}
	}
	if s < 0 || e > len(t) || e-s < 2 || e-s > 15 {
		return false
	}
	w := t[s:e]
	for k := 0; k < len(w); k++ {
		if !isUpper(w[k]) {
			return false
		}
	}
	if strict {
		return !bicWords[w]
	}
	return w != "BIC" && w != "SWIFT" && w != "CODE"
}

// bicWords are the single-word keywords of BICs and IBANs in capitals,
// which may stand next to a BIC in capitals.
var bicWords = func() map[string]bool {
	m := map[string]bool{"CODE": true}
	for _, k := range append(append([]string{}, bicInfo.Keywords...), ibanInfo.Keywords...) {
		m[strings.ToUpper(k)] = true
	}
	return m
}()

var _ Detector = (*BIC)(nil)
