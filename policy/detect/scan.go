package detect

// The single pass over the text. The scanner walks the text once with a
// byte-class table. Bytes that cannot start a word are skipped; each word
// (a maximal run of ASCII letters, digits and '_') is classified by the
// classes it contains:
//
//   - digits only: the start of a digit run, which collects the following
//     groups joined by one separator and hands spans of it to the numeric
//     validators (see chain);
//   - lower-case prose ("invoice", "Payment"): skipped after two
//     first-byte tests (the Slack prefixes xox?- and hooks.);
//   - anything else: dispatched by first byte and length to the secret and
//     alphanumeric validators (see token).
//
// A "-" followed by "----BEGIN " starts the private-key armour check.

// Word classes.
const (
	cDigit uint8 = 1 << iota
	cUpper
	cLower
	cUnder
)

var wordClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = cDigit
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = cUpper
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = cLower
	}
	t['_'] = cUnder
	return t
}()

// Separator kinds between digit groups. NBSP and the Unicode thin, narrow
// and figure spaces count as a space.
const (
	sepNone uint8 = iota
	sepSpace
	sepDash
	sepDot
	sepSlash
	sepLine
)

// sepAt returns the kind and byte length of the separator at t[p], if any.
func sepAt(t string, p int) (uint8, int) {
	if p >= len(t) {
		return sepNone, 0
	}
	switch t[p] {
	case ' ':
		return sepSpace, 1
	case '-':
		return sepDash, 1
	case '.':
		return sepDot, 1
	case '/':
		return sepSlash, 1
	case '\n':
		return sepLine, 1
	case '\r':
		if p+1 < len(t) && t[p+1] == '\n' {
			return sepLine, 2
		}
	case 0xC2: // U+00A0 NO-BREAK SPACE
		if p+1 < len(t) && t[p+1] == 0xA0 {
			return sepSpace, 2
		}
	case 0xE2: // U+2007 FIGURE SPACE, U+2009 THIN SPACE, U+202F NARROW NO-BREAK SPACE
		if p+2 < len(t) && t[p+1] == 0x80 && (t[p+2] == 0x87 || t[p+2] == 0x89 || t[p+2] == 0xAF) {
			return sepSpace, 3
		}
	}
	return sepNone, 0
}

// numericSpec describes a numeric identifier to the digit-run scanner.
type numericSpec struct {
	lengths   []int    // digit counts accepted without separators
	groupings []string // standard groupings accepted with separators, as widths ("\x04\x04\x04\x04")
	// check validates the digits d (ASCII); grouped says whether the value
	// was written with separators. It returns the confidence before
	// keywords and whether d is a published sample value.
	check func(d []byte, grouped bool) (conf Confidence, test, ok bool)
	keep  int // trailing digits shown in evidence
}

type scanner struct {
	set  *Set
	text string
	dst  []Match
	buf  [48]byte // canonical value of the candidate being checked
}

func (sc *scanner) run() {
	t := sc.text
	n := len(t)
	pk := sc.set.ids.has(idPrivateKey)
	i := 0
	for i < n {
		c := t[i]
		k := wordClass[c]
		if k == 0 {
			if c == '-' && pk {
				if e := sc.privateKey(i); e > i {
					i = e
					continue
				}
			}
			i++
			continue
		}
		j := i + 1
		var rest uint8
		for j < n {
			k2 := wordClass[t[j]]
			if k2 == 0 {
				break
			}
			rest |= k2
			j++
		}
		switch {
		case k|rest == cDigit:
			i = sc.chain(i, j)
		case rest&^cLower == 0 && k != cDigit && k != cUnder:
			i = sc.prose(i, j)
		default:
			i = sc.token(i, j, k|rest)
		}
	}
}

// emit appends a match.
func (sc *scanner) emit(i id, start, end int, conf Confidence, test bool, evidence string, key uint64) {
	sc.dst = append(sc.dst, Match{
		Detector:   registry[i].info.Name,
		Confidence: conf,
		TestValue:  test,
		Evidence:   evidence,
		Key:        key,
		Start:      start,
		End:        end,
	})
}

// group is one run of digits in a digit chain.
type group struct {
	start, end int
	sep        uint8 // kind of the separator before this group (sepNone for the first)
	uni        int   // groups ending here that are joined by one separator kind
}

// chain scans the digit chain that starts with the all-digit word
// text[i:j]: groups of digits joined by exactly one separator (space,
// NBSP, '-', '.', '/', or one line break). Every group is offered to the
// numeric identifiers as an unseparated value of its length, and every
// span of consecutive groups as a separated value when
//
//   - all separators in the span are of the same kind,
//   - the widths of its groups are a standard grouping of an identifier
//     (4-4-4-4, 4-6-5, 3-2-4, ...), and
//   - the span is not part of a longer number written the same way: the
//     group just before it (or after it), joined by the same separator,
//     must not have the width of the span's first (or last) group.
//
// So "4111 1111 1111 1111 12/25" yields a card, while
// "4111 1111 1111 1111 1111" (twenty digits in fours) and
// "4111 1111\n1111 1111" (mixed separators) do not. Digits glued to letters
// are part of a word, not a group. It returns the end of the chain.
func (sc *scanner) chain(i, j int) int {
	t := sc.text
	n := len(t)
	var ring [16]group
	cnt := 0
	g := group{start: i, end: j, uni: 1}
	for {
		ring[cnt&15] = g
		cnt++
		if cnt >= 2 {
			sc.evalGroup(&ring, cnt, cnt-2)
		}
		kind, l := sepAt(t, g.end)
		if kind == sepNone {
			break
		}
		s := g.end + l
		if s >= n || wordClass[t[s]] != cDigit {
			break
		}
		e := s + 1
		digits := true
		for e < n {
			k := wordClass[t[e]]
			if k == 0 {
				break
			}
			if k != cDigit {
				digits = false
			}
			e++
		}
		if !digits {
			break
		}
		u := 2
		if g.sep == kind {
			u = g.uni + 1
		}
		g = group{start: s, end: e, sep: kind, uni: u}
	}
	sc.evalGroup(&ring, cnt, cnt-1)
	return g.end
}

// evalGroup offers the values that end with group e of the chain (cnt
// groups so far, e+1 is the right neighbour when e+1 < cnt).
func (sc *scanner) evalGroup(r *[16]group, cnt, e int) {
	s := sc.set
	g := &r[e&15]
	w := g.end - g.start
	if w <= maxDigits {
		if m := s.byLen[w]; m != 0 {
			sc.numeric(m, g.start, g.end, false)
		}
		if w == 8 && e == cnt-1 && s.ids.has(idESDNI) {
			sc.dniSeparated(g.start, g.end)
		}
	}
	if w > maxGroup {
		return
	}
	for _, gr := range s.byLast[w] {
		k := len(gr.widths)
		if g.uni < k {
			continue
		}
		ok := true
		for x := range k {
			h := &r[(e-k+1+x)&15]
			if h.end-h.start != int(gr.widths[x]) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if g.uni > k {
			if l := &r[(e-k)&15]; l.end-l.start == int(gr.widths[0]) {
				continue
			}
		}
		if e+1 < cnt {
			if rn := &r[(e+1)&15]; rn.sep == g.sep && rn.end-rn.start == int(gr.widths[k-1]) {
				continue
			}
		}
		sc.numeric(gr.ids, r[(e-k+1)&15].start, g.end, true)
	}
}

// numeric validates the digits of text[start:end] for the identifiers in m.
func (sc *scanner) numeric(m idMask, start, end int, grouped bool) {
	d := sc.buf[:0]
	for p := start; p < end; p++ {
		if c := sc.text[p]; c >= '0' && c <= '9' {
			d = append(d, c)
		}
	}
	for m != 0 {
		i := id(trailingZeros(m))
		m &^= 1 << i
		spec := registry[i].numeric
		conf, test, ok := spec.check(d, grouped)
		if !ok {
			continue
		}
		sc.emit(i, start, end, conf, test, maskDigits(d, spec.keep), keyOf(i, d))
	}
}

func trailingZeros(m idMask) int {
	n := 0
	for m&1 == 0 {
		m >>= 1
		n++
	}
	return n
}

// prose handles a word of lower-case letters, possibly capitalised. Only
// the Slack prefixes and a base64 secret continuing after '/' or '+' can
// start here.
func (sc *scanner) prose(i, j int) int {
	t := sc.text
	ids := sc.set.ids
	switch {
	case j-i == 4 && t[i] == 'x' && ids.has(idSlackToken):
		if e := sc.slackToken(i); e > j {
			return e
		}
	case j-i == 5 && t[i] == 'h' && ids.has(idSlackWebhook):
		if e := sc.slackWebhook(i); e > j {
			return e
		}
	}
	if j < len(t) && (t[j] == '/' || t[j] == '+') && ids.has(idAWSSecretKey) {
		if e := sc.awsSecretKey(i); e > j {
			return e
		}
	}
	return j
}

// token dispatches a word that is neither all digits nor lower-case prose,
// by its first byte, length and classes, to the secret and alphanumeric
// identifiers. It returns where scanning continues.
func (sc *scanner) token(i, j int, f uint8) int {
	t := sc.text
	ids := sc.set.ids
	l := j - i
	next := j
	at := func(e int) {
		if e > next {
			next = e
		}
	}
	switch t[i] {
	case 'A':
		if l == 20 && ids.has(idAWSAccessKey) {
			at(sc.awsAccessKey(i, j))
		}
		if l >= 4 && t[i+1] == 'I' && t[i+2] == 'z' && t[i+3] == 'a' && ids.has(idGCPAPIKey) {
			at(sc.gcpAPIKey(i))
		}
	case 'g':
		if l >= 40 && ids.has(idGitHubToken) {
			at(sc.gitHubToken(i, j))
		}
	case 's', 'r':
		if l >= 8 && t[i+1] == 'k' && t[i+2] == '_' && ids.has(idStripeKey) {
			at(sc.stripeKey(i, j))
		}
	case 'e':
		if l >= 3 && t[i+1] == 'y' && t[i+2] == 'J' && ids.has(idJWT) {
			at(sc.jwt(i))
		}
	}
	if next > j {
		return next
	}
	c0 := wordClass[t[i]]
	if c0 == cUpper && f&cLower == 0 {
		// Upper-case letters and digits only.
		if l >= 4 && wordClass[t[i+1]] == cUpper && wordClass[t[i+2]] == cDigit && wordClass[t[i+3]] == cDigit && ids.has(idIBAN) {
			at(sc.iban(i, j))
		}
		switch l {
		case 2:
			if ids.has(idUKNINO) {
				at(sc.ninoSpaced(i, j))
			}
		case 8, 11:
			if ids.has(idSwiftBIC) {
				at(sc.bic(i, j))
			}
		case 9:
			if ids.has(idUKNINO) {
				at(sc.nino(i, j))
			}
			if ids.has(idESNIE) {
				at(sc.nie(i, j))
			}
		case 10:
			if ids.has(idINPAN) {
				at(sc.pan(i, j))
			}
		case 16:
			if ids.has(idITCodiceFiscale) {
				at(sc.codiceFiscale(i, j))
			}
		}
	} else if c0 == cDigit && f&cLower == 0 {
		switch l {
		case 9:
			if ids.has(idESDNI) {
				at(sc.dni(i, j))
			}
		case 15:
			if ids.has(idFRNIR) {
				at(sc.nirCorsica(i, j))
			}
		}
	}
	if next == j && ids.has(idAWSSecretKey) && l <= 40 && (mixed(f) || (j < len(t) && (t[j] == '/' || t[j] == '+'))) {
		at(sc.awsSecretKey(i))
	}
	return next
}

// mixed reports whether a word has at least two of upper, lower, digit.
func mixed(f uint8) bool {
	f &= cUpper | cLower | cDigit
	return f&(f-1) != 0
}

// isUpper, isDigit and isAlnum test single ASCII bytes.
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return wordClass[c]&(cDigit|cUpper|cLower) != 0 }

// boundedAfter reports whether text[e] is not a word byte (or e is the end).
func boundedAfter(t string, e int) bool { return e >= len(t) || wordClass[t[e]] == 0 }
