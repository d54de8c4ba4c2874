package detect

// idleChain reports a chain that can hold no value, and its end. The
// values a chain offers are
//
//   - a single group of a width in Set.lone (an unseparated identifier,
//     a DNI's eight digits),
//   - consecutive groups in the widths of a grouping (Set.byLast), or of
//     a separated DNI (2.3.3),
//   - the first two groups joined by a line break (a wrapped value),
//   - a card list, thirteen digits or more, and a card after '(',
//
// each at least Set.minDigits digits. So a chain of one group not in lone
// ("481 x", "depot 49,"), of fewer digits than minDigits ("879.92"), or of
// fewer than thirteen with none of these shapes ("2026-05-19",
// "61006/2026") holds none. It walks the groups as chain does and gives
// up as soon as that cannot be shown. A '(' before the chain is left to
// the general path by the caller.
func (sc *scanner) idleChain(i, j int) (int, bool) {
	const cardDigits = 13 // the fewest digits of a card list
	t := sc.text
	n := len(t)
	s := sc.set
	total, end := j-i, j
	var widths [cardDigits]byte
	widths[0] = byte(min(total, 255))
	wrapped := false
	for groups := 1; ; groups++ {
		kind, l := sepAt(t, end)
		p := end + l
		e := p + 1
		more := kind != sepNone && p < n && wordClass[t[p]] == cDigit
		for more && e < n {
			k := wordClass[t[e]]
			if k == 0 {
				break
			}
			more = k == cDigit
			e++
		}
		if !more {
			switch {
			case groups == 1:
				return end, total > maxDigits || !s.lone[total]
			case total < s.minDigits:
				return end, true
			case wrapped:
				return 0, false
			}
			return end, !s.shaped(widths[:groups])
		}
		total += e - p
		if total >= cardDigits {
			return 0, false
		}
		widths[groups] = byte(e - p)
		wrapped = wrapped || groups == 1 && kind == sepLine
		end = e
	}
}

// shaped reports whether the group widths of a chain hold a single group
// in lone or consecutive groups in the widths of a grouping or of a
// separated DNI.
func (s *Set) shaped(widths []byte) bool {
	for e, w := range widths {
		if s.lone[w] {
			return true
		}
		if int(w) >= len(s.byLast) {
			continue
		}
	groupings:
		for _, gr := range s.byLast[w] {
			k := len(gr.widths)
			if k > e+1 {
				continue
			}
			for x := range k - 1 { // the last width is w
				if widths[e-k+1+x] != gr.widths[x] {
					continue groupings
				}
			}
			return true
		}
		if w == 3 && e >= 2 && s.ids.has(idESDNI) && string(widths[e-2:e+1]) == "\x02\x03\x03" {
			return true
		}
	}
	return false
}
