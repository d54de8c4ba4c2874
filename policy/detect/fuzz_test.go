package detect

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzSet = func() *Set {
	s, err := NewSet(allNames(), nil, Options{})
	if err != nil {
		panic(err)
	}
	return s
}()

// fuzzAlone holds one stand-alone detector per built-in identifier.
var fuzzAlone = func() map[string]Detector {
	m := map[string]Detector{}
	for _, n := range allNames() {
		d, err := New(n, Options{})
		if err != nil {
			panic(err)
		}
		m[n] = d
	}
	return m
}()

// numericIDs are the identifiers whose value is all digits (after
// separators are removed).
var numericIDs = map[string]bool{
	"credit_card": true, "us_ssn": true, "us_itin": true, "aba_routing": true, "uk_nhs": true,
	"de_steuer_id": true, "fr_nir": true, "nl_bsn": true, "pl_pesel": true, "ca_sin": true,
	"au_tfn": true, "in_aadhaar": true,
}

func FuzzSetScan(f *testing.F) {
	for _, s := range []string{
		"", "4111 1111 1111 1111 12/25", "SSN 078-05-1120", "GB82 WEST 1234 5698 7654 32",
		"AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "-----BEGIN RSA PRIVATE KEY-----\nMIIE",
		"eyJhbGciOiJIUzI1NiJ9.eyJ4Ijo.sig", "xoxb-1-2", "hooks.slack.com/services/T/B/x", "QQ 12 34 56 C",
		"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20", "4111\u00a01111\u00a01111\u00a01111", "+1 555 123 4567",
		"\xe2\x80\xaf1\r\n2\xc2", "RSSMRA85T10A562S 54362315-K 1850519123456 2A", denseText(600),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		ms := fuzzSet.Scan(text, nil)
		for _, m := range ms {
			if m.Start < 0 || m.End > len(text) || m.Start >= m.End {
				t.Fatalf("match %+v out of range for %d bytes", m, len(text))
			}
			if !IsBuiltin(m.Detector) || m.Confidence < Low || m.Confidence > High {
				t.Fatalf("bad match %+v", m)
			}
			raw := text[m.Start:m.End]
			if m.Evidence == raw || (numericIDs[m.Detector] && strings.Contains(m.Evidence, raw)) {
				t.Fatalf("%s evidence %q shows the raw value %q", m.Detector, m.Evidence, raw)
			}
			if numericIDs[m.Detector] && len(strings.TrimLeft(m.Evidence, "*")) > 4 {
				t.Fatalf("%s evidence %q shows more than 4 digits", m.Detector, m.Evidence)
			}
			// A value is a whole token: never a slice of a longer run of
			// digits or letters.
			if numericIDs[m.Detector] && (m.Start > 0 && wordClass[text[m.Start-1]] != 0 || m.End < len(text) && wordClass[text[m.End]] != 0) {
				t.Fatalf("%s match %q is part of a longer token in %q", m.Detector, raw, text)
			}
			// The confidence follows the model: demoted is low, high has
			// a keyword, anything else is its base.
			w := m.Why
			switch {
			case w.Base < Low || w.Base > High:
				t.Fatalf("%s: bad base in %+v", m.Detector, m)
			case w.Demoted != NotDemoted && w.Demoted != DemotedYear && m.Confidence != Low:
				t.Fatalf("%s: demoted (%v) but %v", m.Detector, w.Demoted, m.Confidence)
			case m.Confidence == High && w.Keyword == "" && w.Base != High:
				t.Fatalf("%s: high without a keyword: %+v", m.Detector, m)
			case w.Keyword != "" && m.Confidence != High:
				t.Fatalf("%s: keyword %q but %v", m.Detector, w.Keyword, m.Confidence)
			case w.Demoted == NotDemoted && w.Keyword == "" && m.Confidence != w.Base:
				t.Fatalf("%s: %v without context, base %v", m.Detector, m.Confidence, w.Base)
			}
		}
		// The stand-alone detectors find the same matches as the set.
		for _, m := range ms {
			found := false
			for _, o := range fuzzAlone[m.Detector].Scan(text, nil) {
				if o == m {
					found = true
				}
			}
			if !found {
				t.Fatalf("%s alone did not find %+v", m.Detector, m)
			}
		}
	})
}

// luhnRef is a second Luhn implementation, from the definition.
func luhnRef(s string) bool {
	sum := 0
	for i := range len(s) {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d = 2 * d
			d = d/10 + d%10
		}
		sum += d
	}
	return sum%10 == 0
}

func FuzzLuhn(f *testing.F) {
	for _, s := range []string{"4111111111111111", "0", "79927398713", "79927398710", "1234567812345670"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" || strings.Trim(s, "0123456789") != "" {
			return
		}
		if got, want := luhn([]byte(s)), luhnRef(s); got != want {
			t.Fatalf("luhn(%q) = %v, want %v", s, got, want)
		}
		if !luhnRef(luhnComplete(s)) {
			t.Fatalf("luhnComplete(%q) = %q does not pass", s, luhnComplete(s))
		}
	})
}

// FuzzIBAN checks the mod-97 validator against math/big on IBAN-shaped
// input.
func FuzzIBAN(f *testing.F) {
	f.Add("GB", "WEST12345698765432")
	f.Add("DE", "370400440532013000")
	f.Add("FR", "20041010050500013M02606")
	f.Fuzz(func(t *testing.T, cc, bban string) {
		if len(cc) != 2 || !isUpper(cc[0]) || !isUpper(cc[1]) || len(bban) < 11 || len(bban) > 30 {
			return
		}
		for i := range len(bban) {
			if !isUpper(bban[i]) && !isDigit(bban[i]) {
				return
			}
		}
		v := ibanComplete(cc, bban)
		if !ibanMod97([]byte(v)) {
			t.Fatalf("ibanMod97(%q) = false for computed check digits", v)
		}
		bad := []byte(v)
		bad[2] = '0' + (bad[2]-'0'+1)%10
		if ibanMod97(bad) {
			t.Fatalf("ibanMod97(%q) = true with a changed check digit", bad)
		}
	})
}

// FuzzKeywords compares the automaton with a naive search.
func FuzzKeywords(f *testing.F) {
	f.Add("card", "my Card number and CARD", false)
	f.Add("ab", "aaabababab", true)
	f.Add("é", "ÉéE", false)
	f.Add("Project Falcon", "project   falcon Project\nFalcon Project\u00a0Falcon", false)
	f.Add("a b", "a \u00a0b a\u00a0\u00a0b", true)
	f.Fuzz(func(t *testing.T, word, text string, caseSensitive bool) {
		word = strings.TrimSpace(word)
		if word == "" || !utf8.ValidString(word) || len(word) > 20 || len(text) > 2000 {
			return
		}
		d, err := NewKeywords("kw", []string{word}, KeywordOptions{CaseSensitive: caseSensitive})
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, m := range d.Scan(text, nil) {
			got = append(got, m.Start)
		}
		var want []int
		w := collapseSpace(word)
		for i := 0; i < len(text); i++ {
			// A match cannot start inside a NO-BREAK SPACE or a run of
			// white space: the phrase does not start with a space.
			if phraseAt(text, w, i, false) || (!caseSensitive && (phraseAt(text, w, i, true) ||
				phraseAt(text, toUpperNonASCII(w), i, true) || phraseAt(text, toLowerNonASCII(w), i, true))) {
				want = append(want, i)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("NewKeywords(%q).Scan(%q) at %v, want %v", word, text, got, want)
		}
		for k := range got {
			if got[k] != want[k] {
				t.Fatalf("NewKeywords(%q).Scan(%q) at %v, want %v", word, text, got, want)
			}
		}
	})
}

// FuzzRegex checks that the literal prefilter and the anchored search give
// the same matches as running the expression over the whole text.
func FuzzRegex(f *testing.F) {
	f.Add(`EMP-[0-9]{2,6}`, "EMP-12 EMP-1234567 emp-55")
	f.Add(`(?i)proj(ect)?\s+[a-z]+`, "Project falcon PROJ x projectile")
	f.Add(`ab|cd`, "abcd")
	f.Add(`x*`, "xxyx")
	f.Fuzz(func(t *testing.T, pattern, text string) {
		if len(pattern) > 100 || len(text) > 2000 {
			return
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		d, err := NewRegex("re", pattern, Medium)
		if err != nil {
			t.Fatalf("NewRegex(%q): %v, but regexp compiles it", pattern, err)
		}
		var want [][2]int
		for _, loc := range re.FindAllStringIndex(text, -1) {
			if loc[1] > loc[0] {
				want = append(want, [2]int{loc[0], loc[1]})
			}
		}
		var got [][2]int
		for _, m := range d.Scan(text, nil) {
			got = append(got, [2]int{m.Start, m.End})
		}
		if len(got) != len(want) {
			t.Fatalf("Regex(%q).Scan(%q) = %v, want %v", pattern, text, got, want)
		}
		for k := range got {
			if got[k] != want[k] {
				t.Fatalf("Regex(%q).Scan(%q) = %v, want %v", pattern, text, got, want)
			}
		}
	})
}

// FuzzIndexFold compares the case-insensitive literal search with a naive
// one, over every occurrence.
func FuzzIndexFold(f *testing.F) {
	f.Add("xx PROJECT project Project", "project")
	f.Add("aaaaJjj", "aj")
	f.Add("12-ab 12-AB", "12-ab")
	f.Fuzz(func(t *testing.T, text, lit string) {
		lit = string(foldASCII([]byte(lit)))
		if lit == "" || !isASCII(lit) || len(text) > 1000 {
			return
		}
		low := string(foldASCII([]byte(text)))
		ff := newFoldFinder(text, lit)
		for i := 0; i <= len(text); i++ {
			want := strings.Index(low[i:], lit)
			if want >= 0 {
				want += i
			}
			if got := ff.next(i); got != want {
				t.Fatalf("next(%d) in %q for %q = %d, want %d", i, text, lit, got, want)
			}
			if want < 0 {
				break
			}
			i = want
		}
	})
}

// FuzzMergedKeywords compares a Set's merged keyword search with the
// keyword detectors run one after another.
func FuzzMergedKeywords(f *testing.F) {
	mk := func(name string, words []string, o KeywordOptions) Detector {
		d, err := NewKeywords(name, words, o)
		if err != nil {
			f.Fatal(err)
		}
		return d
	}
	custom := []Detector{
		mk("a", []string{"card", "card number", "Été"}, KeywordOptions{}),
		mk("b", []string{"Card", "number", "r"}, KeywordOptions{CaseSensitive: true}),
		mk("c", []string{"card", "ÉTÉ", "num"}, KeywordOptions{WholeWord: true, Confidence: High}),
	}
	s, err := NewSet([]string{"credit_card"}, custom, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("my card number 4111111111111111 été ÉTÉ")
	f.Add("CARD_number cardnumber")
	f.Fuzz(func(t *testing.T, text string) {
		want := find(s.Scan(text, nil), "credit_card")
		for _, d := range custom {
			want = d.Scan(text, want)
		}
		if got := s.Scan(text, nil); !slices.Equal(got, want) {
			t.Fatalf("Scan(%q) = %+v, want %+v", text, got, want)
		}
	})
}

// fuzzSeps are the separators a card may be written with, and the odd
// joins a value may have once.
var fuzzSeps = []string{" ", "  ", "\t", " - ", " \u2013 ", "-", ".", "/", "\u00a0", "\n"}

// FuzzSeparatorForms writes a valid card number in groups of four with
// one separator, optionally with one odd join (a wrapped line, a hyphen
// at a line end, two spaces among spaces), in running text: it must be
// found, at medium. Written with two different punctuation separators,
// it must not be.
func FuzzSeparatorForms(f *testing.F) {
	f.Add("453201511283036", uint8(0), uint8(0), uint8(0))
	f.Add("411111111111111", uint8(5), uint8(1), uint8(2))
	f.Add("000000000000000", uint8(9), uint8(2), uint8(1))
	f.Fuzz(func(t *testing.T, digits string, sep, odd, at uint8) {
		d := []byte("4")
		for k := 0; k < len(digits) && len(d) < 15; k++ {
			d = append(d, '0'+digits[k]%10)
		}
		for len(d) < 15 {
			d = append(d, '0')
		}
		card := luhnComplete(string(d))
		if allSame([]byte(card)) {
			return
		}
		s := fuzzSeps[int(sep)%len(fuzzSeps)]
		joins := []string{s, s, s}
		switch odd % 4 {
		case 1:
			joins[at%3] = "\n"
		case 2:
			if s == " " {
				joins[at%3] = "  "
			}
		case 3:
			if s == "-" {
				joins[at%3] = "-\n"
			}
		}
		v := card[:4] + joins[0] + card[4:8] + joins[1] + card[8:12] + joins[2] + card[12:]
		text := "please charge " + v + " today"
		ms := find(fuzzSet.Scan(text, nil), "credit_card")
		if len(ms) != 1 || text[ms[0].Start:ms[0].End] != v || ms[0].Confidence != Medium {
			t.Fatalf("Scan(%q) = %+v, want %q at medium", text, ms, v)
		}
		// Two kinds of punctuation never make one value.
		if p := fuzzSeps[5+int(at)%3]; p != s && (s == "-" || s == "." || s == "/") {
			mixed := card[:4] + s + card[4:8] + p + card[8:12] + s + card[12:]
			if ms := find(fuzzSet.Scan("please charge "+mixed+" today", nil), "credit_card"); len(ms) != 0 {
				t.Fatalf("mixed %q: %+v", mixed, ms)
			}
		}
	})
}
