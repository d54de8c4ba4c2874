package detect

// Separator kinds between digit groups. NBSP and the Unicode thin, narrow
// and figure spaces count as a space.
const (
	sepNone   uint8 = iota
	sepSpace        // one space
	sepDash         // '-'
	sepDot          // '.'
	sepSlash        // '/'
	sepLine         // a line break, with or without a space before it (format=flowed)
	sepSpace2       // exactly two spaces
	sepTab          // a tab (table cells on one line)
	sepSpDash       // " - " (or " – ")
)

// sepRank orders separator kinds by how tightly they bind their groups:
// punctuation, then one space, then the wider white space, then a line
// break.
var sepRank = [...]uint8{sepSpace: 2, sepDash: 3, sepDot: 3, sepSlash: 3, sepLine: 0, sepSpace2: 1, sepTab: 1, sepSpDash: 1}

// isPunct reports whether kind k is '-', '.' or '/'.
func isPunct(k uint8) bool { return k == sepDash || k == sepDot || k == sepSlash }

// sepAt returns the kind and byte length of the separator at t[p], if any.
func sepAt(t string, p int) (uint8, int) {
	if p >= len(t) {
		return sepNone, 0
	}
	switch t[p] {
	case ' ':
		if p+1 < len(t) && t[p+1] == '\t' {
			return cellGap(t, p)
		}
		if p+2 < len(t) {
			switch t[p+1] {
			case ' ':
				if t[p+2] != ' ' {
					return sepSpace2, 2
				}
				return sepNone, 0
			case '-':
				if t[p+2] == ' ' {
					return sepSpDash, 3
				}
			case '\n':
				return sepLine, 2 + quotePrefix(t, p+2)
			case '\r':
				if t[p+2] == '\n' {
					return sepLine, 3 + quotePrefix(t, p+3)
				}
			case 0xE2: // an en dash, em dash or minus sign between spaces
				if p+4 < len(t) && isDashRune(t[p+1:p+4]) && t[p+4] == ' ' {
					return sepSpDash, 5
				}
			}
		}
		return sepSpace, 1
	case '\t':
		return cellGap(t, p)
	case '-':
		// A hyphen at the end of a line: the line was broken after it.
		if p+1 < len(t) && t[p+1] == '\n' {
			return sepDash, 2
		}
		if p+2 < len(t) && t[p+1] == '\r' && t[p+2] == '\n' {
			return sepDash, 3
		}
		return sepDash, 1
	case '.':
		return sepDot, 1
	case '/':
		return sepSlash, 1
	case '\n':
		return sepLine, 1 + quotePrefix(t, p+1)
	case '\r':
		if p+1 < len(t) && t[p+1] == '\n' {
			return sepLine, 2 + quotePrefix(t, p+2)
		}
	case 0xC2: // U+00A0 NO-BREAK SPACE
		if p+1 < len(t) && t[p+1] == 0xA0 {
			return sepSpace, 2
		}
	case 0xE2: // U+2007 FIGURE SPACE, U+2009 THIN SPACE, U+202F NARROW NO-BREAK SPACE
		if p+2 < len(t) && t[p+1] == 0x80 && (t[p+2] == 0x87 || t[p+2] == 0x89 || t[p+2] == 0xAF) {
			return sepSpace, 3
		}
		// An en dash, em dash or minus sign (what word processors make
		// of '-') is a dash.
		if p+2 < len(t) && isDashRune(t[p:p+3]) {
			return sepDash, 3
		}
	}
	return sepNone, 0
}

// quotePrefix returns the length of the quote prefix of a reply (">",
// "> ", ">> ") at the start of the line at t[p], if any: a value wrapped
// in a quoted reply continues after it.
func quotePrefix(t string, p int) int {
	q := p
	for q < len(t) && q-p < 8 && t[q] == '>' {
		q++
	}
	if q == p {
		return 0
	}
	if q < len(t) && t[q] == ' ' {
		q++
	}
	return q - p
}

// isDashRune reports whether the three bytes b are U+2013 EN DASH,
// U+2014 EM DASH or U+2212 MINUS SIGN.
func isDashRune(b string) bool {
	return b == "\u2013" || b == "\u2014" || b == "\u2212"
}

// cellGap returns the separator at t[p], a tab with at most two spaces on
// each side (" \t ": one table cell after another, as an editor or a
// copied table writes it): a sepTab. Two tabs are an empty cell between.
func cellGap(t string, p int) (uint8, int) {
	q := p
	for q < len(t) && q-p < 2 && t[q] == ' ' {
		q++
	}
	if q >= len(t) || t[q] != '\t' {
		return sepNone, 0
	}
	q++
	for r := q; r < len(t) && r-q < 2 && t[r] == ' '; r++ {
		q = r + 1
	}
	return sepTab, q - p
}

// group is one run of digits in a digit chain.
type group struct {
	start, end int
	sep        uint8 // kind of the separator before this group (sepNone for the first)
	uni        uint8 // groups ending here that are joined by one separator kind (at most 255)
}

// chain scans the digit chain that starts with the all-digit word
// text[i:j]: groups of digits joined by exactly one separator (space,
// NBSP, '-', '.', '/', or one line break). Every group is offered to the
// numeric identifiers as an unseparated value of its length, and every
// span of consecutive groups as a separated value when
//
//   - all separators in the span are of the same kind,
//   - the widths of its groups are a standard grouping of an identifier
//     (4-4-4-4, 4-6-5, 3-2-4, ...), and
//   - the span is not part of a longer number written the same way: the
//     group just before it (or after it), joined by the same separator,
//     must not have the width of the span's first (or last) group, and
//   - its edge groups do not belong to a neighbouring date, phone number,
//     amount or reference (see spanEdges).
//
// So "4111 1111 1111 1111 12/25" yields a card, while
// "4111 1111 1111 1111 1111" (twenty digits in fours) and
// "4111 1111\n1111 1111" (mixed separators) do not. Digits glued to letters
// are part of a word, not a group. It returns the end of the chain. The
// scanner asks idleChain first: most chains of prose hold no value.
func (sc *scanner) chain(i, j int) int {
	t := sc.text
	n := len(t)
	ring := &sc.ring
	cnt := 0
	g := group{start: i, end: j, uni: 1}
	// A run after '+' is an international phone number.
	// After a digit, '+' joins list items ("?c=4532...+5500..."): no phone.
	phone := i > 0 && t[i-1] == '+' && (i < 2 || !isDigit(t[i-2]))
	// A first group joined to a preceding token of letters and digits
	// ("a716-446655440000" in a UUID, "host1.2024") belongs to that token.
	sc.first = 0
	if gluedLeft(t, i) {
		sc.first = 1
	}
	list := sc.set.ids.has(idCreditCard) && !phone
	if list && i > 0 && t[i-1] == '(' && j-i == 4 {
		sc.parenCard(i, j)
	}
	var lr cardRun
	for {
		ring[cnt&15] = g
		cnt++
		// Most chains are a single group: a run needs two, so the first
		// group joins when the second comes.
		if list && cnt > 1 {
			if cnt == 2 {
				sc.listStep(&lr, ring, 1)
			}
			sc.listStep(&lr, ring, cnt)
		}
		if cnt >= 2 && !phone {
			sc.evalGroup(ring, cnt, cnt-2)
		}
		kind, l := sepAt(t, int(g.end))
		if kind == sepNone {
			break
		}
		s := int(g.end) + l
		if s >= n || wordClass[t[s]] != cDigit {
			break
		}
		e := s + 1
		digits := true
		for e < n {
			k := wordClass[t[e]]
			if k == 0 {
				break
			}
			if k != cDigit {
				digits = false
			}
			e++
		}
		if !digits {
			break
		}
		u := uint8(2)
		if g.sep == kind && g.uni < 255 {
			u = g.uni + 1
		}
		g = group{start: s, end: e, sep: kind, uni: u}
	}
	if !phone {
		sc.evalGroup(ring, cnt, cnt-1)
	}
	if lr.n > 1 {
		sc.listEnd(&lr, false)
	}
	return int(g.end)
}

// gluedLeft reports whether the digit group starting at i follows '-', '.'
// or '/' that follows a word with both letters and digits.
func gluedLeft(t string, i int) bool {
	if i < 2 || (t[i-1] != '-' && t[i-1] != '.' && t[i-1] != '/') {
		return false
	}
	var f uint8
	for p := i - 2; p >= 0 && i-p <= 64; p-- {
		k := wordClass[t[p]]
		if k == 0 {
			break
		}
		f |= k
	}
	return f&cDigit != 0 && f&(cUpper|cLower) != 0
}

// evalGroup offers the values that end with group e of the chain (cnt
// groups so far, e+1 is the right neighbour when e+1 < cnt).
func (sc *scanner) evalGroup(r *[16]group, cnt, e int) {
	s := sc.set
	g := &r[e&15]
	w := int(g.end - g.start)
	if e < sc.first {
		return
	}
	if w <= maxDigits {
		if m := s.byLen[w]; m != 0 {
			sc.numeric(m, int(g.start), int(g.end), sepNone, NotDemoted)
		}
		if e == cnt-1 && s.ids.has(idESDNI) {
			if w == 8 {
				sc.dniSeparated(int(g.start), int(g.end))
			} else if w == 3 && g.sep == sepDot && g.uni >= 3 && e-2 >= sc.first {
				// 12.345.678-Z
				if a, b := &r[(e-1)&15], &r[(e-2)&15]; a.end-a.start == 3 && b.end-b.start == 2 && (g.uni == 3 || r[(e-3)&15].end-r[(e-3)&15].start != 2) {
					sc.dniSeparated(b.start, int(g.end))
				}
			}
		}
	}
	if g.sep == sepLine && e == 1 && sc.first == 0 {
		sc.wrappedRun(r, cnt)
	}
	if w > maxGroup || e < 1 || e-sc.first+1 < s.minGroups[w] && !s.generalPath {
		return
	}
	for _, gr := range s.byLast[w] {
		k := len(gr.widths)
		if e-k+1 < sc.first {
			continue
		}
		// Strict: one separator kind. Wrapped: one odd join (see spanKind).
		kind, wrapped := g.sep, false
		if int(g.uni) < k {
			var ok bool
			if kind, ok = spanKind(r, e-k+1, e); !ok {
				continue
			}
			wrapped = true
		}
		ok := true
		for x := range k {
			h := &r[(e-k+1+x)&15]
			if int(h.end-h.start) != int(gr.widths[x]) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		first := &r[(e-k+1)&15]
		if e-k >= 0 && continues(first.sep, kind, wrapped) {
			if l := &r[(e-k)&15]; int(l.end-l.start) == int(gr.widths[0]) {
				continue
			}
		}
		if e+1 < cnt {
			if rn := &r[(e+1)&15]; continues(rn.sep, kind, wrapped) && int(rn.end-rn.start) == int(gr.widths[k-1]) {
				continue
			}
		}
		if !sc.spanEdges(r, cnt, e-k+1, e, kind) {
			continue
		}
		if wrapped && !runningText(sc.text, int(first.start), int(g.end)) {
			continue
		}
		// A separated value that starts with a year ("2026-4711-0815") is
		// as likely a reference number: not more than low on its own.
		demote := NotDemoted
		if isPunct(kind) && first.end-first.start == 4 && isYear(sc.text[first.start:first.end]) {
			demote = DemotedYear
		}
		sc.numeric(gr.ids, int(first.start), int(g.end), kind, demote)
	}
}

// spanKind returns the separator kind of the span of groups b..e whose
// joins are not all of one kind, if all but one are: the odd join is a
// line break (a line wrapped by a mail client, or by the sender, in place
// of any separator) or two spaces in a value separated by single spaces
// (what removing an HTML comment or tag between two groups leaves).
func spanKind(r *[16]group, b, e int) (uint8, bool) {
	var kinds [2]uint8
	var counts [2]int
	n := 0
	for x := b + 1; x <= e; x++ {
		s := r[x&15].sep
		switch {
		case n > 0 && kinds[0] == s:
			counts[0]++
		case n > 1 && kinds[1] == s:
			counts[1]++
		case n < 2:
			kinds[n], counts[n] = s, 1
			n++
		default:
			return 0, false
		}
	}
	if n != 2 {
		return 0, false
	}
	for _, o := range [2]int{0, 1} {
		k := 1 - o
		if counts[o] == 1 && (kinds[o] == sepLine || kinds[o] == sepSpace2 && kinds[k] == sepSpace) && kinds[k] != sepLine {
			return kinds[k], true
		}
	}
	return 0, false
}

// continues reports whether a neighbouring group joined by sep continues a
// span of separator kind: joined the same way, or, for a wrapped span, by
// a join that could be its odd one.
func continues(sep, kind uint8, wrapped bool) bool {
	if wrapped {
		return sep == kind || sep == sepLine || kind == sepSpace && sep == sepSpace2
	}
	return sep == kind
}

// wrappedRun offers the first two groups of the chain, joined by a line
// break, as one unseparated value: a digit run that a mail client (or a
// sender) broke across two lines ("4111111111⏎111111"). Only in running
// text, and only when nothing but a space-separated group (an expiry date,
// a CVV) follows.
func (sc *scanner) wrappedRun(r *[16]group, cnt int) {
	a, b := &r[0], &r[1]
	wa, wb := int(a.end-a.start), int(b.end-b.start)
	if wa < 2 || wb < 2 || wa+wb > maxDigits || sc.set.byLen[wa+wb] == 0 {
		return
	}
	if cnt > 2 && r[2].sep != sepSpace {
		return
	}
	if !runningText(sc.text, int(a.start), int(b.end)) || identifierContext(sc.text, int(a.start), int(b.end)) {
		return
	}
	// The last cell of one row of a delimited table and the first of the
	// next are two values, not one wrapped.
	// (A comma and a space after a value are prose.)
	if t := sc.text; a.start > 0 && isCellDelim(t[a.start-1]) ||
		int(b.end)+1 < len(t) && isCellDelim(t[b.end]) && t[b.end+1] != ' ' {
		return
	}
	sc.numeric(sc.set.byLen[wa+wb], int(a.start), int(b.end), sepNone, NotDemoted)
}

// isCellDelim reports whether c delimits the cells of a table row.
func isCellDelim(c byte) bool { return c == ',' || c == ';' || c == '|' || c == '\t' }

// runningText reports whether the value text[start:end], which spans a
// line break, stands in running text rather than in a column of numbers:
// its first line has other text before it, or its last line other text
// after it.
func runningText(t string, start, end int) bool {
	for p := start - 1; p >= 0 && start-p <= 2*ctxReach; p-- {
		if c := t[p]; c == '\n' {
			break
		} else if !isSpaceByte(c) {
			return true
		}
	}
	for p := end; p < len(t) && p-end <= 2*ctxReach; p++ {
		if c := t[p]; c == '\n' || c == '\r' {
			break
		} else if !isSpaceByte(c) {
			return true
		}
	}
	return false
}

// tighter reports whether separator kind ext binds its groups more
// closely than kind span: '-', '.' and '/' bind more closely than a space,
// a space more closely than a line break, and two different kinds of
// punctuation never belong to the same value.
func tighter(ext, span uint8) bool {
	if isPunct(ext) {
		return ext != span
	}
	return sepRank[ext] > sepRank[span]
}

// isYear reports whether the four digits d are a plausible year (1900-2099).
func isYear(d string) bool {
	return (d[0] == '1' && d[1] == '9') || (d[0] == '2' && d[1] == '0')
}

// spanEdges reports whether the separated value made of groups b..e of
// the chain (cnt groups so far) stands on its own: its edge groups are not
// held by a neighbouring number that belongs to something else.
//
//   - An edge group joined to its neighbour more tightly than the value's
//     own separator belongs to that neighbour: in "020 1234 5678
//     2026-03-04" the 2026 is the year of a date, in "04.03.2026 1234 5678"
//     too.
//   - A year joined to a one- or two-digit group by '-', '.' or '/' is a
//     date, whatever separator the value uses ("...-2026-03-04").
//   - A value after a group that starts with 0, joined the same way, is the
//     rest of a national phone number ("020 1234 5678 2026").
//   - A last group followed by a decimal comma and one or two digits is an
//     amount ("123 456 789,00"); one followed by '-', '.' or '/' and a word
//     of letters and digits belongs to that word ("2026-W10").
func (sc *scanner) spanEdges(r *[16]group, cnt, b, e int, sep uint8) bool {
	t := sc.text
	fg, lg := &r[b&15], &r[e&15]
	if b > 0 {
		pg := &r[(b-1)&15]
		if tighter(fg.sep, sep) {
			return false
		}
		if isPunct(fg.sep) && pg.end-pg.start <= 2 && fg.end-fg.start == 4 && isYear(t[fg.start:fg.end]) {
			return false
		}
		if fg.sep == sep && t[pg.start] == '0' && pg.end-pg.start >= 2 && pg.end-pg.start <= 5 {
			return false
		}
	}
	if e+1 < cnt {
		ng := &r[(e+1)&15]
		if tighter(ng.sep, sep) {
			return false
		}
		if isPunct(ng.sep) && ng.end-ng.start <= 2 && lg.end-lg.start == 4 && isYear(t[lg.start:lg.end]) {
			return false
		}
		return true
	}
	p := int(lg.end)
	if p+1 < len(t) {
		switch t[p] {
		case ',':
			q := p + 1
			for q < len(t) && q-p <= 3 && isDigit(t[q]) {
				q++
			}
			if n := q - p - 1; n >= 1 && n <= 2 && (q >= len(t) || !isDigit(t[q])) {
				return false
			}
		case '-', '.', '/':
			var f uint8
			for q := p + 1; q < len(t) && q-p <= 64; q++ {
				k := wordClass[t[q]]
				if k == 0 {
					break
				}
				f |= k
			}
			if f&cDigit != 0 && f&(cUpper|cLower) != 0 {
				return false
			}
		}
	}
	return true
}

// demoteNone is a demotion the caller passes to numeric when it has
// already judged the identifier context (of a larger run) and found none.
const demoteNone Demotion = 255

// numeric validates the digits of text[start:end] for the identifiers in
// m: unseparated when sep is sepNone, else a standard grouping separated
// by sep. demote is the negative context the caller found (a year-first
// reference); identifier context is looked at here unless the caller
// passes demoteNone.
func (sc *scanner) numeric(m idMask, start, end int, sep uint8, demote Demotion) {
	d := sc.buf[:0]
	for p := start; p < end; p++ {
		if c := sc.text[p]; c >= '0' && c <= '9' {
			d = append(d, c)
		}
	}
	f := formOf(sep != sepNone, sep)
	ctx := false // the demotion is identifier context found here
	if demote == NotDemoted && identifierContext(sc.text, start, end) {
		demote, ctx = DemotedIdentifier, true
	}
	if demote == demoteNone {
		demote = NotDemoted
	}
	// Digits that are a valid card and also fit a weaker national
	// number's check (the NIR's key passes once in 97) are read as the
	// card: the other reading stays, at low.
	card := m.has(idCreditCard) && m.has(idFRNIR) && func() bool { _, ok := checkNumeric(idCreditCard, d); return ok }()
	for m != 0 {
		i := id(trailingZeros(m))
		m &^= 1 << i
		spec := registry[i].numeric
		test, ok := checkNumeric(i, d)
		if !ok {
			continue
		}
		conf := base(i, f)
		sc.emit(i, start, end, conf, test, maskDigits(d, spec.keep), keyOf(i, d))
		if card && i == idFRNIR && demote == NotDemoted {
			w := &sc.dst[len(sc.dst)-1]
			w.Confidence, w.Why.Demoted = Low, DemotedCard
			continue
		}
		// A valid card among other valid cards in a compound name, or
		// under an id key whose other values are all valid cards, is one
		// of a list (looked at only for valid cards: the look is bounded
		// but not free).
		if demote != NotDemoted && !(ctx && i == idCreditCard && (cardCompound(sc.text, start, end) || keySiblingsAreCards(sc.text, start, end) || queryCardList(sc.text, start, end))) {
			w := &sc.dst[len(sc.dst)-1]
			w.Confidence, w.Why.Demoted = Low, demote
		}
	}
}

func trailingZeros(m idMask) int {
	n := 0
	for m&1 == 0 {
		m >>= 1
		n++
	}
	return n
}
