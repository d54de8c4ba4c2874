package detect

import (
	"slices"
	"strings"
)

// Runs of groups of one width that hold card numbers.
//
// A list of card numbers written on one line, each in 4-4-4-4 and all
// with the same separator ("4532 0151 1283 0366 5500 0000 0000 0004"),
// reads as one long run of four-digit groups. A window of a longer run is
// no value (a 20- or 22-digit tracking number written in fours must not
// yield a card), so a run is taken as a list only when it divides exactly,
// from its first group to its last, into complete card numbers that each
// pass the IIN ranges and Luhn, and there are at least two of them: about
// one random 16-digit number in 40 passes, two in a row one in 1,600, and
// a run that does not divide into sixteen-digit numbers never counts.
//
// A list of cards written in eight-digit halves, each half on a line of
// its own (a <br> inside each number) or in a table cell of its own, is a
// run of eight-digit groups joined by line breaks or tabs: it is taken
// when the run divides exactly into two or more valid cards, like a list
// in fours. (A column of 8-digit dates never joins: 20xx is no card
// prefix.)
//
// A card written in pairs ("45 32 01 51 12 83 03 66") or digit by digit
// ("4 5 3 2 ...") is a run of eight pairs or sixteen single digits: no
// phone number or date is written that way (a French phone number is five
// pairs). Such a run is one card, or a list of sixteen-digit cards, when
// the whole run is; a run of another length (13 to 19 digits) is one card
// when it passes.

// minListCards is the fewest cards a run of four-digit groups must hold to
// be read as a list (a single 4-4-4-4 is a standard grouping, see chain).
const minListCards = 2

// cardRun follows the run of equal groups of the current chain.
type cardRun struct {
	start int   // byte offset of the run's first group
	n     int   // groups in the run (0: no run)
	w     int   // digits per group: 1, 2 or 4
	sep   uint8 // separator between its groups (sepNone until the second)
	lead  uint8 // separator before its first group (sepNone: the chain's first)
	ok    bool  // the run may start a list and every complete card so far is valid
}

// listSep reports whether separator kind k may join the groups of a list
// of cards: white space or a dash, not a line break (a column of
// numbers), '.' or '/'.
func listSep(k uint8) bool {
	return k == sepSpace || k == sepSpace2 || k == sepTab || k == sepDash || k == sepSpDash
}

// halfSep reports whether separator kind k may join the eight-digit
// halves of cards in a list: a line break (a <br> or a wrapped line) or a
// tab (adjacent table cells), between halves and between cards alike.
func halfSep(k uint8) bool { return k == sepLine || k == sepTab }

// listStep adds group g, the newest of the chain's cnt groups (index
// cnt-1 in the ring), to the run.
func (sc *scanner) listStep(lr *cardRun, r *[16]group, cnt int) {
	g := &r[(cnt-1)&15]
	w := int(g.end - g.start)
	switch {
	case w == lr.w && lr.n == 1 && (listSep(g.sep) || w == 8 && halfSep(g.sep)):
		// A group before the run joined the same way makes it part of a
		// longer number.
		lr.sep = g.sep
		lr.ok = lr.ok && lr.lead != g.sep
		lr.n++
	case w == lr.w && lr.n > 1 && (g.sep == lr.sep || w == 8 && halfSep(g.sep)):
		lr.n++
	default:
		// g ends the run. A following group joined the same way makes the
		// run part of a longer number.
		if lr.n > 1 {
			sc.listEnd(lr, g.sep == lr.sep || lr.w == 8 && halfSep(g.sep))
		}
		lr.n = 0
		if w == 1 || w == 2 || w == 4 || w == 8 {
			// A run that starts right after a group of its width joined
			// differently on the same line, or after a group glued to a
			// word, does not start a number of its own.
			prev := cnt >= 2 && (g.sep != sepLine || w == 8) && int(r[(cnt-2)&15].end-r[(cnt-2)&15].start) == w
			lr.start, lr.n, lr.w, lr.sep, lr.lead, lr.ok = int(g.start), 1, w, sepNone, g.sep, !prev && cnt-1 >= sc.first
		}
		return
	}
	// Every complete sixteen digits must be a card (the ring holds the
	// last sixteen groups: enough for sixteen single digits).
	if per := 16 / lr.w; lr.ok && lr.n%per == 0 {
		d := sc.buf[:0]
		for x := cnt - per; x < cnt; x++ {
			h := &r[x&15]
			d = append(d, sc.text[h.start:h.end]...)
		}
		if _, valid := checkCard(d); !valid {
			lr.ok = false
		}
	}
}

// listEnd offers the cards of a run that has ended, if it is a list;
// partial says a group joined the same way follows it.
func (sc *scanner) listEnd(lr *cardRun, partial bool) {
	if lr.n < 2 || partial {
		return
	}
	digits := lr.n * lr.w
	per := 16 / lr.w
	switch {
	case lr.w < 4 && digits != 16 && digits >= 13 && digits <= 19:
		// One card of another length, written in pairs or digit by digit;
		// numeric validates it.
		per = lr.n
	case !lr.ok || digits%16 != 0:
		return
	case lr.w >= 4 && digits/16 < minListCards:
		return
	}
	t := sc.text
	p := lr.start
	// The cards of a list are joined to each other, not to an identifier:
	// the run as a whole is judged for identifier context.
	end := p
	for range lr.n - 1 {
		end += lr.w
		_, l := sepAt(t, end)
		end += l
	}
	end += lr.w
	demote := demoteNone
	if identifierContext(t, p, end) {
		demote = DemotedIdentifier
	}
	for range lr.n / per {
		qs := p
		for k := range per {
			p += lr.w
			if k < per-1 {
				_, l := sepAt(t, p)
				p += l
			}
		}
		if m := sc.set.byLen[per*lr.w] & (1 << idCreditCard); m != 0 {
			sep := lr.sep
			if lr.w == 8 {
				sep = sepNone // halves: no standard grouping
			}
			sc.numeric(m, qs, p, sep, demote)
		}
		_, l := sepAt(t, p)
		p += l
	}
}

// compoundReach bounds how far cardCompound looks on each side of a value.
const compoundReach = 160

// cardCompound reports whether the value text[start:end] is one of the
// numeric pieces of a compound name ("4532015112830366-5500000000000004.txt",
// "card-numbers-4532015112830366_5500000000000004") whose numeric pieces
// are two or more complete card numbers and nothing else. An identifier
// holds one number among its words ("testcase-minimized-...-5390364397928448");
// two or more valid cards side by side are a list, whatever joins them.
//
// A compound in a path or URL (after '/' or '\\') stays an identifier: a
// path component is named by whoever made the path, and media and
// exports are named after numbers.
func cardCompound(t string, start, end int) bool {
	joiner := func(c byte) bool { return c == '-' || c == '_' || c == '.' }
	if start > 0 && !joiner(t[start-1]) && wordClass[t[start-1]] != 0 || end < len(t) && !joiner(t[end]) && wordClass[t[end]] != 0 {
		return false
	}
	s, e := start, end
	for s > 0 && start-s < compoundReach && (isAlnum(t[s-1]) || joiner(t[s-1])) {
		s--
	}
	for e < len(t) && e-end < compoundReach && (isAlnum(t[e]) || joiner(t[e])) {
		e++
	}
	if s > 0 && (t[s-1] == '/' || t[s-1] == '\\') || e < len(t) && (t[e] == '/' || t[e] == '\\') {
		return false
	}
	cards := 0
	var buf [24]byte
	for p := s; p < e; {
		q := p
		digits := true
		for q < e && !joiner(t[q]) {
			digits = digits && isDigit(t[q])
			q++
		}
		if digits && q > p {
			if q-p < 13 || q-p > 19 {
				return false
			}
			if _, ok := checkCard(append(buf[:0], t[p:q]...)); !ok {
				return false
			}
			cards++
		}
		p = q + 1
	}
	return cards >= 2
}

// underscored offers the card numbers in the word text[i:j] of digit
// groups joined by '_': the whole word when its groups are a standard
// grouping of a card ("4459_7238_1678_2598"), or each group when every
// group is as long as a card ("4532015112830366_5500000000000004").
func (sc *scanner) underscored(i, j int) {
	t := sc.text
	var widths [8]byte
	n, long := 0, true
	for p := i; p < j; {
		q := p
		for q < j && isDigit(t[q]) {
			q++
		}
		if q == p || n == len(widths) || q < j && q+1 == j {
			return // an empty group, too many, or a trailing '_'
		}
		widths[n] = byte(q - p)
		n++
		long = long && q-p >= 13 && q-p <= maxDigits
		p = q + 1
	}
	card := idMask(1) << idCreditCard
	for _, g := range cardNumberSpec.groupings {
		if string(widths[:n]) == g {
			if m := sc.set.byLen[j-i-n+1] & card; m != 0 {
				sc.numeric(m, i, j, sepDash, NotDemoted)
			}
			return
		}
	}
	if !long || n < 2 {
		return
	}
	for p := i; p < j; {
		q := p
		for q < j && isDigit(t[q]) {
			q++
		}
		if m := sc.set.byLen[q-p] & card; m != 0 {
			sc.numeric(m, p, q, sepNone, NotDemoted)
		}
		p = q + 1
	}
}

// parenCard offers the card written like a phone number, its first group
// in parentheses: "(4634) 4940-4085-8673" (a space, then the other groups
// joined by '-' or spaces). text[i:j] is the four digits after '('. The
// widths must be a card grouping and the value must end there; no phone
// number is written 4-4-4-4.
func (sc *scanner) parenCard(i, j int) {
	t := sc.text
	if j+2 >= len(t) || t[j] != ')' || t[j+1] != ' ' || !isDigit(t[j+2]) {
		return
	}
	var widths [6]byte
	widths[0] = 4
	n := 1
	var sep byte
	p := j + 2
	for {
		q := p
		for q < len(t) && isDigit(t[q]) {
			q++
		}
		if n == len(widths) {
			return
		}
		widths[n] = byte(q - p)
		n++
		if q+1 < len(t) && (t[q] == '-' || t[q] == ' ') && isDigit(t[q+1]) && (sep == 0 || t[q] == sep) {
			sep = t[q]
			p = q + 1
			continue
		}
		if q < len(t) && (wordClass[t[q]] != 0 || t[q] == '-' && q+1 < len(t) && isDigit(t[q+1])) {
			return
		}
		p = q
		break
	}
	for _, g := range cardNumberSpec.groupings {
		if string(widths[:n]) == g {
			if m := sc.set.byLen[sumWidths(widths[:n])] & (1 << idCreditCard); m != 0 {
				sc.numeric(m, i, p, sepDash, NotDemoted)
			}
			return
		}
	}
}

func sumWidths(w []byte) int {
	n := 0
	for _, x := range w {
		n += int(x)
	}
	return n
}

// siblingReach bounds how far keySiblingsAreCards looks on each side of a
// value for other values of its key, and maxSiblings how many it reads:
// the work per candidate stays constant.
const (
	siblingReach = 1024
	maxSiblings  = 8
)

// keySiblingsAreCards reports whether the value at t[start:end], the value
// of a JSON or YAML key that names an identifier ("id": 4532…), has at
// least two other distinct values of the same key nearby and every one of
// them is a valid card number. API ids of that shape pass the card checks
// about once in thirty; a run of them that all do is a list of cards
// written under an id key, not a list of ids.
func keySiblingsAreCards(t string, start, end int) bool {
	key, ok := structuredKeyName(t, start)
	if !ok {
		return false
	}
	lo, hi := max(0, start-siblingReach), min(len(t), end+siblingReach)
	own := t[start:end]
	seen := make([]string, 0, maxSiblings)
	var buf [24]byte
	for p := lo; p < hi && len(seen) < maxSiblings; {
		k := strings.Index(t[p:hi], key)
		if k < 0 {
			break
		}
		q := p + k + len(key)
		p = q
		if p-len(key) > 0 && t[p-len(key)-1] != '"' && wordClass[t[p-len(key)-1]] != 0 {
			continue // the key is the tail of a longer word
		}
		// "key": value, key: value, with optional quotes around the value.
		for q < hi && (t[q] == '"' || t[q] == ' ') && q-p < 4 {
			q++
		}
		if q >= hi || t[q] != ':' {
			continue
		}
		q++
		for q < hi && (t[q] == '"' || t[q] == ' ') && q-p < 10 {
			q++
		}
		d := q
		for d < hi && d-q <= 19 && isDigit(t[d]) {
			d++
		}
		if d == q || d < len(t) && isDigit(t[d]) {
			continue
		}
		v := t[q:d]
		if v == own || slices.Contains(seen, v) {
			continue
		}
		if len(v) < 13 || len(v) > 19 {
			return false
		}
		if _, ok := checkCard(append(buf[:0], v...)); !ok {
			return false
		}
		seen = append(seen, v)
	}
	return len(seen) >= 2
}

// queryCardList reports whether the value text[start:end] is one item of
// a URL query value that lists two or more complete card numbers and
// nothing else ("?c=4532015112830366+5500000000000004", items joined by
// '+' or ','). A query value holding one number is
// an identifier as any other; a list of valid cards is a list of cards.
func queryCardList(t string, start, end int) bool {
	// Back to the '=' over list items and separators.
	eq := start
	for eq > 0 && start-eq < compoundReach && t[eq-1] != '=' {
		if c := t[eq-1]; !isDigit(c) && !querySep(c) {
			return false
		}
		eq--
	}
	if eq == 0 || t[eq-1] != '=' || eq < 3 || !isAlnum(t[eq-2]) {
		return false
	}
	cards := 0
	var buf [24]byte
	for p := eq; p < len(t) && p-eq < 4*compoundReach; {
		q := p
		for q < len(t) && isDigit(t[q]) {
			q++
		}
		if q-p < 13 || q-p > 19 {
			return false
		}
		if _, ok := checkCard(append(buf[:0], t[p:q]...)); !ok {
			return false
		}
		cards++
		switch {
		case q < len(t) && querySep(t[q]):
			p = q + 1
		default:
			// The value ends: '&', '#', a quote, white space or the text.
			return cards >= 2 && (q == len(t) || !isAlnum(t[q]))
		}
	}
	return false
}

func querySep(c byte) bool { return c == '+' || c == ',' }
