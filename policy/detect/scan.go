package detect

import "math/bits"

// The single pass over the text. A tight loop skips every byte that is
// not hot (see hot): lower-case prose, spaces and most punctuation cost one
// table lookup each. At a hot byte the scanner takes the word around it (a
// maximal run of ASCII letters, digits and '_') and classifies it by the
// classes it contains:
//
//   - digits only: the start of a digit chain, which collects the following
//     groups joined by one separator and hands values to the numeric
//     validators (see chain);
//   - a capitalised word ("Payment"): skipped;
//   - anything else: dispatched by first byte and length to the secret and
//     alphanumeric validators (see token).
//
// A hot '-', '/' or '+' outside a word starts the private-key armour
// check, a Slack token (xox?-), a Slack webhook (hooks.slack.com/) or a
// base64 secret whose first word is lower-case (see punct).

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

// numericSpec describes a numeric identifier to the digit-run scanner.
type numericSpec struct {
	lengths   []int    // digit counts accepted without separators
	groupings []string // standard groupings accepted with separators, as widths ("\x04\x04\x04\x04")
	keep      int      // trailing digits shown in evidence
	// The validator is called through checkNumeric.
}

// accepts reports whether n digits can be a value of the spec: one of
// its lengths, or the digits of one of its groupings.
func (sp *numericSpec) accepts(n int) bool {
	if sp == nil {
		return false
	}
	for _, l := range sp.lengths {
		if l == n {
			return true
		}
	}
	for _, g := range sp.groupings {
		total := 0
		for k := 0; k < len(g); k++ {
			total += int(g[k])
		}
		if total == n {
			return true
		}
	}
	return false
}

type scanner struct {
	set   *Set
	text  string
	dst   []Match
	buf   [48]byte  // canonical value of the candidate being checked
	ring  [16]group // the last groups of the current digit chain
	first int       // first group of the current chain that may start a value

	stop    func() bool // asked every stopEvery bytes whether to give up (nil: never)
	stopped bool        // stop said yes: the text was not scanned to its end
}

// stopEvery is how many bytes of text the scanner passes between two calls
// of its stop function: often enough that a scan ends within a millisecond
// or so of its deadline, rarely enough that the call costs nothing.
const stopEvery = 64 << 10

// hot marks the bytes at which the scanner stops: digits, upper-case
// letters and '_' (they make a word worth classifying), and '-', '/' and
// '+' (private-key armour, Slack tokens, base64 secrets that start with a
// lower-case word). Everything else, lower-case prose in particular, is
// skipped by a tight loop.
// A hot byte's entry is its word class, or hotPunct for the three
// punctuation bytes, so that the skip loop hands on the class of the byte
// it stopped at from the word it already holds, without loading the byte
// and its class again.
var hot = func() (t [256]uint8) {
	for c := range 256 {
		if k := wordClass[c]; k == cDigit || k == cUpper || k == cUnder {
			t[c] = k
		}
	}
	t['-'], t['/'], t['+'] = hotPunct, hotPunct, hotPunct
	return t
}()

// hotPunct marks '-', '/' and '+' in hot: no word class.
const hotPunct = cUnder << 1

func (sc *scanner) run() {
	t := sc.text
	n := len(t)
	last := 0 // text[:last] has been dealt with
	i := 0
	// In locals, not fields: the compiler reloads fields after every call.
	stop := sc.stop
	idle := !sc.set.generalPath // the chain shortcut is on
	check := 0                  // text offset at which stop is asked next
	var c uint8                 // hot[t[i]] at found
	for {
		for i+8 <= n {
			b := t[i : i+8]
			v := uint64(hot[b[0]]) | uint64(hot[b[1]])<<8 | uint64(hot[b[2]])<<16 | uint64(hot[b[3]])<<24 |
				uint64(hot[b[4]])<<32 | uint64(hot[b[5]])<<40 | uint64(hot[b[6]])<<48 | uint64(hot[b[7]])<<56
			if v != 0 {
				z := bits.TrailingZeros64(v)
				i += z / 8
				c = uint8(v >> (z &^ 7))
				goto found
			}
			i += 8
		}
		for i < n && hot[t[i]] == 0 {
			i++
		}
		if i >= n {
			return
		}
		c = hot[t[i]]
	found: // t[i] is hot, of hot class c
		if i >= check && stop != nil {
			check = i + stopEvery
			if stop() {
				sc.stopped = true
				return
			}
		}
		if c == hotPunct {
			i = sc.punct(i, last)
			last = i
			continue
		}
		// The word around i; its part before i is lower-case (cold).
		ws := i
		for ws > last && wordClass[t[ws-1]] != 0 {
			ws--
		}
		if ws == i && c == cUpper && i+1 < n && wordClass[t[i+1]] == cLower {
			// A capital followed by lower case: prose unless another hot
			// byte follows in the same word, whose back-up then stops here.
			last = i
			i++
			continue
		}
		k := wordClass[t[ws]]
		var rest uint8
		j := ws + 1
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
			// Most chains of prose numbers hold no value (see idleChain);
			// a chain after '(' may start a card and takes the general path.
			if idle && (ws == 0 || t[ws-1] != '(') {
				if end, ok := sc.idleChain(ws, j); ok {
					i = end
					break
				}
			}
			i = sc.chain(ws, j)
		case k == cDigit && rest == cDigit|cUnder && sc.set.ids.has(idCreditCard):
			sc.underscored(ws, j)
			i = j
		case rest&^cLower == 0 && k == cUpper:
			i = sc.prose(ws, j)
		default:
			i = sc.token(ws, j, k|rest)
		}
		last = i
	}
}

// punct handles a hot byte that is not part of a word ('-', '/', '+'):
// the start of private-key armour, the dash of a Slack token prefix, the
// slash after hooks.slack.com, or a base64 secret whose first word is
// lower-case. It returns where scanning continues.
func (sc *scanner) punct(i, last int) int {
	t := sc.text
	ids := sc.set.ids
	switch t[i] {
	case '-':
		if t[min(i+1, len(t)-1)] == '-' && ids.has(idPrivateKey) {
			if e := sc.privateKey(i); e > i {
				return e
			}
		}
		if ws := i - 4; ws >= last && ws >= 0 && t[ws] == 'x' && t[ws+1] == 'o' && t[ws+2] == 'x' &&
			(ws == 0 || wordClass[t[ws-1]] == 0) && ids.has(idSlackToken) {
			if e := sc.slackToken(ws); e > i {
				return e
			}
		}
	case '/', '+':
		if t[i] == '/' && i >= last+len("hooks.slack.com") && t[i-15:i] == "hooks.slack.com" && ids.has(idSlackWebhook) {
			if e := sc.slackWebhook(i - 15); e > i {
				return e
			}
		}
		// A base64 secret may start with the word before this byte (a
		// lower-case or all-digit word, which nothing has tried yet) or
		// with this byte itself.
		ws := i
		for ws > 0 && i-ws < 40 && wordClass[t[ws-1]] != 0 {
			ws--
		}
		if ids.has(idAWSSecretKey) {
			if e := sc.awsSecretKey(ws); e > i {
				return e
			}
		}
	}
	return i + 1
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
		Why:        Why{Base: conf},
	})
}

// prose handles a capitalised word of letters ("Payment") or a single
// capital. Only a separated NIE ("X-2482300-W") or a base64 secret
// continuing after '/' or '+' can start here.
func (sc *scanner) prose(i, j int) int {
	t := sc.text
	if j-i == 1 && t[i] >= 'X' && sc.set.ids.has(idESNIE) {
		if e := sc.nieSeparated(i); e > j {
			return e
		}
	}
	if j < len(t) && (t[j] == '/' || t[j] == '+') && sc.set.ids.has(idAWSSecretKey) {
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
	case 'B':
		// Magnetic stripe track 1: "%B" and the card number, then '^'.
		if i > 0 && t[i-1] == '%' && l-1 <= maxDigits && ids.has(idCreditCard) && allDigits(t[i+1:j]) {
			if m := sc.set.byLen[l-1] & (1 << idCreditCard); m != 0 {
				sc.numeric(m, i+1, j, sepNone, NotDemoted)
			}
		}
	}
	if next > j {
		return next
	}
	c0 := wordClass[t[i]]
	if c0&(cUpper|cLower) != 0 && f&cDigit != 0 && l >= 15 && ids.has(idCreditCard) {
		sc.gluedCard(i, j)
	}
	if l >= 4 && c0&(cUpper|cLower) != 0 && wordClass[t[i+1]]&(cUpper|cLower) != 0 && wordClass[t[i+2]] == cDigit && wordClass[t[i+3]] == cDigit && (ids.has(idIBAN) || sc.set.numAny != 0) {
		at(sc.iban(i, j))
		if next > j {
			return next
		}
	}
	if c0 == cUpper && f&cLower == 0 {
		// Upper-case letters and digits only.
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
		case 2:
			if ids.has(idFRNIR) {
				at(sc.nirCorsicaSpaced(i))
			}
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
