package detect

import (
	"slices"
	"strings"
)

// automaton is an Aho-Corasick automaton compiled to a DFA over byte
// classes: every byte that occurs in a pattern gets a class (upper- and
// lower-case ASCII letters share one when folding), every other byte is
// class 0. A transition is one table load per input byte, with no case
// conversion of the text and no allocation.
//
// It is written here rather than taken from a library because the
// scanner needs three things together: ASCII case folding inside the
// matcher (no lower-cased copy of the text), a search that can stop at
// the end of one proximity window and resume at the next with its state,
// and every overlapping occurrence reported through a callback without
// allocating.
type automaton struct {
	class   [256]uint8
	nclass  int
	trans   []uint32 // row offset of the next state (state*nclass), hitFlag set when it has outputs
	outIdx  []uint32 // per state: outList[outIdx[s]:outIdx[s+1]]
	outList []int32  // pattern numbers
	lens    []int    // pattern lengths in bytes
	rootHot [256]bool
	// White space in phrases: when set, a pattern's ' ' matches a run of
	// white space in the text (see newPhraseAutomaton), and wsClass is the
	// class of ' '.
	ws         bool
	wsClass    uint8
	afterSpace []bool // per state: entered by a ' ' of a pattern
	nbspClass  uint8  // class of 0xC2 (first byte of U+00A0) when ws
}

const hitFlag = 1 << 31

// newPhraseAutomaton is newAutomaton for keyword lists whose phrases have
// their white space collapsed to single spaces: a space in a pattern
// matches any run of ASCII white space and NO-BREAK SPACE (U+00A0) in the
// text ("Project Falcon" matches "project   falcon", "Project\nFalcon"
// and "Project\u00a0Falcon"). The automaton reads such a run as one
// space: every state reached by a space keeps its state on further white
// space, so a run costs one table load per byte like any other text and no
// copy of the text is made. Patterns without a space build the same
// automaton as newAutomaton.
func newPhraseAutomaton(patterns []string, fold bool) *automaton {
	if !slices.ContainsFunc(patterns, func(p string) bool { return strings.IndexByte(p, ' ') >= 0 }) {
		return newAutomaton(patterns, fold)
	}
	// 0xC2, the first byte of U+00A0, gets a class of its own, so that
	// the search tests one class rather than the byte.
	a := compileAutomaton(patterns, fold, "\xc2")
	a.ws = true
	a.wsClass = a.class[' ']
	a.nbspClass = a.class[0xC2]
	for _, b := range []byte("\t\n\v\f\r") {
		a.class[b] = a.wsClass
	}
	// A pattern cannot begin or end with a space, so the root and every
	// state with an output keep their transitions; a state entered by a
	// space stays where it is on more white space.
	nc := uint32(a.nclass)
	for st, spaced := range a.afterSpace {
		if spaced {
			a.trans[uint32(st)*nc+uint32(a.wsClass)] = uint32(st) * nc
		}
	}
	for b := range 256 {
		a.rootHot[b] = a.trans[a.class[b]] != 0
	}
	return a
}

// newAutomaton compiles patterns; with fold, ASCII letters match either
// case. Empty patterns are ignored.
func newAutomaton(patterns []string, fold bool) *automaton {
	return compileAutomaton(patterns, fold, "")
}

// compileAutomaton is newAutomaton; the bytes of own get a class of their
// own even when no pattern contains them.
func compileAutomaton(patterns []string, fold bool, own string) *automaton {
	a := &automaton{lens: make([]int, len(patterns))}
	// Byte classes.
	nc := 1
	for _, p := range append([]string{own}, patterns...) {
		for i := 0; i < len(p); i++ {
			b := p[i]
			if fold {
				b = lowerASCII(b)
			}
			if a.class[b] == 0 {
				a.class[b] = uint8(nc)
				if fold && b >= 'a' && b <= 'z' {
					a.class[b-'a'+'A'] = uint8(nc)
				}
				nc++
				if nc > 255 {
					// More than 255 distinct bytes: fall back to one class per byte value.
					return newAutomatonRaw(patterns, fold)
				}
			}
		}
	}
	a.nclass = nc
	a.build(patterns)
	return a
}

// newAutomatonRaw uses the identity class map (every byte its own class),
// for pattern sets that use more than 255 distinct bytes.
func newAutomatonRaw(patterns []string, fold bool) *automaton {
	a := &automaton{lens: make([]int, len(patterns)), nclass: 256}
	for b := range 256 {
		a.class[b] = uint8(b)
	}
	if fold {
		for b := 'A'; b <= 'Z'; b++ {
			a.class[b] = uint8(b - 'A' + 'a')
		}
	}
	// Class values equal byte values, so a 256-wide row is needed; class
	// is uint8, so the value 255 stays addressable.
	a.build(patterns)
	return a
}

func (a *automaton) build(patterns []string) {
	nc := a.nclass
	trie := make([]int32, nc) // row of the root
	for i := range trie {
		trie[i] = -1
	}
	var own [][]int32 // outputs per state
	own = append(own, nil)
	a.afterSpace = append(a.afterSpace[:0], false)
	for pi, p := range patterns {
		a.lens[pi] = len(p)
		if p == "" {
			continue
		}
		s := 0
		for i := 0; i < len(p); i++ {
			c := int(a.class[p[i]])
			if trie[s*nc+c] < 0 {
				n := len(own)
				own = append(own, nil)
				a.afterSpace = append(a.afterSpace, p[i] == ' ')
				for range nc {
					trie = append(trie, -1)
				}
				trie[s*nc+c] = int32(n)
			}
			s = int(trie[s*nc+c])
		}
		own[s] = append(own[s], int32(pi))
	}
	ns := len(own)
	fail := make([]int32, ns)
	queue := make([]int32, 0, ns)
	for c := range nc {
		if t := trie[c]; t < 0 {
			trie[c] = 0
		} else {
			fail[t] = 0
			queue = append(queue, t)
		}
	}
	out := make([][]int32, ns)
	out[0] = own[0]
	for q := 0; q < len(queue); q++ {
		u := queue[q]
		out[u] = append(append([]int32(nil), own[u]...), out[fail[u]]...)
		for c := range nc {
			v := trie[int(u)*nc+c]
			f := trie[int(fail[u])*nc+c]
			if v < 0 {
				trie[int(u)*nc+c] = f
			} else {
				fail[v] = f
				queue = append(queue, v)
			}
		}
	}
	a.trans = make([]uint32, len(trie))
	for i, t := range trie {
		v := uint32(int(t) * nc)
		if len(out[t]) > 0 {
			v |= hitFlag
		}
		a.trans[i] = v
	}
	a.outIdx = make([]uint32, ns+1)
	for s := range ns {
		a.outIdx[s] = uint32(len(a.outList))
		a.outList = append(a.outList, out[s]...)
	}
	a.outIdx[ns] = uint32(len(a.outList))
	for b := range 256 {
		a.rootHot[b] = a.trans[a.class[b]] != 0
	}
}

// hits calls fn(pattern, end) for every occurrence of every pattern in
// text[from:to], with end the offset just past it; state carries the
// automaton state across adjacent calls (start with 0). It returns the
// state at to. fn returning false stops the search.
func (a *automaton) hits(text string, from, to int, state uint32, fn func(p int, end int) bool) uint32 {
	if a.ws {
		return a.hitsWS(text, from, to, state, fn)
	}
	st := state
	tr := a.trans
	cl := &a.class
	for i := from; i < to; i++ {
		if st == 0 {
			for i < to && !a.rootHot[text[i]] {
				i++
			}
			if i == to {
				break
			}
		}
		t := tr[st+uint32(cl[text[i]])]
		st = t &^ hitFlag
		if t&hitFlag != 0 {
			s := st / uint32(a.nclass)
			for _, p := range a.outList[a.outIdx[s]:a.outIdx[s+1]] {
				if !fn(int(p), i+1) {
					return st
				}
			}
		}
	}
	return st
}

func lowerASCII(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// hitsWS is hits for an automaton built by newPhraseAutomaton: a
// NO-BREAK SPACE (C2 A0) is read as one white space byte. When to falls
// between its two bytes, the whole character is read by this call and the
// next call, starting at the A0, skips it.
func (a *automaton) hitsWS(text string, from, to int, state uint32, fn func(p int, end int) bool) uint32 {
	st := state
	tr := a.trans
	cl := &a.class
	ws, nbsp := a.wsClass, a.nbspClass
	if from > 0 && from < to && text[from] == 0xA0 && text[from-1] == 0xC2 {
		from++
	}
	for i := from; i < to; i++ {
		if st == 0 {
			for i < to && !a.rootHot[text[i]] {
				i++
			}
			if i == to {
				break
			}
		}
		c := cl[text[i]]
		if c == nbsp && i+1 < len(text) && text[i+1] == 0xA0 {
			c = ws
			i++
		}
		t := tr[st+uint32(c)]
		st = t &^ hitFlag
		if t&hitFlag != 0 {
			s := st / uint32(a.nclass)
			for _, p := range a.outList[a.outIdx[s]:a.outIdx[s+1]] {
				if !fn(int(p), i+1) {
					return st
				}
			}
		}
	}
	return st
}

// isSpaceByte reports whether b is ASCII white space.
func isSpaceByte(b byte) bool {
	return b == ' ' || (b >= '\t' && b <= '\r')
}

// phraseStart returns where the occurrence of phrase w (white space
// collapsed to single spaces) that ends at end begins in text: each space
// of w stands for the whole run of white space before the next word.
func phraseStart(text, w string, end int) int {
	q := end
	for j := len(w) - 1; j >= 0; j-- {
		if w[j] != ' ' {
			q--
			continue
		}
		for q > 0 {
			if isSpaceByte(text[q-1]) {
				q--
			} else if q >= 2 && text[q-1] == 0xA0 && text[q-2] == 0xC2 {
				q -= 2
			} else {
				break
			}
		}
	}
	return q
}
