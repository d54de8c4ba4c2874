package detect

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// shortcutPairs are detector sets with the digit scanner's shortcuts
// (Set.lone, Set.minGroups, Set.minDigits, Set.shaped) and without
// them (Set.generalPath): the oracle they must agree with. Besides every
// identifier, sets whose shortest value is longer (cards alone: twelve
// digits) or has other shapes.
var shortcutPairs = func() (pairs [][2]*Set) {
	for _, names := range [][]string{allNames(), {"credit_card"}, {"es_dni", "au_tfn"}, {"us_ssn", "uk_nhs"}, {"fr_nir", "in_aadhaar"}} {
		fast, err := NewSet(names, nil, Options{})
		if err != nil {
			panic(err)
		}
		general, _ := NewSet(names, nil, Options{})
		general.generalPath = true
		pairs = append(pairs, [2]*Set{fast, general})
	}
	return pairs
}()

func checkShortcuts(t *testing.T, text string) {
	t.Helper()
	for _, p := range shortcutPairs {
		got, want := p[0].Scan(text, nil), p[1].Scan(text, nil)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Scan(%q) with shortcuts = %+v, without = %+v", text, got, want)
		}
	}
}

// digitSoup is text made of digit groups of every width joined by every
// separator the chain scanner knows, with the bytes that change how a
// chain starts ('(', '+', a glued word) and valid values among them.
func digitSoup(r *rand.Rand, n int) string {
	seps := []string{" ", "  ", "-", ".", "/", "\n", "\r\n", " \n", "\t", " - ", "\u00a0", "\u2009", "\u2013", ",", ":", ") ", "(", "+", "x", "A1-", "\n> "}
	tfn, dni := tfn8(r), dni8(r)
	vals := []string{"4111111111111111", "4111 1111 1111 1111", "536-22-1234", "54362315", "12.345.678-Z", "(4111) 1111 1111 1111",
		"943 476 5919", "2026-03-04", "86095742719", "295109912611193",
		// values of exactly the fewest digits: an 8-digit TFN unseparated,
		// 3-3-2 and wrapped after four digits in running text; a DNI
		// separated 2.3.3
		tfn, tfn[:3] + " " + tfn[3:6] + " " + tfn[6:], tfn[:3] + "-" + tfn[3:6] + "-" + tfn[6:], "tfn " + tfn[:4] + "\n" + tfn[4:] + " ok",
		dni[:2] + "." + dni[2:5] + "." + dni[5:8] + "-" + dni[8:], dni[:8] + "-" + dni[8:],
		// cards written in pairs and digit by digit: a list run
		"41 11 11 11 11 11 11 11", "55 00 00 00 00 00 00 04", "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", "30 56 93 09 02 59 04"}
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

// tfn8 is a valid eight-digit Australian TFN (weights 10,7,8,4,6,3,5,1).
func tfn8(r *rand.Rand) string {
	for {
		d := make([]byte, 8)
		sum := 0
		for k, w := range []int{10, 7, 8, 4, 6, 3, 5} {
			d[k] = byte('0' + r.IntN(10))
			sum += w * int(d[k]-'0')
		}
		if c := (11 - sum%11) % 11; c < 10 {
			d[7] = byte('0' + c)
			if _, ok := checkTFN(d); ok {
				return string(d)
			}
		}
	}
}

// dni8 is a valid Spanish DNI: eight digits and their check letter.
func dni8(r *rand.Rand) string {
	n := 10000000 + r.IntN(89999999)
	return fmt.Sprintf("%08d%c", n, "TRWAGMYFPDXBNJZSQVHLCKE"[n%23])
}

// TestIssue12ShortcutsAgree compares the scanner with and without its
// shortcuts on the benchmark text, the detector test corpora and random
// digit soup.
func TestIssue12ShortcutsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	texts := []string{businessText(64 << 10), denseText(64 << 10), "(4111 1111 1111 1111", "+1 555 123 4567", "a1-2345 678"}
	for range 20 {
		// Each must be found: the oracle below is only as good as the
		// values it sees.
		tfn, dni := tfn8(r), dni8(r)
		for _, v := range []string{tfn[:3] + " " + tfn[3:6] + " " + tfn[6:], dni[:2] + "." + dni[2:5] + "." + dni[5:8] + "-" + dni[8:],
			"41 11 11 11 11 11 11 11", "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", "30 56 93 09 02 59 04"} {
			if ms := fuzzSet.Scan("number "+v+" ok", nil); len(ms) == 0 {
				t.Fatalf("no match in %q", v)
			}
			texts = append(texts, "number "+v+" ok")
		}
	}
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

// TestIssue12ShapeTable checks the table idleChain reads against the
// walk over the groupings it replaces, for every composition of fewer
// than cardDigits digits and every set of the shortcut pairs.
func TestIssue12ShapeTable(t *testing.T) {
	codes := map[uint][]byte{}
	var widths [cardDigits]byte
	var walk func(k, total int)
	walk = func(k, total int) {
		if k > 0 {
			c := shapeCode(widths[:k])
			if c >= 1<<cardDigits {
				t.Fatalf("shapeCode(%v) = %d, not below %d", widths[:k], c, 1<<cardDigits)
			}
			if prev, ok := codes[c]; ok {
				t.Fatalf("shapeCode(%v) = shapeCode(%v) = %d", widths[:k], prev, c)
			}
			codes[c] = append([]byte(nil), widths[:k]...)
			for _, p := range shortcutPairs {
				if got, want := p[0].shapes.has(c), p[0].shaped(widths[:k]); got != want {
					t.Fatalf("shapes.has(%v) = %v, shaped = %v", widths[:k], got, want)
				}
			}
		}
		for w := 1; total+w < cardDigits; w++ {
			widths[k] = byte(w)
			walk(k+1, total+w)
		}
	}
	walk(0, 0)
	if len(codes) != 1<<(cardDigits-1)-1 {
		t.Fatalf("%d compositions, want %d", len(codes), 1<<(cardDigits-1)-1)
	}
	// Codes the table never holds: every other code reads false.
	for c := uint(0); c < 1<<cardDigits; c++ {
		if _, ok := codes[c]; !ok && shortcutPairs[0][0].shapes.has(c) {
			t.Fatalf("shapes.has(%d) for no composition", c)
		}
	}
}

// TestIssue12HotClass checks the skip table: the bytes it stops at are
// the digits, upper-case letters, '_', '-', '/' and '+', and each carries
// its word class (hotPunct for the punctuation), which run reads from the
// word of eight entries it built rather than from the text.
func TestIssue12HotClass(t *testing.T) {
	for c := range 256 {
		want := wordClass[c]
		if want == cLower {
			want = 0
		}
		if c == '-' || c == '/' || c == '+' {
			want = hotPunct
		}
		if hot[c] != want {
			t.Errorf("hot[%q] = %#x, want %#x", rune(c), hot[c], want)
		}
	}
	r := rand.New(rand.NewPCG(12, 8))
	for range 10000 {
		var b [8]byte
		for k := range b {
			b[k] = byte(r.IntN(256))
			if r.IntN(2) == 0 {
				b[k] = 'a' + byte(r.IntN(26)) // cold, mostly
			}
		}
		v := uint64(0)
		for k := range b {
			v |= uint64(hot[b[k]]) << (8 * k)
		}
		if v == 0 {
			continue
		}
		z := bits.TrailingZeros64(v)
		k := 0
		for hot[b[k]] == 0 {
			k++
		}
		if z/8 != k || uint8(v>>(z&^7)) != hot[b[k]] {
			t.Fatalf("%q: first hot byte %d class %#x, want %d class %#x", b, z/8, uint8(v>>(z&^7)), k, hot[b[k]])
		}
	}
}
