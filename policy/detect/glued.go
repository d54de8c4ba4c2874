package detect

// A card number written straight after its own label, without a space
// ("card4111111111111111exp", "CC5555555555554444"), is one word to the
// tokenizer, and a digit run inside a word is normally part of an
// identifier ("testcase5390364397928448"). The label makes it a value:
// only these card labels do, and only for a whole run of card length
// followed by the end of the word or by letters.
var gluedCardLabels = map[string]bool{
	"card": true, "cardno": true, "cardnum": true, "cardnumber": true, "creditcard": true,
	"cc": true, "ccn": true, "ccno": true, "ccnum": true, "pan": true,
	"visa": true, "mc": true, "amex": true, "mastercard": true, "discover": true,
	"karte": true, "kreditkarte": true, "carte": true, "tarjeta": true, "carta": true,
}

// gluedCard offers the card number of a word made of a card label, a run
// of 13 to 19 digits and optionally more letters.
func (sc *scanner) gluedCard(i, j int) {
	t := sc.text
	d := i
	for d < j && wordClass[t[d]]&(cUpper|cLower) != 0 {
		d++
	}
	if d == i || d-i > len("kreditkarte") || d == j || !isDigit(t[d]) {
		return
	}
	var label [11]byte
	for p := i; p < d; p++ {
		label[p-i] = lowerASCII(t[p])
	}
	if !gluedCardLabels[string(label[:d-i])] {
		return
	}
	e := d
	for e < j && isDigit(t[e]) {
		e++
	}
	if e-d < 13 || e-d > maxDigits {
		return
	}
	for p := e; p < j; p++ {
		if wordClass[t[p]]&(cUpper|cLower) == 0 {
			return // more digits or '_' after letters: an identifier
		}
	}
	if m := sc.set.byLen[e-d] & (1 << idCreditCard); m != 0 {
		sc.numeric(m, d, e, sepNone, NotDemoted)
	}
}
