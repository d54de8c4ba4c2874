package corpus

import (
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"strings"
)

// Fake returns a random checksum-valid value of the built-in identifier
// name, written in its plain form (unseparated, or the one form the
// identifier is known by, such as an NI number's letters and digits).
// It panics on an unknown name: the corpus must cover the registry.
func Fake(r *Rand, name string) string {
	f, ok := fakes[name]
	if !ok {
		panic("corpus: no generator for " + name)
	}
	return f(r)
}

// FakeNames lists the identifiers Fake knows.
func FakeNames() []string {
	out := make([]string, 0, len(fakes))
	for n := range fakes {
		out = append(out, n)
	}
	return out
}

var fakes = map[string]func(*Rand) string{
	"credit_card":       func(r *Rand) string { return Card(r, r.IntN(8)) },
	"iban":              IBAN,
	"us_ssn":            SSN,
	"us_itin":           ITIN,
	"aba_routing":       ABA,
	"swift_bic":         BIC,
	"uk_nino":           NINO,
	"uk_nhs":            NHS,
	"de_steuer_id":      SteuerID,
	"fr_nir":            NIR,
	"es_dni":            DNI,
	"es_nie":            NIE,
	"it_codice_fiscale": CodiceFiscale,
	"nl_bsn":            BSN,
	"pl_pesel":          PESEL,
	"ca_sin":            SIN,
	"au_tfn":            TFN,
	"in_aadhaar":        Aadhaar,
	"in_pan":            PAN,
	"aws_access_key":    func(r *Rand) string { return AWSAccessKey(r, "AKIA") },
	"aws_secret_key":    AWSSecretKey,
	"gcp_api_key":       func(r *Rand) string { return "AIza" + r.From(alnum+"-_", 35) },
	"github_token":      GitHubToken,
	"slack_token":       SlackToken,
	"slack_webhook":     SlackWebhook,
	"stripe_key":        func(r *Rand) string { return "sk_live_" + r.From(alnum, 24) },
	"jwt":               JWT,
	"private_key":       PrivateKey,
}

// cardPrefixes are IINs of the brands, by index: Visa, Mastercard,
// Mastercard 2-series, Amex, Discover, JCB, Diners, UnionPay.
var cardPrefixes = []struct {
	iin    string
	length int
}{{"4", 16}, {"5", 16}, {"2", 16}, {"37", 15}, {"6011", 16}, {"35", 16}, {"36", 14}, {"62", 16}}

// Card returns a Luhn-valid number of brand (index into cardPrefixes).
func Card(r *Rand, brand int) string {
	p := cardPrefixes[brand%len(cardPrefixes)]
	iin := p.iin
	switch iin {
	case "5":
		iin += string(byte('1' + r.IntN(5)))
	case "2":
		iin = fmt.Sprint(2221 + r.IntN(500))
	case "35":
		iin = fmt.Sprint(3528 + r.IntN(62))
	case "62":
		iin = "62" + string(byte('3'+r.IntN(6)))
	}
	return Luhn(iin + r.Digits(p.length-1-len(iin)))
}

// ibanBBANs are BBAN shapes by country: d digit, a upper-case letter,
// c letter or digit.
var ibanBBANs = map[string]string{
	"DE": "dddddddddddddddddd", "GB": "aaaadddddddddddddd", "NL": "aaaadddddddddd",
	"FR": "ddddddddddcccccccccccdd", "ES": "dddddddddddddddddddd", "BE": "dddddddddddd",
	"IT": "addddddddddcccccccccccc", "AT": "dddddddddddddddd", "CH": "ddddddddddddddddd",
	"PL": "dddddddddddddddddddddddd",
}

var ibanCountries = []string{"DE", "GB", "NL", "FR", "ES", "BE", "IT", "AT", "CH", "PL"}

// IBANFor returns a valid IBAN of country cc.
func IBANFor(r *Rand, cc string) string {
	var b strings.Builder
	for _, c := range ibanBBANs[cc] {
		switch c {
		case 'd':
			b.WriteString(r.Digits(1))
		case 'a':
			b.WriteString(r.From(upper, 1))
		default:
			b.WriteString(r.From(upper+digits, 1))
		}
	}
	return IBANComplete(cc, b.String())
}

// IBAN returns a valid IBAN of a random registered country.
func IBAN(r *Rand) string { return IBANFor(r, ibanCountries[r.IntN(len(ibanCountries))]) }

// BadIBAN returns an IBAN with one digit changed, so it fails MOD 97-10.
func BadIBAN(r *Rand) string {
	v := IBAN(r)
	for {
		k := 4 + r.IntN(len(v)-4)
		if v[k] < '0' || v[k] > '9' {
			continue
		}
		w := v[:k] + string(byte('0'+(int(v[k]-'0')+1+r.IntN(8))%10)) + v[k+1:]
		if !IBANValid(w) {
			return w
		}
	}
}

// SSN returns a valid US SSN, unseparated.
func SSN(r *Rand) string {
	area := 1 + r.IntN(899)
	if area == 666 {
		area = 667
	}
	return fmt.Sprintf("%03d%02d%04d", area, 1+r.IntN(99), 1+r.IntN(9999))
}

// ITIN returns a valid ITIN, unseparated.
func ITIN(r *Rand) string {
	return fmt.Sprintf("9%02d%02d%04d", r.IntN(100), 70+r.IntN(19), 1+r.IntN(9999))
}

// ABA returns a valid routing number.
func ABA(r *Rand) string {
	for {
		p := r.Pick("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12",
			"21", "22", "26", "31", "32", "61", "63", "67", "71")
		s := p + r.Digits(6)
		for d := byte('0'); d <= '9'; d++ {
			if ABAValid(s + string(d)) {
				return s + string(d)
			}
		}
	}
}

// BIC returns a bank identifier code with an ordinary location code.
func BIC(r *Rand) string {
	return r.From(upper, 4) + r.Pick("DE", "FR", "GB", "NL", "ES", "IT", "CH") +
		r.From(upper, 1) + r.From(upper+"123456789", 1) + r.Pick("", "XXX")
}

// NINO returns a UK National Insurance number, unseparated.
func NINO(r *Rand) string {
	for {
		p := r.From("ABCEGHJKLMNOPRSTWXYZ", 1) + r.From("ABCEGHJKLMNPRSTWXYZ", 1)
		switch p {
		case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
			continue
		}
		return p + r.Digits(6) + r.From("ABCD", 1)
	}
}

// NHS returns a valid NHS number, unseparated.
func NHS(r *Rand) string {
	for {
		s := r.DigitsNZ(9)
		c := 11 - weighted(s, 10, 9, 8, 7, 6, 5, 4, 3, 2)%11
		if c == 11 {
			c = 0
		}
		if c != 10 {
			return s + string(byte('0'+c))
		}
	}
}

// SteuerID returns a valid German tax id: ten digits in which exactly one
// digit appears twice, and the MOD 11,10 check digit.
func SteuerID(r *Rand) string {
	for {
		perm := r.Perm(10)
		if perm[0] == 0 {
			continue
		}
		d := make([]byte, 10)
		for i := range 9 {
			d[i] = byte('0' + perm[i])
		}
		d[9] = d[r.IntN(8)] // one digit twice, never three in a row
		if d[9] == d[8] {
			continue
		}
		s := string(d)
		return s + string(iso7064Mod1110(s))
	}
}

// NIR returns a French social security number, unseparated.
func NIR(r *Rand) string {
	dept := 1 + r.IntN(95)
	if dept == 20 {
		dept = 21
	}
	n := fmt.Sprintf("%d%02d%02d%02d%03d%03d", 1+r.IntN(2), r.IntN(100), 1+r.IntN(12), dept, 1+r.IntN(990), 1+r.IntN(999))
	return fmt.Sprintf("%s%02d", n, 97-bigMod(n, 97))
}

// DNI returns a Spanish DNI.
func DNI(r *Rand) string {
	n := r.DigitsNZ(8)
	return n + string(dniLetters[bigMod(n, 23)])
}

// NIE returns a Spanish NIE.
func NIE(r *Rand) string {
	k := r.IntN(3)
	n := r.Digits(7)
	return string("XYZ"[k]) + n + string(dniLetters[bigMod(fmt.Sprint(k)+n, 23)])
}

// CodiceFiscale returns an Italian tax code of a person.
func CodiceFiscale(r *Rand) string {
	v := r.From("BCDFGHLMNPRSTVZ", 6) + r.Digits(2) + r.From("ABCDEHLMPRST", 1) +
		fmt.Sprintf("%02d", 1+r.IntN(28)+40*r.IntN(2)) + r.From("ABCDEFGHILM", 1) + r.Digits(3)
	return v + string(cfCheck(v))
}

// BSN returns a Dutch BSN (elfproef).
func BSN(r *Rand) string {
	for {
		s := r.DigitsNZ(8)
		sum := weighted(s, 9, 8, 7, 6, 5, 4, 3, 2)
		for d := 0; d <= 9; d++ {
			if (sum-d)%11 == 0 && sum-d > 0 {
				return s + string(byte('0'+d))
			}
		}
	}
}

// PESEL returns a Polish PESEL of someone born 1950-2009.
func PESEL(r *Rand) string {
	y := 1950 + r.IntN(60)
	m := 1 + r.IntN(12)
	if y >= 2000 {
		m += 20
	}
	s := fmt.Sprintf("%02d%02d%02d%04d", y%100, m, 1+r.IntN(28), r.IntN(10000))
	c := (10 - weighted(s, 1, 3, 7, 9, 1, 3, 7, 9, 1, 3)%10) % 10
	return s + string(byte('0'+c))
}

// SIN returns a Canadian SIN.
func SIN(r *Rand) string { return Luhn(string(byte('1'+r.IntN(7))) + r.Digits(7)) }

// TFN returns a nine-digit Australian TFN.
func TFN(r *Rand) string {
	for {
		s := r.DigitsNZ(8)
		sum := weighted(s, 1, 4, 3, 7, 5, 8, 6, 9)
		for d := 0; d <= 9; d++ {
			if (sum+10*d)%11 == 0 {
				return s + string(byte('0'+d))
			}
		}
	}
}

// Aadhaar returns a Verhoeff-valid 12-digit number starting 2-9.
func Aadhaar(r *Rand) string { return Verhoeff(string(byte('2'+r.IntN(8))) + r.Digits(10)) }

// PAN returns an Indian PAN of a person.
func PAN(r *Rand) string {
	return r.From(upper, 3) + "P" + r.From(upper, 1) + r.Digits(4) + r.From(upper, 1)
}

// AWSAccessKey returns an access key id with prefix (AKIA, ASIA, ABIA,
// ACCA, A3T…).
func AWSAccessKey(r *Rand, prefix string) string {
	return prefix + r.From(upper+"234567", 20-len(prefix))
}

// AWSSecretKey returns 40 base64 characters with upper, lower and digits.
func AWSSecretKey(r *Rand) string {
	for {
		s := r.From(alnum+"+/", 40)
		if strings.ContainsAny(s, upper) && strings.ContainsAny(s, lower) && strings.ContainsAny(s, digits) {
			return s
		}
	}
}

// GitHubToken returns a classic personal access token with its CRC32
// base62 checksum.
func GitHubToken(r *Rand) string {
	random := r.From(alnum, 30)
	c := crc32.ChecksumIEEE([]byte(random))
	const alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var sum [6]byte
	for k := 5; k >= 0; k-- {
		sum[k] = alpha[c%62]
		c /= 62
	}
	return "ghp_" + random + string(sum[:])
}

// SlackToken returns a bot token.
func SlackToken(r *Rand) string {
	return "xoxb-" + r.DigitsNZ(12) + "-" + r.DigitsNZ(13) + "-" + r.From(alnum, 24)
}

// SlackWebhook returns an incoming-webhook URL.
func SlackWebhook(r *Rand) string {
	return "https://hooks.slack.com/services/T" + r.From(upper+digits, 10) + "/B" + r.From(upper+digits, 10) + "/" + r.From(alnum, 24)
}

// JWT returns a signed compact token.
func JWT(r *Rand) string {
	e := base64.RawURLEncoding
	h := e.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	p := e.EncodeToString([]byte(fmt.Sprintf(`{"sub":"%s","iat":%d}`, r.Digits(8), 1700000000+r.IntN(1e8))))
	return h + "." + p + "." + r.From(alnum+"-_", 43)
}

// PrivateKey returns an RSA private key armour with a random body.
func PrivateKey(r *Rand) string {
	var b strings.Builder
	b.WriteString("-----BEGIN RSA PRIVATE KEY-----\n")
	b.WriteString("MIIEowIBAAKCAQEA" + r.From(alnum+"+/", 48) + "\n")
	for range 8 {
		b.WriteString(r.From(alnum+"+/", 64) + "\n")
	}
	b.WriteString("-----END RSA PRIVATE KEY-----")
	return b.String()
}
