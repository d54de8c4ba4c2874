package detect

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestKeywords(t *testing.T) {
	for _, c := range []struct {
		name  string
		words []string
		o     KeywordOptions
		text  string
		want  []string
	}{
		{"fold", []string{"confidential"}, KeywordOptions{}, "CONFIDENTIAL and Confidential", []string{"CONFIDENTIAL", "Confidential"}},
		{"case sensitive", []string{"Falcon"}, KeywordOptions{CaseSensitive: true}, "falcon Falcon FALCON", []string{"Falcon"}},
		{"phrase", []string{"do not forward"}, KeywordOptions{}, "Please DO NOT FORWARD this", []string{"DO NOT FORWARD"}},
		{"substring", []string{"cat"}, KeywordOptions{}, "concatenate cat", []string{"cat", "cat"}},
		{"whole word", []string{"cat"}, KeywordOptions{WholeWord: true}, "concatenate cat cat_x (cat)", []string{"cat", "cat"}},
		{"overlapping", []string{"card", "card number"}, KeywordOptions{}, "card number", []string{"card", "card number"}},
		{"non-ASCII fold", []string{"geheim"}, KeywordOptions{}, "GEHEIM", []string{"GEHEIM"}},
		{"non-ASCII upper", []string{"sécurité"}, KeywordOptions{}, "SÉCURITÉ", []string{"SÉCURITÉ"}},
		{"whole word non-ASCII", []string{"geheim"}, KeywordOptions{WholeWord: true}, "ügeheim geheimö geheim", []string{"geheim"}},
		{"none", []string{"alpha", "beta"}, KeywordOptions{}, "gamma delta", nil},
		{"trimmed", []string{" alpha\r", "beta\t"}, KeywordOptions{WholeWord: true}, "alpha, beta", []string{"alpha", "beta"}},
		{"whole word punctuation", []string{"#secret", "key="}, KeywordOptions{WholeWord: true}, "x#secret key=abc", []string{"#secret", "key="}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := NewKeywords("kw", c.words, c.o)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range d.Scan(c.text, nil) {
				got = append(got, c.text[m.Start:m.End])
				if m.Detector != "kw" || m.Confidence != Medium {
					t.Errorf("match %+v: want detector kw, medium", m)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("Scan(%q) = %q, want %q", c.text, got, c.want)
			}
		})
	}
}

func TestKeywordsErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		words []string
		o     KeywordOptions
	}{
		{"", []string{"a"}, KeywordOptions{}},
		{"kw", nil, KeywordOptions{}},
		{"kw", []string{"a", " "}, KeywordOptions{}},
		{"kw", []string{"a\xff"}, KeywordOptions{}},
		{"kw", []string{"a"}, KeywordOptions{Confidence: 7}},
	} {
		if _, err := NewKeywords(c.name, c.words, c.o); err == nil {
			t.Errorf("NewKeywords(%q, %q, %+v) = nil error", c.name, c.words, c.o)
		}
	}
}

// TestKeywordsDictionary checks a large dictionary against a naive search.
func TestKeywordsDictionary(t *testing.T) {
	var words []string
	for i := range 10000 {
		words = append(words, fmt.Sprintf("term%05dx", i*7))
	}
	d, err := NewKeywords("dict", words, KeywordOptions{WholeWord: true})
	if err != nil {
		t.Fatal(err)
	}
	text := "see TERM00007X and term00014x, not term00015x nor xterm00021x; term69993x."
	var got []string
	for _, m := range d.Scan(text, nil) {
		got = append(got, text[m.Start:m.End])
	}
	want := []string{"TERM00007X", "term00014x", "term69993x"}
	if !slices.Equal(got, want) {
		t.Errorf("Scan = %q, want %q", got, want)
	}
}

func TestRegex(t *testing.T) {
	for _, c := range []struct {
		pattern  string
		text     string
		want     []string
		literal  string
		anchored bool
	}{
		{`EMP-[0-9]{6}`, "a EMP-123456 b EMP-12345 c EMP-654321", []string{"EMP-123456", "EMP-654321"}, "EMP-", true},
		{`(?i)emp-[0-9]{6}\b`, "a EMP-123456 b emp-654321", []string{"EMP-123456", "emp-654321"}, "emp-", true},
		{`(?i)project\s+(falcon|eagle)`, "PROJECT  Falcon and project eagle", []string{"PROJECT  Falcon", "project eagle"}, "project", false},
		{`[A-Z]{3}[0-9]{4}`, "ABC1234 and XYZ9876", []string{"ABC1234", "XYZ9876"}, "", false},
		{`x*`, "xx y", []string{"xx"}, "", false},
		{`(?:order|invoice)#\d+`, "order#12 invoice#3", []string{"order#12", "invoice#3"}, "", false},
		{`ID-[A-Z]+-(confidential)`, "ID-AB-confidential", []string{"ID-AB-confidential"}, "confidential", false},
	} {
		d, err := NewRegex("re", c.pattern, Low)
		if err != nil {
			t.Fatal(err)
		}
		if lit := d.(*Regex).literal; lit != c.literal {
			t.Errorf("NewRegex(%q) literal = %q, want %q", c.pattern, lit, c.literal)
		}
		if p := d.(*Regex).prefix; p != c.anchored {
			t.Errorf("NewRegex(%q) anchored = %v, want %v", c.pattern, p, c.anchored)
		}
		var got []string
		for _, m := range d.Scan(c.text, nil) {
			got = append(got, c.text[m.Start:m.End])
			if m.Confidence != Low || strings.Contains(m.Evidence, c.text[m.Start:m.End]) {
				t.Errorf("match %+v: want low confidence and masked evidence", m)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Regex(%q).Scan(%q) = %q, want %q", c.pattern, c.text, got, c.want)
		}
	}
	if _, err := NewRegex("bad", `a(b`, Medium); err == nil {
		t.Error("NewRegex(a(b) = nil error")
	}
	if _, err := NewRegex("bad", `(a)\1`, Medium); err == nil {
		t.Error("NewRegex with a backreference = nil error")
	}
}

func TestIndexFoldASCII(t *testing.T) {
	for _, c := range []struct {
		text, lit string
		want      int
	}{
		{"xx PROJECT", "project", 3},
		{"Pro ProJect", "project", 4},
		{"project", "project", 0},
		{"projec", "project", -1},
		{"", "ab", -1},
		{"a-b A-B", "a-b", 0},
		{"xx 12-ab", "12-ab", 3},
		{"pppP", "pp", 0},
		{"xP", "pp", -1},
	} {
		if got := indexFoldASCII(c.text, c.lit); got != c.want {
			t.Errorf("indexFoldASCII(%q, %q) = %d, want %d", c.text, c.lit, got, c.want)
		}
	}
}

// TestAutomatonAllBytes covers pattern sets with more distinct bytes than
// byte classes, which use one class per byte value.
func TestAutomatonAllBytes(t *testing.T) {
	var pats []string
	for b := range 256 {
		pats = append(pats, string([]byte{byte(b), 'z'}))
	}
	pats = append(pats, "abc")
	for _, fold := range []bool{false, true} {
		a := newAutomaton(pats, fold)
		if want := 256; !fold && a.nclass != want { // folded, the 26 capitals share classes
			t.Fatalf("nclass = %d, want %d", a.nclass, want)
		}
		text := "\xffz ABC abc \x00z"
		var got []int
		a.hits(text, 0, len(text), 0, func(p, end int) bool {
			got = append(got, end-a.lens[p])
			return true
		})
		want := []int{0, 7, 11}
		if fold {
			want = []int{0, 3, 7, 11}
		}
		if !slices.Equal(got, want) {
			t.Errorf("fold=%v: hits at %v, want %v", fold, got, want)
		}
	}
}

// TestMergedKeywords checks that a Set searching its keyword detectors
// through merged automata returns exactly what the detectors return one
// after another.
func TestMergedKeywords(t *testing.T) {
	mk := func(name string, words []string, o KeywordOptions) Detector {
		d, err := NewKeywords(name, words, o)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	re, err := NewRegex("re", `ab+c`, Low)
	if err != nil {
		t.Fatal(err)
	}
	custom := []Detector{
		mk("a", []string{"ab", "abc", "Été"}, KeywordOptions{}),
		re,
		mk("b", []string{"ab", "bc", "c"}, KeywordOptions{CaseSensitive: true}),
		mk("c", []string{"abc", "ÉTÉ", "b"}, KeywordOptions{WholeWord: true, Confidence: High}),
		mk("d", []string{"AB"}, KeywordOptions{CaseSensitive: true, WholeWord: true}),
	}
	s, err := NewSet(nil, custom, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "b", "c", "A", "B", "C", " ", "é", "É", "t", "T", "_", "1"}
	for range 3000 {
		var b strings.Builder
		for range r.IntN(30) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		text := b.String()
		var want []Match
		for _, d := range custom {
			want = d.Scan(text, want)
		}
		if got := s.Scan(text, nil); !slices.Equal(got, want) {
			t.Fatalf("Scan(%q) =\n%+v\nwant\n%+v", text, got, want)
		}
	}
}
