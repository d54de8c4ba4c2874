package detect

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// generalSet is fuzzSet without the digit scanner's shortcuts (Set.lone,
// Set.minGroups): the oracle they must agree with.
var generalSet = func() *Set {
	s, err := NewSet(allNames(), nil, Options{})
	if err != nil {
		panic(err)
	}
	s.generalPath = true
	return s
}()

func checkShortcuts(t *testing.T, text string) {
	t.Helper()
	got, want := fuzzSet.Scan(text, nil), generalSet.Scan(text, nil)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Scan(%q) with shortcuts = %+v, without = %+v", text, got, want)
	}
}

// digitSoup is text made of digit groups of every width joined by every
// separator the chain scanner knows, with the bytes that change how a
// chain starts ('(', '+', a glued word) and valid values among them.
func digitSoup(r *rand.Rand, n int) string {
	seps := []string{" ", "  ", "-", ".", "/", "\n", "\r\n", " \n", "\t", " - ", "\u00a0", "\u2009", "\u2013", ",", ":", ") ", "(", "+", "x", "A1-", "\n> "}
	vals := []string{"4111111111111111", "4111 1111 1111 1111", "536-22-1234", "54362315", "12.345.678-Z", "(4111) 1111 1111 1111",
		"943 476 5919", "2026-03-04", "86095742719", "295109912611193"}
	var b strings.Builder
	for b.Len() < n {
		if r.IntN(10) == 0 {
			b.WriteString(vals[r.IntN(len(vals))])
		} else {
			for range 1 + r.IntN(20) {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		b.WriteString(seps[r.IntN(len(seps))])
	}
	return b.String()
}

// TestIssue12ShortcutsAgree compares the scanner with and without its
// shortcuts on the benchmark text, the detector test corpora and random
// digit soup.
func TestIssue12ShortcutsAgree(t *testing.T) {
	texts := []string{businessText(64 << 10), denseText(64 << 10), "(4111 1111 1111 1111", "+1 555 123 4567", "a1-2345 678"}
	r := rand.New(rand.NewPCG(12, 12))
	for range 300 {
		texts = append(texts, digitSoup(r, 200+r.IntN(2000)))
	}
	for _, text := range texts {
		checkShortcuts(t, text)
	}
}

func FuzzScanShortcuts(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 12))
	for range 20 {
		f.Add(digitSoup(r, 300))
	}
	f.Add("Order 2026-8574: 481 x gasket C185 at 879.92 EUR, ship 2026-05-19 to Cork depot 49, invoice 61006/2026, total 225,245.68 EUR.\r\n")
	f.Fuzz(func(t *testing.T, text string) { checkShortcuts(t, text) })
}
