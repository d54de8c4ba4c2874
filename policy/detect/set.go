package detect

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultProximityWindow is the keyword proximity window, in characters on
// each side of a match, used when Options.ProximityWindow is 0.
const DefaultProximityWindow = 300

// Options tune a Set and the built-in identifiers.
type Options struct {
	// ProximityWindow is how far (in characters, from the start of a
	// supporting keyword before a match to the match, or from the match to
	// the end of a keyword after it) a keyword may be to raise the match to
	// High confidence. 0 means DefaultProximityWindow.
	ProximityWindow int
}

func (o Options) window() int {
	if o.ProximityWindow <= 0 {
		return DefaultProximityWindow
	}
	return o.ProximityWindow
}

// Set scans text for many detectors at once. The built-in identifiers are
// found in one pass over the text: a byte-class scanner splits the text
// into words and digit runs, sends digit runs to the numeric validators by
// length and grouping, and sends words whose shape or prefix fits to the
// alphanumeric and secret validators. Supporting keywords are then searched
// with one Aho-Corasick automaton, only within the proximity windows of the
// matches found, each byte at most once. The keyword and dictionary
// detectors among the custom detectors are merged into one automaton per
// case setting and searched in one pass; other custom detectors run after
// that.
//
// A Set is safe for concurrent use.
type Set struct {
	ids      idMask
	custom   []Detector
	kwGroups []*kwGroup // the keyword detectors among custom, merged
	kwMerged []bool     // per custom detector: searched through kwGroups
	window   int

	// Digit runs: unseparated lengths and separated groupings.
	byLen  [maxDigits + 1]idMask
	byLast [maxGroup + 1][]grouping
	// minGroups[w] is the fewest groups of a grouping in byLast[w]: a
	// chain with fewer groups than that tries none of them.
	minGroups [maxGroup + 1]int
	// lone[w] says a chain of one group of w digits may hold a value:
	// an unseparated identifier of that length, or a DNI's eight digits
	// before its letter (see evalGroup).
	lone [maxDigits + 1]bool
	// minDigits is the fewest digits of any value the digit chains
	// offer: an unseparated length, a grouping, a DNI's eight.
	minDigits int
	// shapes: the chains of fewer than cardDigits digits that may hold a
	// value, by their group widths (see idleChain).
	shapes shapeSet
	// generalPath turns the shortcuts above off, for tests that compare
	// the scanner with them and without.
	generalPath bool

	// Keywords of the enabled identifiers.
	kw     *automaton
	kwMask []idMask // per keyword pattern
	kwWord []bool   // per keyword pattern: whole word required
	kwPat  []string // per keyword pattern: the word, for Why
	kwAny  idMask   // identifiers that have keywords
	numAny idMask   // enabled numeric identifiers (their values can carry labels)
}

// grouping is a standard way of writing a numeric identifier with
// separators, e.g. 4-4-4-4 for a 16-digit card.
type grouping struct {
	widths string // group widths, one byte each
	ids    idMask
}

const (
	maxDigits = 19 // longest unseparated numeric identifier
	maxGroup  = 13 // widest group in any grouping
)

// NewSet compiles the built-in identifiers named in builtins and the
// custom detectors into one Set. An unknown built-in name is an error.
func NewSet(builtins []string, custom []Detector, opts Options) (*Set, error) {
	var m idMask
	for _, n := range builtins {
		i, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("detect: unknown built-in identifier %q", n)
		}
		m |= 1 << i
	}
	for _, d := range custom {
		if d == nil {
			return nil, fmt.Errorf("detect: nil custom detector")
		}
	}
	return newSet(m, custom, opts), nil
}

func newSet(m idMask, custom []Detector, opts Options) *Set {
	s := &Set{ids: m, custom: slices.Clone(custom), window: opts.window()}
	s.kwGroups, s.kwMerged = mergeKeywords(s.custom)
	// Numeric specs.
	groupAt := map[string]int{}
	for i := range numIDs {
		spec := registry[i].numeric
		if !m.has(i) || spec == nil {
			continue
		}
		for _, l := range spec.lengths {
			s.byLen[l] |= 1 << i
		}
		for _, g := range spec.groupings {
			key := g
			last := g[len(g)-1]
			if k, ok := groupAt[key]; ok {
				s.byLast[last][k].ids |= 1 << i
				continue
			}
			groupAt[key] = len(s.byLast[last])
			s.byLast[last] = append(s.byLast[last], grouping{widths: g, ids: 1 << i})
			if k := len(g); s.minGroups[last] == 0 || k < s.minGroups[last] {
				s.minGroups[last] = k
			}
		}
	}
	for w := range s.lone {
		s.lone[w] = s.byLen[w] != 0 || w == 8 && m.has(idESDNI)
		if s.lone[w] && (s.minDigits == 0 || w < s.minDigits) {
			s.minDigits = w
		}
	}
	for _, l := range s.byLast {
		for _, g := range l {
			sum := 0
			for _, w := range []byte(g.widths) {
				sum += int(w)
			}
			if s.minDigits == 0 || sum < s.minDigits {
				s.minDigits = sum
			}
		}
	}
	s.newShapeSet()
	// Keywords: one automaton for every enabled identifier's keywords;
	// non-ASCII keywords also in their upper-case form (ASCII letters are
	// folded by the automaton itself).
	var pats []string
	index := map[string]int{}
	add := func(w string, i id) {
		k := string(foldASCII([]byte(w)))
		if j, ok := index[k]; ok {
			s.kwMask[j] |= 1 << i
			return
		}
		index[k] = len(pats)
		pats = append(pats, w)
		s.kwMask = append(s.kwMask, 1<<i)
		s.kwWord = append(s.kwWord, len(w) <= 4)
	}
	for i := range numIDs {
		if !m.has(i) {
			continue
		}
		for _, w := range registry[i].info.Keywords {
			s.kwAny |= 1 << i
			add(w, i)
			if up := toUpperNonASCII(w); up != w {
				add(up, i)
			}
			if lo := toLowerNonASCII(w); lo != w {
				add(lo, i)
			}
		}
	}
	for i := range numIDs {
		if m.has(i) && registry[i].numeric != nil {
			s.numAny |= 1 << i
		}
	}
	if s.numAny != 0 {
		for _, w := range numberLabels {
			add(w, id(63))
			s.kwWord[index[string(foldASCII([]byte(w)))]] = true
			if up := toUpperNonASCII(w); up != w {
				add(up, id(63))
			}
		}
	}
	for _, w := range pats {
		s.kwPat = append(s.kwPat, strings.ToLower(w))
	}
	if len(pats) > 0 {
		s.kw = newAutomaton(pats, true)
	}
	return s
}

// Scan appends every match in text to dst and returns it. Matches of the
// built-in identifiers come first, in text order, then those of the custom
// detectors in the order they were given.
func (s *Set) Scan(text string, dst []Match) []Match {
	dst, _ = s.ScanUntil(text, dst, nil)
	return dst
}

// ScanUntil is Scan that gives up when stop returns true: the scan of the
// built-in identifiers asks it every 64 KiB of text, and once more before
// the keyword search and the custom detectors. It reports whether the
// whole text was scanned; when not, the matches found so far are
// returned and the caller must treat the rest of the text as unscanned. A
// nil stop never stops.
func (s *Set) ScanUntil(text string, dst []Match, stop func() bool) ([]Match, bool) {
	n0 := len(dst)
	if s.ids != 0 {
		sc := scanner{set: s, text: text, dst: dst, stop: stop}
		sc.run()
		dst = sc.dst
		if sc.stopped {
			return dst, false
		}
		if s.kw != nil && len(dst) > n0 {
			s.raise(text, dst[n0:])
		}
	}
	if len(s.custom) > 0 {
		if stop != nil && stop() {
			return dst, false
		}
		dst = s.scanCustom(text, dst)
	}
	return dst, true
}

// kwHit is one supporting keyword found in the text.
type kwHit struct {
	start, end int
	ids        idMask
	p          int // pattern
}

// raise sets the confidence of matches to High when one of their
// identifier's keywords lies within the proximity window before or after
// the match (not inside it). The window counts characters: in ASCII text
// that is bytes; otherwise a character is at most 4 bytes, so the
// automaton searches 4 window-lengths of bytes on each side. It runs over
// the union of the windows, each byte once.
func (s *Set) raise(text string, ms []Match) {
	if !slices.IsSortedFunc(ms, byStart) {
		slices.SortStableFunc(ms, byStart)
	}
	ascii := isASCII(text)
	reach := s.window
	if !ascii {
		reach *= 4
	}
	var buf [32]kwHit
	hits := buf[:0]
	tb := newTables(text)
	if tableWork != nil {
		defer func() { tableWork(tb.work) }()
	}
	scanned := 0 // text[:scanned] has been searched
	var state uint32
	w := s.window
	for k := range ms {
		m := &ms[k]
		i, ok := byName[m.Detector]
		if !ok || m.Confidence >= High || !(s.kwAny | s.numAny).has(i) {
			continue
		}
		if m.Why.Demoted == DemotedCaps {
			continue
		}
		ident := m.Why.Demoted == DemotedIdentifier
		if !ident && s.column(&tb, text, m, i) {
			continue
		}
		lo, hi := max(0, m.Start-reach), min(len(text), m.End+reach)
		if hi > scanned {
			from := scanned
			if lo > scanned {
				from, state = lo, 0
			}
			// Forget keywords that no later window can reach.
			keep := hits[:0]
			for _, h := range hits {
				if h.start >= lo {
					keep = append(keep, h)
				}
			}
			hits = keep
			state = s.kw.hits(text, from, hi, state, func(p, end int) bool {
				start := end - s.kw.lens[p]
				if keywordBounded(text, start, end, s.kwWord[p]) {
					hits = append(hits, kwHit{start, end, s.kwMask[p], p})
				}
				return true
			})
			scanned = hi
		}
		// The nearest keyword on each side decides; at most two character
		// counts per match. A label of the value's own (numeric values
		// only) wins over keywords further away.
		before, after, label := -1, -1, -1
		for k, h := range hits {
			if h.ids&labelBit != 0 && h.end <= m.Start && s.numAny.has(i) && (label < 0 || h.end > hits[label].end) && labelGap(text, h.end, m.Start) {
				label = k
			}
			if !h.ids.has(i) || h.start < lo || h.end > hi {
				continue
			}
			switch {
			case h.end <= m.Start:
				if before < 0 || h.start > hits[before].start || h.start == hits[before].start && h.end > hits[before].end {
					before = k
				}
			case h.start >= m.End:
				if after < 0 || h.end < hits[after].end {
					after = k
				}
			}
		}
		if before >= 0 && !near(text, hits[before], m, w, ascii) {
			before = -1
		}
		if after >= 0 && !near(text, hits[after], m, w, ascii) {
			after = -1
		}
		// The keyword nearer to the value.
		kw, dist := -1, 0
		if before >= 0 {
			kw, dist = before, m.Start-hits[before].end
		}
		if after >= 0 && (kw < 0 || hits[after].start-m.End < dist) {
			kw, dist = after, hits[after].start-m.End
		}
		// A value in a URL, path or identifier stays low unless its own
		// key is a keyword ("?card=4111...", "/cc/4111...").
		if ident {
			if before >= 0 && (ownKey(text[hits[before].end:m.Start])) {
				m.Confidence, m.Why.Demoted = High, NotDemoted
				m.Why.Keyword, m.Why.Distance = s.kwPat[hits[before].p], chars(text, m, hits[before])
			}
			continue
		}
		// The label wins unless a keyword stands between it and the value.
		if label >= 0 && (before < 0 || hits[before].start < hits[label].end) {
			m.Confidence, m.Why.Demoted, m.Why.Label = Low, DemotedLabel, s.kwPat[hits[label].p]
			continue
		}
		if kw >= 0 {
			m.Confidence = High
			m.Why.Keyword, m.Why.Distance = s.kwPat[hits[kw].p], chars(text, m, hits[kw])
		}
	}
}

// near reports whether keyword h lies within w characters before or after
// match m, without overlapping it; ascii says the text is all ASCII.
func near(text string, h kwHit, m *Match, w int, ascii bool) bool {
	var gap string
	switch {
	case h.end <= m.Start:
		gap = text[h.start:m.Start]
	case h.start >= m.End:
		gap = text[m.End:h.end]
	default:
		return false
	}
	if len(gap) <= w {
		return true
	}
	if ascii || len(gap) > 4*w {
		return false
	}
	return utf8.RuneCountInString(gap) <= w
}

// isASCII reports whether s has no byte above 0x7F, eight bytes at a time.
func isASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if binary.LittleEndian.Uint64([]byte(s[i:i+8]))&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func byStart(a, b Match) int { return a.Start - b.Start }

// keywordBounded reports whether the keyword at text[start:end] begins a
// word (no letter or digit before it) and, when whole is set, also ends one
// (an English plural s is allowed: "cards", "SSNs"). A keyword that begins
// (ends) with punctuation, such as "key=", needs no boundary on that side.
func keywordBounded(text string, start, end int, whole bool) bool {
	if start > 0 && isAlnum(text[start]) {
		r, _ := utf8.DecodeLastRuneInString(text[:start])
		if isWordRune(r) {
			return false
		}
	}
	if whole && end < len(text) && (text[end] == 's' || text[end] == 'S') && isAlnum(text[end-1]) {
		end++
	}
	if whole && end < len(text) && isAlnum(text[end-1]) {
		r, _ := utf8.DecodeRuneInString(text[end:])
		if isWordRune(r) {
			return false
		}
	}
	return true
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return wordClass[r]&(cUpper|cLower|cDigit) != 0
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func foldASCII(b []byte) []byte {
	for i, c := range b {
		b[i] = lowerASCII(c)
	}
	return b
}

// toUpperNonASCII and toLowerNonASCII change the case of non-ASCII letters
// only, giving the variants the ASCII-folding automaton cannot produce
// ("SÉCURITÉ SOCIALE" from "sécurité sociale").
func toUpperNonASCII(s string) string { return mapNonASCII(s, unicode.ToUpper) }
func toLowerNonASCII(s string) string { return mapNonASCII(s, unicode.ToLower) }

func mapNonASCII(s string, f func(rune) rune) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r >= utf8.RuneSelf {
			r = f(r)
		}
		out = append(out, r)
	}
	return string(out)
}

// tableWork, when set (by cost tests), receives the bytes the table
// context examined in each raise.
var tableWork func(int64)

// chars counts the characters between keyword h and match m.
func chars(text string, m *Match, h kwHit) int {
	if h.end <= m.Start {
		return utf8.RuneCountInString(text[h.end:m.Start])
	}
	return utf8.RuneCountInString(text[m.End:h.start])
}

// column applies the header cell of m's table column, if any: a keyword
// of identifier i raises m to High, a number label (for numeric
// identifiers) caps it at Low. It reports whether the header decided.
func (s *Set) column(tb *tables, text string, m *Match, i id) bool {
	pl, ok := tb.locate(m.Start, m.End)
	if !ok {
		return false
	}
	if registry[i].numeric != nil {
		// A value across cells (two spaces in a table of aligned columns,
		// the delimiter in another) is no cell value. It is one of a list
		// of values written in columns when a row beside it holds a valid
		// value at the same place, or when it is on the table's first line
		// with no row above to compare: valid values do not demote each
		// other. Otherwise it is a slice of a table of numbers.
		v := text[m.Start:m.End]
		if tb.delim == aligned && strings.Contains(v, "  ") || tb.delim != aligned && strings.IndexByte(v, tb.delim) >= 0 {
			if pl.ls == tb.blockStart || tb.validBeside(pl, m.Start, m.End, i) {
				return false
			}
			if tb.delim == aligned {
				m.Confidence, m.Why.Demoted = Low, DemotedColumn
				return true
			}
		}
		if otherColumn(text, tb.neighbours(pl), i, m.End-m.Start) {
			m.Confidence, m.Why.Demoted = Low, DemotedColumn
			return true
		}
	}
	cs, ce, ok := tb.header(pl)
	if !ok {
		return false
	}
	kw, label := -1, -1
	s.kw.hits(text, cs, ce, 0, func(p, end int) bool {
		if !keywordBounded(text, end-s.kw.lens[p], end, s.kwWord[p]) {
			return true
		}
		switch {
		case s.kwMask[p].has(i):
			kw = p
		case s.kwMask[p]&labelBit != 0 && s.numAny.has(i):
			label = p
		}
		return true
	})
	switch {
	case label >= 0:
		m.Confidence, m.Why.Demoted, m.Why.Label, m.Why.Column = Low, DemotedLabel, s.kwPat[label], true
	case kw < 0 && registry[i].numeric != nil && headerLabel(text[cs:ce]):
		// A column of numbers of another kind: its header wins over any
		// keyword elsewhere in the text.
		m.Confidence, m.Why.Demoted, m.Why.Label, m.Why.Column = Low, DemotedLabel, strings.TrimSpace(text[cs:ce]), true
	case kw >= 0:
		m.Confidence, m.Why.Keyword, m.Why.Column = High, s.kwPat[kw], true
	default:
		return false
	}
	return true
}

// otherColumn reports whether a cell next to a numeric value in its table
// column is a number of about the same width that fails identifier i's
// validator: a column of order numbers, counters or timestamps in which
// one value passes a checksum by chance (one in ten for Luhn), not a
// column of identifiers.
func otherColumn(text string, cells [2][2]int, i id, width int) bool {
	var buf [48]byte
	for _, c := range cells {
		cell := text[c[0]:c[1]]
		if len(cell) == 0 || len(cell) < width-2 || len(cell) > width+2 {
			continue
		}
		d := buf[:0]
		ok := true
		for k := 0; k < len(cell) && ok; k++ {
			switch ch := cell[k]; {
			case isDigit(ch):
				d = append(d, ch)
			case ch == ' ' || ch == '-' || ch == '"' || ch == '\r':
			default:
				ok = false
			}
		}
		if !ok || len(d) < 9 || len(d) > maxDigits {
			continue
		}
		if _, valid := checkNumeric(i, d); !valid {
			return true
		}
	}
	return false
}

// ownKey reports whether gap, between a keyword and a value, is the rest
// of the value's own key: "=" in "?pan=", "/" in "/card/", `_number": "`
// in a JSON key.
// stemBeforeExtension reports whether text[start:end] is a whole token
// but for a file extension after it: white space (or the start) before it,
// '.' and one to five letters or digits, then white space or the end.
func stemBeforeExtension(text string, start, end int) bool {
	if start > 0 && !isSpaceByte(text[start-1]) || end >= len(text) || text[end] != '.' {
		return false
	}
	e := end + 1
	for e < len(text) && e-end <= 6 && isAlnum(text[e]) {
		e++
	}
	return e-end-1 >= 1 && e-end-1 <= 5 && (e == len(text) || isSpaceByte(text[e]))
}

func ownKey(gap string) bool {
	if len(gap) > 12 {
		return false
	}
	for k := 0; k < len(gap); k++ {
		switch c := gap[k]; {
		case wordClass[c] != 0, c == '"', c == ':', c == '=', c == '/', c == '-', c == ' ' && k > 0 && gap[k-1] == ':':
		default:
			return false
		}
	}
	return true
}
