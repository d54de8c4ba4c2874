package corpus

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

var boundary = regexp.MustCompile(`=_boundary_[0-9]+`)

// TestLookalikesAreHard checks that the lookalike numbers pass the checks
// they are meant to pass: they are hard cases only if a validator alone
// cannot tell them from the real thing.
func TestLookalikesAreHard(t *testing.T) {
	r := NewRand(1)
	for range 200 {
		if v := FuzzerID(r); len(v) != 16 || !LuhnValid(v) || v[0] != '4' && v[0] != '5' && v[0] != '2' {
			t.Fatalf("FuzzerID %s: want 16 Luhn-valid digits with a card prefix", v)
		}
		if v := EAN13(r); len(v) != 13 || !LuhnValid(v) || v[0] != '4' || gs1Check(v[:12]) != v[12] {
			t.Fatalf("EAN13 %s: want a valid EAN-13 that passes Luhn", v)
		}
		if v := GTIN14(r); len(v) != 14 || !LuhnValid(v) || gs1Check(v[:13]) != v[13] {
			t.Fatalf("GTIN14 %s: want a valid GTIN-14 that passes Luhn", v)
		}
		if v := strings.ReplaceAll(USPS22(r), " ", ""); len(v) != 22 || !LuhnValid(v[4:20]) {
			t.Fatalf("USPS22 %s: want 22 digits with a Luhn-valid middle", v)
		}
		if v := FedEx12(r); len(v) != 12 || !VerhoeffValid(v) {
			t.Fatalf("FedEx12 %s: want a Verhoeff-valid 12-digit number", v)
		}
		if v := TraceID(r); len(v) != 19 || !LuhnValid(v) {
			t.Fatalf("TraceID %s: want 19 Luhn-valid digits", v)
		}
		if v := BadIBAN(r); IBANValid(v) {
			t.Fatalf("BadIBAN %s passes mod-97", v)
		}
		v := strings.ReplaceAll(BadIBANCardTail(r), " ", "")
		if IBANValid(v) || !LuhnValid(v[4:20]) {
			t.Fatalf("BadIBANCardTail %s: want a failing IBAN with a Luhn-valid slice", v)
		}
		if v := IBAN(r); !IBANValid(v) {
			t.Fatalf("IBAN %s fails mod-97", v)
		}
		if v := Aadhaar(r); !VerhoeffValid(v) {
			t.Fatalf("Aadhaar %s fails Verhoeff", v)
		}
	}
}

// TestCleanCorpusShape: at least 300 messages, every envelope used, the
// same content on every run.
func TestCleanCorpusShape(t *testing.T) {
	a, b := Clean(330), Clean(330)
	seen := map[Envelope]bool{}
	for i := range a {
		// MIME boundaries are numbered per process (testutil); the rest
		// is the same.
		if !bytes.Equal(boundary.ReplaceAll(a[i].Raw, nil), boundary.ReplaceAll(b[i].Raw, nil)) {
			t.Fatalf("%s differs between runs", a[i].Name)
		}
		seen[a[i].Envelope] = true
	}
	if len(seen) != int(numEnvelopes) {
		t.Errorf("envelopes used: %d, want %d", len(seen), numEnvelopes)
	}
}
