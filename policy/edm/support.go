package edm

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxSupportWords bounds the words joined into one digits, phone or
// alphanumeric candidate near an anchor ("+1 (555) 010 4477").
const maxSupportWords = 6

// supporting looks for the counted supporting columns of row in
// text[lo:hi] (the anchor's window) and returns the columns found. Only
// the row's own tags are compared, so a value of another row never
// counts. The window is read once per class, each word starting at most
// maxNameTokens candidates.
//
// A word counts for one column at most, and words inside the anchor
// (a name inside an address) count for none. span grows to cover every
// value found, so that the match masks all of them.
func (s *scan) supporting(row uint32, lo, hi int, a anchor, found uint32, span *[2]int) uint32 {
	m := s.m
	x := m.idx
	w := s.text[lo:hi]
	if !s.step(len(w)) {
		return found
	}
	type word struct{ start, end int }
	var ws []word
	start := -1
	for i := 0; i < len(w); {
		r, n := rune(w[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(w[i:])
		}
		isw := r < utf8.RuneSelf && isWordByte(byte(r)) || r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r))
		switch {
		case isw && start < 0:
			start = i
		case !isw && start >= 0:
			ws = append(ws, word{start, i})
			start = -1
		}
		i += n
	}
	if start >= 0 {
		ws = append(ws, word{start, len(w)})
	}
	aLo, aHi := a.start-lo, a.end-lo
	used := make([]bool, len(ws))
	for k, x := range ws {
		if x.start < aHi && x.end > aLo {
			used[k] = true
		}
	}
	row0 := int(row) * x.nsup
	// check compares a candidate made of words i..i+n-1 (an address:
	// none), at w[vs:ve], with the row's cells of class c.
	check := func(c Class, canon []byte, i, n, vs, ve int) bool {
		for k := i; k < i+n; k++ {
			if used[k] {
				return false
			}
		}
		tg := x.key.supportTag(c, canon, s.hbuf)
		if tg == 0 {
			tg = 1
		}
		for si, ci := range x.supCol {
			col := &x.Meta.Columns[ci]
			if col.class == c && m.countCols&(1<<ci) != 0 && found&(1<<ci) == 0 && x.support[row0+si] == tg {
				found |= 1 << ci
				for k := i; k < i+n; k++ {
					used[k] = true
				}
				span[0], span[1] = min(span[0], lo+vs), max(span[1], lo+ve)
				return true
			}
		}
		return false
	}
	has := func(c Class) bool { return m.supClasses&(1<<c) != 0 }
	maxTok := 1
	for _, ci := range x.supCol {
		if x.Meta.Columns[ci].class == Name {
			maxTok = max(maxTok, x.Meta.Columns[ci].MaxTokens)
		}
	}
	buf := make([]byte, 0, 128)
	for i := range ws {
		if !s.step(maxTok + maxSupportWords) {
			return found
		}
		if has(Name) {
			buf = buf[:0]
			for n := 0; n < maxTok && i+n < len(ws); n++ {
				if n > 0 {
					buf = append(buf, ' ')
				}
				buf = lowerAppend(buf, w[ws[i+n].start:ws[i+n].end])
				if check(Name, buf, i, n+1, ws[i].start, ws[i+n].end) {
					break
				}
			}
		}
		if has(Date) && i+2 < len(ws) {
			for _, d := range parseDates(strings.ToLower(w[ws[i].start:ws[i+2].end]), "") {
				check(Date, []byte(d), i, 3, ws[i].start, ws[i+2].end)
			}
		}
		if has(Digits) || has(Phone) || has(Alnum) {
			buf = buf[:0]
			digits := true
			for n := 0; n < maxSupportWords && i+n < len(ws); n++ {
				wd := w[ws[i+n].start:ws[i+n].end]
				buf = lowerAppend(buf, wd)
				if len(buf) > maxValueLen {
					break
				}
				digits = digits && strings.Trim(wd, "0123456789") == ""
				if digits && has(Digits) {
					check(Digits, buf, i, n+1, ws[i].start, ws[i+n].end)
				}
				if digits && has(Phone) {
					if p := phoneCanon(string(buf)); p != "" {
						check(Phone, []byte(p), i, n+1, ws[i].start, ws[i+n].end)
					}
				}
				if has(Alnum) {
					check(Alnum, buf, i, n+1, ws[i].start, ws[i+n].end)
				}
			}
		}
	}
	if has(Email) {
		for i := strings.IndexByte(w, '@'); i >= 0; {
			ls := i
			for ls > 0 && i-ls < maxLocal && emailLocal(w[ls-1]) {
				ls--
			}
			de := i + 1
			for de < len(w) && de-i <= maxDomain && (isWordByte(w[de]) || w[de] == '.' || w[de] == '-') {
				de++
			}
			s.step(de - ls)
			e := de
			for e > i+1 && w[e-1] == '.' {
				e--
			}
			for ls < i && w[ls] == '.' {
				ls++
			}
			if ls < i && e > i+1 && (ls+lo >= a.end || e+lo <= a.start) {
				check(Email, lowerAppend(nil, w[ls:e]), 0, 0, ls, e)
			}
			next := strings.IndexByte(w[i+1:], '@')
			if next < 0 {
				break
			}
			i += 1 + next
		}
	}
	return found
}

// lowerAppend appends the lower-case form of s.
func lowerAppend(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(b, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 32
		}
		b = append(b, c)
	}
	return b
}
