package detect

import (
	"slices"
	"strings"
	"testing"
)

// TestKeywordPhraseWhitespace checks that a space in a phrase matches any
// run of white space (line breaks and NO-BREAK SPACE included), folded or
// case-sensitive, alone and merged into a Set's automaton, and that the
// match covers the run.
func TestKeywordPhraseWhitespace(t *testing.T) {
	for _, c := range []struct {
		name  string
		words []string
		o     KeywordOptions
		text  string
		want  []string
	}{
		{"spaces", []string{"Project Falcon"}, KeywordOptions{}, "re: project   falcon.", []string{"project   falcon"}},
		{"line break", []string{"Project Falcon"}, KeywordOptions{}, "the Project\nFalcon plan", []string{"Project\nFalcon"}},
		{"crlf and tab", []string{"Project Falcon"}, KeywordOptions{}, "Project \r\n\tFalcon", []string{"Project \r\n\tFalcon"}},
		{"nbsp", []string{"Project Falcon"}, KeywordOptions{}, "Project\u00a0Falcon", []string{"Project\u00a0Falcon"}},
		{"nbsp and spaces", []string{"Project Falcon"}, KeywordOptions{}, "x Project \u00a0\u00a0 Falcon", []string{"Project \u00a0\u00a0 Falcon"}},
		{"case-sensitive spaces", []string{"Project Falcon"}, KeywordOptions{CaseSensitive: true}, "Project  Falcon, project falcon, Project\u00a0Falcon",
			[]string{"Project  Falcon", "Project\u00a0Falcon"}},
		{"case-sensitive line break", []string{"Project Falcon"}, KeywordOptions{CaseSensitive: true}, "Project\nFalcon", []string{"Project\nFalcon"}},
		{"phrase written with runs", []string{"Project \t Falcon", "project\u00a0falcon"}, KeywordOptions{}, "PROJECT FALCON", []string{"PROJECT FALCON"}},
		{"three words", []string{"do not forward"}, KeywordOptions{WholeWord: true}, "Do  not\nforward; do notforward", []string{"Do  not\nforward"}},
		{"no space in text", []string{"Project Falcon"}, KeywordOptions{}, "ProjectFalcon Project-Falcon", nil},
		{"other non-ASCII", []string{"à bientôt"}, KeywordOptions{}, "à\u00a0bientôt £ à bientôt", []string{"à\u00a0bientôt", "à bientôt"}},
		{"nbsp lead byte in word", []string{"£ 5"}, KeywordOptions{}, "£ 5 and £\u00a05", []string{"£ 5", "£\u00a05"}},
		{"overlap", []string{"a b", "b c"}, KeywordOptions{}, "a  b \n c", []string{"a  b", "b \n c"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := NewKeywords("kw", c.words, c.o)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range d.Scan(c.text, nil) {
				got = append(got, c.text[m.Start:m.End])
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("Scan(%q) = %q, want %q", c.text, got, c.want)
			}
			// The same through a Set, merged with another list.
			other, err := NewKeywords("other", []string{"zzz"}, c.o)
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewSet(nil, []Detector{other, d}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got = got[:0]
			for _, m := range s.Scan(c.text, nil) {
				got = append(got, c.text[m.Start:m.End])
			}
			if len(got) == 0 {
				got = nil
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("Set.Scan(%q) = %q, want %q", c.text, got, c.want)
			}
		})
	}
}

// TestKeywordPhraseKey checks that a phrase counts as one distinct value
// however its white space is written.
func TestKeywordPhraseKey(t *testing.T) {
	d, err := NewKeywords("kw", []string{"Project Falcon"}, KeywordOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ms := d.Scan("Project Falcon / project\n  falcon", nil)
	if len(ms) != 2 || ms[0].Key != ms[1].Key || ms[0].Evidence != ms[1].Evidence {
		t.Fatalf("Scan = %+v, want two matches with one key and evidence", ms)
	}
}

// phraseAt reports whether phrase w (white space collapsed) occurs at
// text[i:], by a direct comparison: a space of w takes one or more white
// space characters (ASCII or U+00A0), any other byte must be equal (equal
// after ASCII folding when fold is set). It is the reference for the
// automaton.
func phraseAt(text, w string, i int, fold bool) bool {
	for j := 0; j < len(w); j++ {
		if w[j] == ' ' {
			n := 0
			for i < len(text) {
				if isSpaceByte(text[i]) {
					i++
				} else if strings.HasPrefix(text[i:], "\u00a0") {
					i += 2
				} else {
					break
				}
				n++
			}
			if n == 0 {
				return false
			}
			continue
		}
		if i >= len(text) {
			return false
		}
		a, b := text[i], w[j]
		if fold {
			a, b = lowerASCII(a), lowerASCII(b)
		}
		if a != b {
			return false
		}
		i++
	}
	return true
}

// TestPhraseAutomatonSplit checks that a search split into two calls at
// any offset, the state carried over, finds what one call finds, also
// when the split falls inside a NO-BREAK SPACE or a run of white space.
func TestPhraseAutomatonSplit(t *testing.T) {
	pats := []string{"project falcon", "£ 5", "a b c"}
	text := "Project\u00a0Falcon, £\u00a05 and a \u00a0b\n\tc; project  \u00a0falcon"
	for _, fold := range []bool{true, false} {
		a := newPhraseAutomaton(pats, fold)
		var whole []int
		a.hits(text, 0, len(text), 0, func(p, end int) bool { whole = append(whole, p, end); return true })
		// Folded, both spellings of the phrase; case-sensitive, the
		// lower-case one only.
		if want := map[bool]int{true: 4, false: 3}[fold]; len(whole) != 2*want {
			t.Fatalf("fold %v: hits %v, want %d pattern/end pairs", fold, whole, want)
		}
		for k := range len(text) + 1 {
			var got []int
			fn := func(p, end int) bool { got = append(got, p, end); return true }
			st := a.hits(text, 0, k, 0, fn)
			a.hits(text, k, len(text), st, fn)
			if !slices.Equal(got, whole) {
				t.Fatalf("fold %v, split at %d: hits %v, want %v", fold, k, got, whole)
			}
		}
	}
}
