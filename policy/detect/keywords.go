package detect

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// KeywordOptions tune a keyword detector.
type KeywordOptions struct {
	CaseSensitive bool       // match letters exactly; default folds ASCII case (and non-ASCII upper/lower forms of each word)
	WholeWord     bool       // a match must not touch a letter or digit on either side
	Confidence    Confidence // confidence of every match; 0 means Medium
}

// Keywords finds any of a list of words and phrases (a policy keyword list
// or dictionary file) with one Aho-Corasick automaton, so that the cost
// per byte does not grow with the number of words.
type Keywords struct {
	name  string
	words []string // pattern text as given (case variants expanded)
	canon []string // per pattern: the value counted for distinct matches
	a     *automaton
	o     KeywordOptions
}

// NewKeywords returns a detector named name that matches words. Leading
// and trailing white space of each word is removed (dictionary files with
// CRLF line ends); an empty word is an error; duplicates are ignored.
// White space inside a phrase matches any run of white space in the text,
// line breaks and NO-BREAK SPACE included, with or without CaseSensitive:
// "Project Falcon" matches "project   falcon" and "Project\nFalcon".
func NewKeywords(name string, words []string, o KeywordOptions) (Detector, error) {
	if name == "" {
		return nil, errors.New("detect: keyword detector without a name")
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("detect: keyword detector %s: no words", name)
	}
	if o.Confidence == 0 {
		o.Confidence = Medium
	}
	if o.Confidence < Low || o.Confidence > High {
		return nil, fmt.Errorf("detect: keyword detector %s: bad confidence %d", name, int(o.Confidence))
	}
	k := &Keywords{name: name, o: o}
	seen := map[string]bool{}
	add := func(w, canon string) {
		key := w
		if !o.CaseSensitive {
			key = string(foldASCII([]byte(w)))
		}
		if seen[key] {
			return
		}
		seen[key] = true
		k.words = append(k.words, w)
		k.canon = append(k.canon, canon)
	}
	for n, w := range words {
		w = collapseSpace(w)
		if w == "" {
			return nil, fmt.Errorf("detect: keyword detector %s: word %d is empty", name, n+1)
		}
		if !utf8.ValidString(w) {
			return nil, fmt.Errorf("detect: keyword detector %s: word %d is not valid UTF-8", name, n+1)
		}
		if o.CaseSensitive {
			add(w, w)
			continue
		}
		canon := strings.ToLower(w)
		add(w, canon)
		if up := toUpperNonASCII(w); up != w {
			add(up, canon)
		}
		if lo := toLowerNonASCII(w); lo != w {
			add(lo, canon)
		}
	}
	k.a = newPhraseAutomaton(k.words, !o.CaseSensitive)
	return k, nil
}

// collapseSpace trims w and replaces every run of white space inside it
// (Unicode white space, NO-BREAK SPACE included) with one ' '.
func collapseSpace(w string) string {
	w = strings.TrimSpace(w)
	if !strings.ContainsFunc(w, func(r rune) bool { return r != ' ' && unicode.IsSpace(r) }) && !strings.Contains(w, "  ") {
		return w
	}
	return strings.Join(strings.Fields(w), " ")
}

// Name returns the detector name.
func (k *Keywords) Name() string { return k.name }

// Scan appends a match for every occurrence of every word.
func (k *Keywords) Scan(text string, dst []Match) []Match {
	k.a.hits(text, 0, len(text), 0, func(p, end int) bool {
		if m, ok := k.match(text, p, end); ok {
			dst = append(dst, m)
		}
		return true
	})
	return dst
}

// match returns the match of the detector's word p ending at end, if it
// satisfies the options.
func (k *Keywords) match(text string, p, end int) (Match, bool) {
	w := k.words[p]
	start := end - len(w)
	if k.a.ws && strings.IndexByte(w, ' ') >= 0 {
		start = phraseStart(text, w, end)
	}
	if k.o.WholeWord && !wholeWord(text, start, end) {
		return Match{}, false
	}
	return Match{
		Detector:   k.name,
		Confidence: k.o.Confidence,
		Evidence:   MaskTail(k.canon[p], 4),
		Key:        keyString(k.name, k.canon[p]),
		Start:      start,
		End:        end,
	}, true
}

// kwGroup is the keyword detectors of a Set with the same case setting,
// merged into one automaton so that the text is searched once for all of
// them.
type kwGroup struct {
	a      *automaton
	owners [][]kwOwner // per merged pattern: the detectors' words it stands for
}

// kwOwner is word p of custom detector det.
type kwOwner struct{ det, p int }

// mergeKeywords builds one kwGroup per case setting from the keyword
// detectors among custom. It returns the groups and, per custom detector,
// whether it is searched through a group.
func mergeKeywords(custom []Detector) ([]*kwGroup, []bool) {
	merged := make([]bool, len(custom))
	var groups []*kwGroup
	for _, fold := range []bool{true, false} {
		var pats []string
		var owners [][]kwOwner
		index := map[string]int{}
		for det, d := range custom {
			k, ok := d.(*Keywords)
			if !ok || k.o.CaseSensitive == fold {
				continue
			}
			merged[det] = true
			for p, w := range k.words {
				key := w
				if fold {
					key = string(foldASCII([]byte(w)))
				}
				j, seen := index[key]
				if !seen {
					j = len(pats)
					index[key] = j
					pats = append(pats, w)
					owners = append(owners, nil)
				}
				owners[j] = append(owners[j], kwOwner{det, p})
			}
		}
		if len(pats) > 0 {
			groups = append(groups, &kwGroup{a: newPhraseAutomaton(pats, fold), owners: owners})
		}
	}
	return groups, merged
}

// detMatch is a match of custom detector det.
type detMatch struct {
	det int
	m   Match
}

// scanCustom appends the matches of the custom detectors in their order:
// keyword detectors from one search per group, the others from their own
// Scan.
func (s *Set) scanCustom(text string, dst []Match) []Match {
	var found []detMatch
	for _, g := range s.kwGroups {
		g.a.hits(text, 0, len(text), 0, func(p, end int) bool {
			for _, o := range g.owners[p] {
				if m, ok := s.custom[o.det].(*Keywords).match(text, o.p, end); ok {
					found = append(found, detMatch{o.det, m})
				}
			}
			return true
		})
	}
	if len(found) > 1 {
		slices.SortStableFunc(found, func(a, b detMatch) int { return a.det - b.det })
	}
	for det, d := range s.custom {
		if !s.kwMerged[det] {
			dst = d.Scan(text, dst)
			continue
		}
		for len(found) > 0 && found[0].det == det {
			dst = append(dst, found[0].m)
			found = found[1:]
		}
	}
	return dst
}

// wholeWord reports whether text[start:end] has no letter, digit or '_'
// immediately before or after it. A word that begins (ends) with
// punctuation, such as "#tag", needs no boundary on that side.
func wholeWord(text string, start, end int) bool {
	if start > 0 && (isAlnum(text[start]) || text[start] == '_' || text[start] >= utf8.RuneSelf) {
		r, _ := utf8.DecodeLastRuneInString(text[:start])
		if isWordRune(r) || r == '_' {
			return false
		}
	}
	if end < len(text) && (isAlnum(text[end-1]) || text[end-1] == '_' || text[end-1] >= utf8.RuneSelf) {
		r, _ := utf8.DecodeRuneInString(text[end:])
		if isWordRune(r) || r == '_' {
			return false
		}
	}
	return true
}

var _ Detector = (*Keywords)(nil)
