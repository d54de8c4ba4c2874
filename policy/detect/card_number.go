package detect

// CardNumber finds payment card numbers (PANs): Visa, Mastercard (51-55
// and the 2-series 2221-2720), American Express, Discover, JCB, Diners
// Club, UnionPay, Maestro and Mir, by issuer identification number (IIN)
// range and length per brand, then the Luhn check (ISO/IEC 7812-1).
type CardNumber struct{ builtin }

func newCardNumber(o Options) Detector { return &CardNumber{newBuiltin(idCreditCard, o)} }

var cardNumberInfo = Info{
	Name:        "credit_card",
	Description: "Payment card numbers: Visa, Mastercard (incl. 2-series), American Express, Discover, JCB, Diners Club, UnionPay, Maestro, Mir",
	Validator:   "IIN range and length per brand (Visa 4: 13/16/19; Mastercard 51-55, 2221-2720: 16; Amex 34/37: 15; Discover 6011, 644-649, 65, 622126-622925: 16-19; JCB 3528-3589: 16-19; Diners 300-305, 3095, 36, 38, 39: 14-19; UnionPay 62, 81: 16-19; Maestro 5018, 5020, 5038, 5893, 6304, 6759, 6761-6763: 12-19; Mir 2200-2204: 16-19), then Luhn mod 10; numbers of one repeated digit are rejected",
	Confidence:  "medium alone; high with a card keyword within the proximity window",
	Keywords: []string{
		"card", "credit card", "debit card", "card number", "card no", "cc#", "ccn", "pan",
		"visa", "mastercard", "amex", "american express", "discover", "jcb", "diners", "unionpay", "maestro",
		"cvv", "cvc", "cvv2", "cvc2", "cid", "security code", "expiry", "expiration", "exp date", "valid thru", "valid until",
		"Kreditkarte", "Kreditkartennummer", "Kartennummer", "Karteninhaber", "gültig bis", "Prüfnummer",
		"carte bancaire", "carte de crédit", "numéro de carte", "date d'expiration", "cryptogramme",
		"tarjeta", "tarjeta de crédito", "número de tarjeta", "caducidad", "vencimiento",
		"carta di credito", "numero carta", "scadenza",
		"creditcard", "kaartnummer", "vervaldatum",
		"karta kredytowa", "numer karty",
	},
	TestValues: cardTestValues,
	Evidence:   "****1111 (last 4 digits)",
	Separators: "unseparated, or grouped 4-4-4-4 (16), 4-6-5 (15), 4-6-4 (14), 4-4-4-4-1/2/3 (17-19) with one consistent separator (see Digits, separators and groups)",
}

// cardTestValues are the test numbers published by card brands and payment
// processors (Stripe, Adyen, PayPal/Braintree documentation).
var cardTestValues = []string{
	"4111111111111111", "4012888888881881", "4222222222222", "4242424242424242", "4000056655665556",
	"4000000000000002", "4000000000000077", "4000002500003155", "4917610000000000003",
	"5555555555554444", "5105105105105100", "5200828282828210", "2223003122003222", "2221000000000009",
	"378282246310005", "371449635398431", "378734493671000", "340000000000009",
	"6011111111111117", "6011000990139424", "6011000000000004",
	"3530111333300000", "3566002020360505", "3566111111111113",
	"30569309025904", "38520000023237", "36227206271667", "3056930009020004",
	"6200000000000005", "6205500000000000004", "6759649826438453",
}

var cardTestSet = toSet(cardTestValues)

var cardNumberSpec = numericSpec{
	lengths: []int{12, 13, 14, 15, 16, 17, 18, 19},
	groupings: []string{
		"\x04\x04\x04\x04",
		"\x04\x06\x05",
		"\x04\x06\x04",
		"\x04\x04\x04\x03", // Amex written in fours
		"\x04\x04\x04\x04\x01",
		"\x04\x04\x04\x04\x02",
		"\x04\x04\x04\x04\x03",
	},
	keep: 4,
}

// cardBrand returns the brand whose IIN range and lengths admit d, or "".
func cardBrand(d []byte) string {
	n := len(d)
	p2 := num(d[:2])
	p4 := num(d[:4])
	p3 := p4 / 10
	p6 := 0
	if n >= 6 {
		p6 = num(d[:6])
	}
	switch {
	case d[0] == '4':
		if n == 13 || n == 16 || n == 19 {
			return "visa"
		}
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		if n == 16 {
			return "mastercard"
		}
	case p2 == 34 || p2 == 37:
		if n == 15 {
			return "amex"
		}
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65, p6 >= 622126 && p6 <= 622925:
		if n >= 16 && n <= 19 {
			return "discover"
		}
	case p4 >= 3528 && p4 <= 3589:
		if n >= 16 && n <= 19 {
			return "jcb"
		}
	case p3 >= 300 && p3 <= 305, p4 == 3095, p2 == 36, p2 == 38, p2 == 39:
		if n >= 14 && n <= 19 {
			return "diners"
		}
	case p4 >= 2200 && p4 <= 2204:
		if n >= 16 && n <= 19 {
			return "mir"
		}
	case p2 == 62, p2 == 81:
		if n >= 16 && n <= 19 {
			return "unionpay"
		}
	case p4 == 5018, p4 == 5020, p4 == 5038, p4 == 5893, p4 == 6304, p4 == 6759, p4 >= 6761 && p4 <= 6763:
		if n >= 12 && n <= 19 {
			return "maestro"
		}
	}
	return ""
}

func checkCard(d []byte) (test, ok bool) {
	if cardBrand(d) == "" || allSame(d) || !luhn(d) {
		return false, false
	}
	return cardTestSet[string(d)], true
}

func toSet(vs []string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[canonical(v)] = true
	}
	return m
}

// canonical keeps the ASCII letters (upper-cased) and digits of v.
func canonical(v string) string {
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isDigit(c), isUpper(c):
			b = append(b, c)
		case c >= 'a' && c <= 'z':
			b = append(b, c-'a'+'A')
		}
	}
	return string(b)
}

var _ Detector = (*CardNumber)(nil)
