package detect

import (
	"fmt"
	"strings"
	"testing"
)

// aadhaarWith returns the first 4-4-4 Aadhaar-valid number "a b c" where a
// and c are fixed and b varies from b0 upward, so that a phone number's
// groups and a year can be made into a checksum-valid candidate.
func aadhaarWith(tb testing.TB, a string, b0 int, c string) (string, string) {
	tb.Helper()
	for b := b0; b < b0+1000; b++ {
		bs := fmt.Sprintf("%04d", b%10000)
		if validAadhaar([]byte(a + bs + c)) {
			return a, bs
		}
	}
	tb.Fatalf("no Aadhaar-valid %s____%s", a, c)
	return "", ""
}

// TestGroupsOfOtherNumbers checks that a numeric identifier is not made of
// groups taken from a phone number, a date, an amount, a time or a
// reference next to each other. Every case first proves that its digits
// are a candidate when written alone.
func TestGroupsOfOtherNumbers(t *testing.T) {
	s := mustSet(t, allNames()...)
	a, b := aadhaarWith(t, "7946", 958, "2026")
	_, y := aadhaarWith(t, "2026", 2345, "4711")
	_, z := aadhaarWith(t, "2026", 3456, "7890")
	for _, alone := range []string{a + " " + b + " 2026", "2026 " + y + " 4711", "2026 " + z + " 7890"} {
		if ms := find(s.Scan("x "+alone+" x", nil), "in_aadhaar"); len(ms) != 1 {
			t.Fatalf("%q alone: %+v, want one in_aadhaar", alone, ms)
		}
	}
	for _, text := range []string{
		"+44 20 " + a + " " + b + " 2026-03-04",
		"Tel. 020 " + a + " " + b + ", 2026-03-04",
		"Tel. 020 " + a + " " + b + " 2026-03-04",
		"Tel. 020 " + a + " " + b + " 2026",
		"Tel. 020-" + a + "-" + b + "-2026",
		"(020) " + a + " " + b + " 2026-03-04 10:30",
		"call " + a + " " + b + " 2026/03/04",
		"call " + a + " " + b + " 2026.03.04",
		"call " + a + "-" + b + "-2026-03-04",
		"call " + a + "." + b + ".2026.03.04",
		"call " + a + " " + b + " 2026-W10",
		"Invoice 2026-" + y + "-4711 due",
		"Invoice 2026/" + y + "/4711 due",
		"04.03.2026 " + z + " 7890",
		"am 04.03.2026 " + z + " 7890 um 10.30",
		"Tel. 020 2026 " + y + " 4711",
	} {
		for _, m := range s.Scan(text, nil) {
			if m.Confidence >= Medium || (m.Detector == "in_aadhaar" && m.Why.Demoted == NotDemoted) {
				t.Errorf("Scan(%q): %s %v at %q", text, m.Detector, m.Confidence, text[m.Start:m.End])
			}
		}
	}
	// The same values standing on their own are still found.
	for _, c := range []struct{ text, want string }{
		{"Aadhaar " + a + " " + b + " 2026.", a + " " + b + " 2026"},
		{"id " + a + "-" + b + "-2026 on file", a + "-" + b + "-2026"},
		{"id " + a + " " + b + " 2026 12/25", a + " " + b + " 2026"},
		{"id 2026 " + y + " 4711, issued 2026-03-04", "2026 " + y + " 4711"},
	} {
		ms := find(s.Scan(c.text, nil), "in_aadhaar")
		if len(ms) != 1 || c.text[ms[0].Start:ms[0].End] != c.want {
			t.Errorf("Scan(%q) = %+v, want %q", c.text, ms, c.want)
		}
	}
}

// TestGroupsOfOtherNumbersAny checks the same for the other identifiers
// with separated forms: a card and an SSN whose last group is the year of
// a date, an NHS number and a SIN made of an amount's groups.
func TestGroupsOfOtherNumbersAny(t *testing.T) {
	s := mustSet(t, allNames()...)
	card := ""
	for x := range 10000 {
		c := fmt.Sprintf("4111 1111 %04d 2026", x)
		if ms := find(s.Scan("x "+c+" x", nil), "credit_card"); len(ms) == 1 && ms[0].Confidence == Medium {
			card = c
			break
		}
	}
	if card == "" {
		t.Fatal("no card number of the form 4111 1111 ____ 2026")
	}
	for _, c := range []struct{ alone, name, text string }{
		{card, "credit_card", "ref " + card + "-03-04 ok"},
		{card, "credit_card", "ref " + card + ".03.04 ok"},
		{"536 22 2026", "us_ssn", "Qty 536 22 2026-03-04 delivered"},
		{"536-22-2026", "us_ssn", "Qty 536-22-2026/03/04 delivered"},
		{"536-22-2026", "us_ssn", "Qty 536-22-2026-03-04 delivered"},
	} {
		if ms := find(s.Scan("x "+c.alone+" x", nil), c.name); len(ms) != 1 {
			t.Fatalf("%q alone: %+v, want one %s", c.alone, ms, c.name)
		}
		for _, m := range s.Scan(c.text, nil) {
			if m.Confidence >= Medium || m.Detector == c.name {
				t.Errorf("Scan(%q): %s %v at %q", c.text, m.Detector, m.Confidence, c.text[m.Start:m.End])
			}
		}
	}
	// Amounts with decimals are no value of any identifier, although
	// their digits pass the SIN's Luhn check.
	d := luhnComplete("12345678")
	g := d[:3] + " " + d[3:6] + " " + d[6:]
	if ms := find(s.Scan("x "+g+" x", nil), "ca_sin"); len(ms) != 1 {
		t.Fatalf("%q alone: %+v, want one ca_sin", g, ms)
	}
	for _, text := range []string{
		"total " + g + ",00 EUR",
		"total " + strings.ReplaceAll(g, " ", ".") + ",00 EUR",
		"total " + g + ",5 EUR",
		"total " + g + ".00 USD",
	} {
		if ms := s.Scan(text, nil); len(ms) != 0 {
			t.Errorf("Scan(%q) = %+v, want nothing", text, ms)
		}
	}
}

// TestAadhaarFirstDigit checks that numbers starting with 0 or 1 are never
// Aadhaar numbers, even when the Verhoeff digit is right.
func TestAadhaarFirstDigit(t *testing.T) {
	s := mustSet(t, "in_aadhaar")
	for _, lead := range []string{"0", "1"} {
		found := 0
		for k := 0; k < 10 && found < 3; k++ {
			d := lead + "2345678901" + fmt.Sprint(k)
			if !verhoeff([]byte(d)) {
				continue
			}
			found++
			text := "Aadhaar " + d[:4] + " " + d[4:8] + " " + d[8:]
			if ms := s.Scan(text, nil); len(ms) != 0 {
				t.Errorf("Scan(%q) = %+v, want nothing", text, ms)
			}
		}
		if found == 0 {
			t.Fatalf("no Verhoeff-valid number starting with %s", lead)
		}
	}
}

// TestBusinessTextNoMedium scans ordinary business text (invoices, phone
// lists, meeting notes with dates and times, price tables) with every
// built-in identifier: nothing may be reported at medium confidence or
// above.
func TestBusinessTextNoMedium(t *testing.T) {
	s := mustSet(t, allNames()...)
	_, b := aadhaarWith(t, "7946", 958, "2026")
	_, b2 := aadhaarWith(t, "2345", 6789, "2026")
	for _, c := range []struct{ name, text string }{
		{"invoice", "Invoice INV-2026-0042 of 04.03.2026, due 2026-04-03.\nCustomer no. 4711 0815, order 2026/1234/5678.\n" +
			"Net 1.234.567,89 EUR, VAT 19 % 234.567,90 EUR, total 1.469.135,79 EUR.\nAmount 123 456 789,00 EUR; reference RF18 5390 0754 7034."},
		{"phone list", "Sales: +44 20 7946 " + b + " 2026-03-04\nSupport: Tel. 020 7946 " + b + ", 2026-03-04\n" +
			"Berlin: +49 30 1234 5678\nNew York: +1 212 555 0123\nMumbai: +91 22 2345 " + b2 + "\nFax 020 7946 0999\n"},
		{"meeting notes", "Meeting 2026-03-04 10:30-11:45 (week 2026-W10), room 4.12.\n" +
			"Next: 04.03.2026 09.30 Uhr, then 11/03/2026 14:00.\nCall 020 7946 " + b + " 2026-03-04 09:00.\n" +
			"Minutes 2345 " + b2 + " 2026-03-04, item 3.2.1."},
		{"price table", "Item      Qty  Price\nWidget A  12   1.299,00\nWidget B  3    24.999,99\n" +
			"Total 123.456.789,12\nSKU 2026-0001-0042 12,50\nStand 2026-03-04 12:00"},
		{"times and weeks", "Shifts 0600 1400 2200; KW 10/2026; 2026-W10-3; 12:30:45; " +
			"from 2026-03-04T10:30:00Z to 2026-03-05T18:00:00+01:00"},
	} {
		for _, m := range s.Scan(c.text, nil) {
			if m.Confidence >= Medium {
				t.Errorf("%s: %s %v at %q", c.name, m.Detector, m.Confidence, c.text[m.Start:m.End])
			}
		}
	}
}
