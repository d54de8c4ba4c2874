package edm

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// The anchor pass over the whole text. A tight loop skips every byte that
// cannot start a value of an anchor column (lower-case prose, spaces,
// punctuation); at a digit (or, for an alphanumeric column whose values
// may have no digit, a letter) it reads the chain of words joined by
// short runs of value delimiters (" -./()+"), as in "123-45-6789" or
// "+1 (555) 010-4477", and tries every run of up to maxSpanGroups
// consecutive words of it whose normalised length fits an anchor column:
// digits only for digits and phone columns, letters and digits for
// alphanumeric ones. At an '@' it reads the address around it. Each
// candidate costs one SipHash and one filter probe; only a filter hit
// (the value's own, or about 1 in 256 others) costs an HMAC and a binary
// search of the tag table. Every byte is read a bounded number of times
// (the words of a chain by at most maxSpanGroups spans), so the pass is
// linear in the text, and its work is reported to the meter.

const (
	// words in one candidate: enough for a 16-digit or a 15-digit phone
	// value spelled one digit a word ("4 1 1 1 ...")
	maxSpanGroups = 16
	maxJoiner     = 3  // bytes between two words of one value (" - ")
	maxLocal      = 64 // bytes of an address's local part
	maxDomain     = 255
)

// anchor is a value of an anchor column found in the text.
type anchor struct {
	start, end int
	row        uint32
	col        uint8
}

type group struct {
	start, end int
	digits     bool // digits only
	digit      bool // has a digit
}

var joiner = func() (t [256]bool) {
	for _, c := range " -./()+" {
		t[c] = true
	}
	return
}()

// shape is what the anchor pass looks for, learnt from the index.
type shape struct {
	hot                  [256]bool
	digitsMin, digitsMax int // 0: no digits column
	alnumMin, alnumMax   int // 0: no alnum column
	alnumLetters         bool
	phone, email         bool
	maxLen               int
}

func newShape(x *Index) shape {
	var s shape
	for _, c := range x.Meta.Columns {
		if !c.Primary {
			continue
		}
		lo, hi := max(c.MinLen, 1), c.MaxLen
		switch c.class {
		case Digits:
			if s.digitsMin == 0 || lo < s.digitsMin {
				s.digitsMin = lo
			}
			s.digitsMax = max(s.digitsMax, hi)
		case Alnum:
			if s.alnumMin == 0 || lo < s.alnumMin {
				s.alnumMin = lo
			}
			s.alnumMax = max(s.alnumMax, hi)
			s.alnumLetters = s.alnumLetters || c.Letters
		case Phone:
			s.phone = true
		case Email:
			s.email = true
		}
	}
	s.maxLen = max(s.digitsMax, s.alnumMax)
	if s.phone {
		s.maxLen = max(s.maxLen, maxPhoneDigits)
	}
	if s.maxLen > 0 {
		for c := '0'; c <= '9'; c++ {
			s.hot[c] = true
		}
	}
	if s.alnumLetters {
		for c := 'a'; c <= 'z'; c++ {
			s.hot[c], s.hot[c-32] = true, true
		}
	}
	if s.email {
		s.hot['@'] = true
	}
	return s
}

// scan is the state of one Match call.
type scan struct {
	m       *Matcher
	text    string
	meter   meter
	t       *tagger
	buf     [maxDomain + maxLocal + 2]byte
	hbuf    []byte
	anchors []anchor
	ring    [maxSpanGroups]group
	stopped bool
}

// meter is what scan needs of a dataset.Meter.
type meter interface{ Step(n int) bool }

func (s *scan) step(n int) bool {
	if s.stopped {
		return false
	}
	if s.meter != nil && !s.meter.Step(n) {
		s.stopped = true
	}
	return !s.stopped
}

// findAnchors fills s.anchors; false when the meter stopped it.
func (s *scan) findAnchors() bool {
	t := s.text
	sh := &s.m.shape
	n := len(t)
	i := 0
	last := 0     // text[:last] has been read
	emailEnd := 0 // end of the last address read
	for i < n {
		j := i
		for j < n && !sh.hot[t[j]] {
			j++
		}
		if !s.step(j - i + 1) {
			return false
		}
		i = j
		if i >= n {
			break
		}
		if t[i] == '@' {
			// The local part may have been read as a chain already.
			i = s.email(i, emailEnd)
			last, emailEnd = i, i
			continue
		}
		// Back up to the first word of the chain (alphanumeric values
		// may start with letters: "AB-1234").
		ws := i
		for ws > last && isWordByte(t[ws-1]) && i-ws < maxValueLen {
			ws--
		}
		if sh.alnumMax > 0 {
			for k := 0; k < maxSpanGroups && ws-2 >= last && joiner[t[ws-1]] && isWordByte(t[ws-2]) && i-ws < maxValueLen; k++ {
				ws--
				for ws > last && isWordByte(t[ws-1]) && i-ws < maxValueLen {
					ws--
				}
			}
		}
		if !s.step(i - ws) {
			return false
		}
		i = s.chain(ws)
		last = i
	}
	return !s.stopped
}

// chain reads the chain of words starting at i and tries its spans. It
// returns the end of the chain.
func (s *scan) chain(i int) int {
	t := s.text
	n := len(t)
	k := 0 // groups read
	for i < n {
		// A word.
		g := group{start: i, digits: true}
		for i < n && isWordByte(t[i]) {
			d := t[i] >= '0' && t[i] <= '9'
			g.digits = g.digits && d
			g.digit = g.digit || d
			i++
		}
		g.end = i
		if g.end == g.start {
			break
		}
		if !s.step(g.end - g.start) {
			return n
		}
		s.ring[k%maxSpanGroups] = g
		k++
		s.spans(k)
		if s.stopped {
			return n
		}
		// The delimiters to the next word.
		j := i
		for j < n && j-i < maxJoiner && joiner[t[j]] {
			j++
		}
		if j == i || j >= n || !isWordByte(t[j]) {
			break
		}
		i = j
	}
	return i
}

// spans tries the spans that end at the k-th group of the chain.
func (s *scan) spans(k int) {
	sh := &s.m.shape
	e := s.ring[(k-1)%maxSpanGroups]
	length, digits, digit := 0, true, false
	for b := k - 1; b >= 0 && b >= k-maxSpanGroups; b-- {
		g := s.ring[b%maxSpanGroups]
		length += g.end - g.start
		if length > sh.maxLen {
			return
		}
		digits = digits && g.digits
		digit = digit || g.digit
		if digits && sh.digitsMax > 0 && length >= sh.digitsMin && length <= sh.digitsMax {
			s.probe(Digits, s.canon(b, k, false), g.start, e.end)
		}
		if digits && sh.phone && length >= minPhoneDigits && length <= maxPhoneDigits {
			c := s.canon(b, k, false)
			s.probe(Phone, c[len(c)-min(len(c), phoneKeep):], g.start, e.end)
		}
		if sh.alnumMax > 0 && length >= sh.alnumMin && length <= sh.alnumMax && (digit || sh.alnumLetters) {
			s.probe(Alnum, s.canon(b, k, true), g.start, e.end)
		}
	}
}

// canon writes the words of groups b..k-1 into s.buf, lower case if asked.
func (s *scan) canon(b, k int, lower bool) []byte {
	out := s.buf[:0]
	for x := b; x < k; x++ {
		g := s.ring[x%maxSpanGroups]
		for p := g.start; p < g.end; p++ {
			c := s.text[p]
			if lower && c >= 'A' && c <= 'Z' {
				c += 32
			}
			out = append(out, c)
		}
	}
	return out
}

// probe looks a candidate up and records the anchors it is.
func (s *scan) probe(c Class, canon []byte, start, end int) {
	if !s.step(len(canon)) {
		return
	}
	x := s.m.idx
	fk := x.key.filterKey(c, canon, s.hbuf)
	if !x.filter.contains(fk) {
		return
	}
	if s.t == nil {
		s.t = x.key.newTagger()
	}
	for _, r := range x.lookup(s.t.tag(c, canon)) {
		col := r & (1<<colBits - 1)
		if x.Meta.Columns[col].class == c {
			s.anchors = append(s.anchors, anchor{start: start, end: end, row: r >> colBits, col: uint8(col)})
		}
	}
}

// email reads the address around the '@' at i and probes it; it returns
// where scanning goes on.
func (s *scan) email(at, last int) int {
	t := s.text
	ls := at
	for ls > last && at-ls < maxLocal && emailLocal(t[ls-1]) {
		ls--
	}
	de := at + 1
	for de < len(t) && de-at <= maxDomain && (isWordByte(t[de]) || t[de] == '.' || t[de] == '-' || t[de] >= utf8.RuneSelf) {
		de++
	}
	if !s.step(de - ls) {
		return len(t)
	}
	e := de
	for e > at+1 && t[e-1] == '.' {
		e--
	}
	for ls < at && t[ls] == '.' {
		ls++
	}
	if ls == at || e == at+1 {
		return at + 1
	}
	out := s.buf[:0]
	ascii := true
	for p := ls; p < e; p++ {
		c := t[p]
		if c >= 'A' && c <= 'Z' {
			c += 32
		}
		ascii = ascii && c < utf8.RuneSelf
		out = append(out, c)
	}
	if !ascii {
		out = append(s.buf[:0], strings.ToLower(t[ls:e])...)
	}
	s.probe(Email, out, ls, e)
	return de
}

// emailLocal reports whether c may be in an address's local part
// (non-ASCII bytes too: internationalised addresses).
func emailLocal(c byte) bool {
	return isWordByte(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c >= utf8.RuneSelf
}

func sortAnchors(a []anchor) {
	slices.SortStableFunc(a, func(x, y anchor) int { return x.start - y.start })
}
