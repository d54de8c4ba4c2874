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
	t := sc.text
	n := len(t)
	s := sc.set
	total, end := j-i, j
	// The widths so far as a composition code (see shapeCode); only read
	// once total is below cardDigits, when every shift is in range.
	code := uint(1)<<min(total, cardDigits) | 1
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
			return end, !s.shapes.has(code)
		}
		total += e - p
		if total >= cardDigits {
			return 0, false
		}
		code = code<<(e-p) | 1
		wrapped = wrapped || groups == 1 && kind == sepLine
		end = e
	}
}

// cardDigits is the fewest digits of a card list: a chain with fewer
// digits holds a value only in its shapes (see idleChain).
const cardDigits = 13

// shapeSet holds the compositions of fewer than cardDigits digits into
// groups whose widths are shaped (see Set.shaped), by shapeCode: a lookup
// instead of a walk over the groupings for every chain of prose numbers.
type shapeSet [1 << cardDigits / 64]uint64

// shapeCode numbers a composition of fewer than cardDigits digits: a
// leading 1, then for each group its width in bits, the last of them 1.
// Widths 4,2,2 are 1 0001 01 01. Distinct compositions get distinct
// codes below 1<<cardDigits.
func shapeCode(widths []byte) uint {
	code := uint(1)
	for _, w := range widths {
		code = code<<w | 1
	}
	return code
}

func (ss *shapeSet) has(code uint) bool { return ss[code/64&(uint(len(ss))-1)]&(1<<(code%64)) != 0 }

// newShapeSet enumerates every composition of fewer than cardDigits digits
// and keeps those shaped says hold a value.
func (s *Set) newShapeSet() {
	var widths [cardDigits]byte
	var walk func(k, total int)
	walk = func(k, total int) {
		if k > 0 && s.shaped(widths[:k]) {
			c := shapeCode(widths[:k])
			s.shapes[c/64] |= 1 << (c % 64)
		}
		for w := 1; total+w < cardDigits; w++ {
			widths[k] = byte(w)
			walk(k+1, total+w)
		}
	}
	walk(0, 0)
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
