package detect

// A list of card numbers written on one line, each in 4-4-4-4 and all
// with the same separator ("4532 0151 1283 0366 5500 0000 0000 0004"),
// reads as one long run of four-digit groups. A window of a longer run is
// no value (a 20- or 22-digit tracking number written in fours must not
// yield a card), so a run is taken as a list only when it divides exactly,
// from its first group to its last, into complete card numbers that each
// pass the IIN ranges and Luhn, and there are at least two of them: about
// one random 16-digit number in 40 passes, two in a row one in 1,600, and
// a run that does not divide into sixteen-digit numbers never counts.

// minListCards is the fewest cards a run of four-digit groups must hold to
// be read as a list.
const minListCards = 2

// cardRun follows the run of four-digit groups of the current chain.
type cardRun struct {
	start int   // byte offset of the run's first group
	n     int   // groups in the run (0: no run)
	sep   uint8 // separator between its groups (sepNone until the second)
	lead  uint8 // separator before its first group (sepNone: the chain's first)
	ok    bool  // the run may start a list and every complete card so far is valid
}

// listSep reports whether separator kind k may join the groups of a list
// of cards: white space or a dash, not a line break (a column of
// four-digit numbers), '.' or '/'.
func listSep(k uint8) bool {
	return k == sepSpace || k == sepSpace2 || k == sepTab || k == sepDash || k == sepSpDash
}

// listStep adds group g, the newest of the chain's cnt groups (index
// cnt-1 in the ring), to the run.
func (sc *scanner) listStep(lr *cardRun, r *[16]group, cnt int) {
	g := &r[(cnt-1)&15]
	w := g.end - g.start
	switch {
	case w == 4 && lr.n == 1 && listSep(g.sep):
		// A group before the run joined the same way makes it part of a
		// longer number.
		lr.sep = g.sep
		lr.ok = lr.ok && lr.lead != g.sep
		lr.n++
	case w == 4 && lr.n > 1 && g.sep == lr.sep:
		lr.n++
	default:
		// g ends the run. A following group of fewer than four digits
		// joined the same way is the rest of a longer number.
		partial := lr.n > 0 && g.sep == lr.sep && w < 4
		sc.listEnd(lr, partial)
		*lr = cardRun{}
		if w == 4 {
			// A run that starts right after another four-digit group
			// (joined differently) or a group glued to a word does not
			// start a number of its own.
			prev := cnt >= 2 && r[(cnt-2)&15].end-r[(cnt-2)&15].start == 4
			*lr = cardRun{start: int(g.start), n: 1, lead: g.sep, ok: !prev && cnt-1 >= sc.first}
		}
		return
	}
	if lr.ok && lr.n%4 == 0 {
		d := sc.buf[:0]
		for x := cnt - 4; x < cnt; x++ {
			h := &r[x&15]
			d = append(d, sc.text[h.start:h.end]...)
		}
		if _, valid := checkCard(d); !valid {
			lr.ok = false
		}
	}
}

// listEnd offers the cards of a run that has ended, if it is a list.
func (sc *scanner) listEnd(lr *cardRun, partial bool) {
	if !lr.ok || partial || lr.n%4 != 0 || lr.n/4 < minListCards {
		return
	}
	t := sc.text
	p := lr.start
	// The cards of a list are joined to each other, not to an identifier:
	// the run as a whole is judged for identifier context.
	end := p
	for range lr.n - 1 {
		end += 4
		_, l := sepAt(t, end)
		end += l
	}
	end += 4
	demote := demoteNone
	if identifierContext(t, p, end) {
		demote = DemotedIdentifier
	}
	for range lr.n / 4 {
		qs := p
		for k := range 4 {
			p += 4
			if k < 3 {
				_, l := sepAt(t, p)
				p += l
			}
		}
		sc.numeric(1<<idCreditCard, qs, p, lr.sep, demote)
		_, l := sepAt(t, p)
		p += l
	}
}
