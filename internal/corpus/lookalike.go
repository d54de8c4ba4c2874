package corpus

import (
	"fmt"
	"strconv"
)

// Numbers that look like identifiers and are not. Many are made to pass
// the very checks a detector runs (Luhn with a card brand's prefix,
// Verhoeff, an SSN's ranges) on purpose: only context tells them apart.

// CardLike returns a Luhn-valid 16-digit number with a card brand's IIN,
// as a fuzzer test-case id, an order number or a trace id can be by
// chance (one random 16-digit number in ten passes Luhn).
func CardLike(r *Rand) string { return Card(r, []int{0, 1, 2, 4, 5}[r.IntN(5)]) }

// FuzzerID returns a ClusterFuzz-style 16-digit test-case id that passes
// Luhn and starts like a Visa or Mastercard number.
func FuzzerID(r *Rand) string { return Card(r, r.IntN(2)) }

// USPS22 returns a 22-digit USPS tracking number written in groups of
// four whose second to fifth groups are a Luhn-valid 16-digit card-like
// slice.
func USPS22(r *Rand) string {
	return Group(r.Pick("9400", "9205", "9361", "9270", "9300")+CardLike(r)+r.Digits(2), " ", 4, 4, 4, 4, 4, 2)
}

// USPS20 returns a 20-digit USPS tracking number in groups of four whose
// first sixteen digits pass Luhn (no card prefix: starts with 9).
func USPS20(r *Rand) string {
	return Group(r.Pick("9114", "9101", "9102")+Luhn("9"+r.Digits(11))+r.Digits(4), " ", 4, 4, 4, 4, 4)
}

// UPS returns a UPS 1Z tracking number.
func UPS(r *Rand) string {
	return "1Z" + r.From(upper+digits, 6) + r.Pick("01", "02", "03", "12", "13") + r.Digits(8)
}

// FedEx12 returns a 12-digit FedEx Express tracking number that passes
// Verhoeff and starts with 2-9, as one in ten such numbers does.
func FedEx12(r *Rand) string { return Aadhaar(r) }

// FedEx15 returns a 15-digit FedEx Ground number.
func FedEx15(r *Rand) string { return "96" + r.Digits(13) }

// DHL10 returns a 10-digit DHL Express waybill number that passes the NHS
// modulus 11 check.
func DHL10(r *Rand) string { return NHS(r) }

// gs1Check returns the GS1 check digit of the digits s (EAN, UPC, GTIN).
func gs1Check(s string) byte {
	sum := 0
	for i := 0; i < len(s); i++ {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// EAN13 returns an EAN-13 of a German product (GS1 prefix 400-440) that
// also passes Luhn, so that it reads as a 13-digit Visa number.
func EAN13(r *Rand) string {
	for {
		s := strconv.Itoa(400+r.IntN(41)) + r.Digits(9)
		s += string(gs1Check(s))
		if LuhnValid(s) {
			return s
		}
	}
}

// EAN13Any returns a valid EAN-13 of a German product; about one in ten
// also passes Luhn, as in a real catalogue.
func EAN13Any(r *Rand) string {
	s := strconv.Itoa(400+r.IntN(41)) + r.Digits(9)
	return s + string(gs1Check(s))
}

// GTIN14 returns a GTIN-14 starting 36 that passes Luhn (a Diners shape).
func GTIN14(r *Rand) string {
	for {
		s := "36" + r.Digits(11)
		s += string(gs1Check(s))
		if LuhnValid(s) {
			return s
		}
	}
}

// UPC returns a UPC-A number.
func UPC(r *Rand) string {
	s := "0" + r.Digits(10)
	return s + string(gs1Check(s))
}

// ISBN13 returns an ISBN-13 written with hyphens.
func ISBN13(r *Rand) string {
	s := r.Pick("978", "979") + r.Digits(9)
	s += string(gs1Check(s))
	return s[:3] + "-" + s[3:4] + "-" + s[4:7] + "-" + s[7:12] + "-" + s[12:]
}

// ISBN10 returns an ISBN-10 written with hyphens.
func ISBN10(r *Rand) string {
	s := r.Digits(9)
	c := 11 - weighted(s, 10, 9, 8, 7, 6, 5, 4, 3, 2)%11
	cs := strconv.Itoa(c % 11)
	if c == 10 {
		cs = "X"
	}
	return s[:1] + "-" + s[1:4] + "-" + s[4:9] + "-" + cs
}

// ISSN returns an ISSN.
func ISSN(r *Rand) string {
	s := r.Digits(7)
	c := (11 - weighted(s, 8, 7, 6, 5, 4, 3, 2)%11) % 11
	cs := strconv.Itoa(c)
	if c == 10 {
		cs = "X"
	}
	return s[:4] + "-" + s[4:] + cs
}

// SSNShaped returns a 3-2-4 number that passes the SSA's rules, for use
// as an invoice, customer or case number.
func SSNShaped(r *Rand) string { return Group(SSN(r), "-", 3, 2, 4) }

// Epoch returns a Unix time in seconds in 2024-2027.
func Epoch(r *Rand) int64 { return 1704067200 + r.Int64N(4*365*86400) }

// TraceID returns a 19-digit decimal trace id that starts with 4 and
// passes Luhn (a 19-digit Visa shape), as Datadog writes them.
func TraceID(r *Rand) string { return Luhn("4" + r.Digits(17)) }

// BadIBANCardTail returns a German IBAN that fails MOD 97-10 and whose
// bank code and account start with a Luhn-valid Visa-like 16 digits, in
// the paper format: only the whole string may be judged.
func BadIBANCardTail(r *Rand) string {
	for {
		bban := Card(r, 0) + r.Digits(2)
		v := "DE" + fmt.Sprintf("%02d", r.IntN(100)) + bban
		if !IBANValid(v) {
			return Group(v, " ", 4, 4, 4, 4, 4, 2)
		}
	}
}

// UUID returns a random version 4 UUID.
func UUID(r *Rand) string {
	h := r.Hex(32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + string("89ab"[r.IntN(4)]) + h[17:20] + "-" + h[20:]
}

// IPv4 returns an address in a private or documentation range.
func IPv4(r *Rand) string {
	switch r.IntN(4) {
	case 0:
		return fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), 1+r.IntN(254))
	case 1:
		return fmt.Sprintf("192.168.%d.%d", r.IntN(256), 1+r.IntN(254))
	case 2:
		return fmt.Sprintf("203.0.113.%d", 1+r.IntN(254))
	}
	return fmt.Sprintf("172.%d.%d.%d", 16+r.IntN(16), r.IntN(256), 1+r.IntN(254))
}

// IPv6 returns a documentation-range IPv6 address.
func IPv6(r *Rand) string {
	return fmt.Sprintf("2001:db8:%x:%x::%x", r.IntN(65536), r.IntN(65536), 1+r.IntN(65535))
}

// Phone returns a phone number in one of many national formats.
func Phone(r *Rand) string {
	d := r.Digits
	switch r.IntN(18) {
	case 0:
		return "(" + r.Pick("212", "415", "617", "312") + ") 555-0" + d(3)
	case 1:
		return "+1 " + r.Pick("212", "415", "646") + " 555 0" + d(3)
	case 2:
		return "+44 20 7946 0" + d(3)
	case 3:
		return "020 7946 0" + d(3)
	case 4:
		return "+49 30 " + d(8)
	case 5:
		return "030 " + d(4) + " " + d(4)
	case 6:
		return "+33 1 " + d(2) + " " + d(2) + " " + d(2) + " " + d(2)
	case 7:
		return "01 " + d(2) + " " + d(2) + " " + d(2) + " " + d(2)
	case 8:
		return "+91 98" + d(3) + " " + d(5)
	case 9:
		return "03-" + d(4) + "-" + d(4)
	case 10:
		return "+61 2 " + d(4) + " " + d(4)
	case 11:
		return "+31 20 " + d(3) + " " + d(4)
	case 12:
		return "+34 91" + d(1) + " " + d(3) + " " + d(3)
	case 13:
		return "+39 06 " + d(4) + " " + d(4)
	case 14:
		return "+55 11 9" + d(4) + "-" + d(4)
	case 15:
		return "0044 20 7946 0" + d(3)
	case 16:
		return "+86 10 " + d(4) + " " + d(4)
	}
	return "+41 44 " + d(3) + " " + d(2) + " " + d(2)
}

// Amount returns a money amount in one of several notations.
func Amount(r *Rand) string {
	n := r.IntN(5000000)
	switch r.IntN(4) {
	case 0:
		return fmt.Sprintf("EUR %d.%03d,%02d", n/1000, n%1000, r.IntN(100))
	case 1:
		return fmt.Sprintf("$%d,%03d.%02d", n/1000, n%1000, r.IntN(100))
	case 2:
		return fmt.Sprintf("£%d.%02d", n, r.IntN(100))
	}
	return fmt.Sprintf("%d %03d,%02d €", n/1000, n%1000, r.IntN(100))
}
