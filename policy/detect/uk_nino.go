package detect

// NINO finds UK National Insurance numbers: two prefix letters under
// HMRC's rules, six digits and a suffix letter A-D.
type NINO struct{ builtin }

func newNINO(o Options) Detector { return &NINO{newBuiltin(idUKNINO, o)} }

var ninoInfo = Info{
	Name:        "uk_nino",
	Description: "UK National Insurance numbers",
	Validator:   "HMRC rules: first letter not D, F, I, Q, U, V; second not D, F, I, O, Q, U, V; prefix not BG, GB, KN, NK, NT, TN, ZZ; six digits; suffix A-D (QQ is HMRC's documentation prefix and reported as a test value)",
	Confidence:  "medium when spaced (AB 12 34 56 C, AB 123456 C), low unseparated (no check digit: part numbers such as MC146818A pass); high with a keyword within the proximity window",
	Keywords: []string{
		"NINO", "national insurance", "national insurance number", "NI number", "NI no", "NIC", "HMRC", "P60", "P45", "payroll",
	},
	TestValues: []string{"QQ 12 34 56 C", "AB 12 34 56 C"},
	Evidence:   "****56C (last 3 characters)",
	Separators: "unseparated (AB123456C) or spaced AB 12 34 56 C / AB 123456 C",
}

var ninoTestSet = toSet(ninoInfo.TestValues)

// validNINO checks 9 characters; test reports the documentation prefix QQ.
func validNINO(v []byte) (ok, test bool) {
	a, b := v[0], v[1]
	if !isUpper(a) || !isUpper(b) {
		return false, false
	}
	for _, c := range v[2:8] {
		if !isDigit(c) {
			return false, false
		}
	}
	if v[8] < 'A' || v[8] > 'D' {
		return false, false
	}
	if a == 'Q' && b == 'Q' {
		return true, true
	}
	switch a {
	case 'D', 'F', 'I', 'Q', 'U', 'V':
		return false, false
	}
	switch b {
	case 'D', 'F', 'I', 'O', 'Q', 'U', 'V':
		return false, false
	}
	switch string(v[:2]) {
	case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
		return false, false
	}
	return true, ninoTestSet[string(v)]
}

// nino checks a 9-character word.
func (sc *scanner) nino(i, j int) int {
	return sc.ninoEmit(i, j, append(sc.buf[:0], sc.text[i:j]...), formPlain)
}

// ninoSpaced checks a 2-letter word followed by " 12 34 56 C" or
// " 123456 C".
func (sc *scanner) ninoSpaced(i, j int) int {
	t := sc.text
	p := j
	v := append(sc.buf[:0], t[i:j]...)
	if p+11 <= len(t) && t[p] == ' ' && allDigits(t[p+1:p+3]) && t[p+3] == ' ' && allDigits(t[p+4:p+6]) &&
		t[p+6] == ' ' && allDigits(t[p+7:p+9]) && t[p+9] == ' ' && boundedAfter(t, p+11) {
		v = append(v, t[p+1], t[p+2], t[p+4], t[p+5], t[p+7], t[p+8], t[p+10])
		return sc.ninoEmit(i, p+11, v, formSpaced)
	}
	if p+9 <= len(t) && t[p] == ' ' && allDigits(t[p+1:p+7]) && t[p+7] == ' ' && boundedAfter(t, p+9) {
		v = append(append(v, t[p+1:p+7]...), t[p+8])
		return sc.ninoEmit(i, p+9, v, formSpaced)
	}
	return -1
}

func (sc *scanner) ninoEmit(i, e int, v []byte, f form) int {
	ok, test := validNINO(v)
	if !ok {
		return -1
	}
	sc.emit(idUKNINO, i, e, base(idUKNINO, f), test, maskDigits(v, 3), keyOf(idUKNINO, v))
	if identifierContext(sc.text, i, e) {
		// A part number in a compound name ("MC146818A-compatible").
		w := &sc.dst[len(sc.dst)-1]
		w.Confidence, w.Why.Demoted = Low, DemotedIdentifier
	}
	return e
}

func allDigits(s string) bool {
	for k := 0; k < len(s); k++ {
		if !isDigit(s[k]) {
			return false
		}
	}
	return true
}

var _ Detector = (*NINO)(nil)
