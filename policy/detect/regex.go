package detect

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// Regex finds the matches of a regular expression (Go RE2 syntax: no
// backreferences, linear time). When every match must contain a literal
// string, the text is first searched for that literal and the regular
// expression runs only when it is present. When every match starts with a
// literal and its matches are short (at most maxAnchoredLen bytes), the
// expression runs anchored at each occurrence of the literal only, on at
// most that many bytes, so the cost stays linear in the text.
type Regex struct {
	name     string
	re       *regexp.Regexp
	anchored *regexp.Regexp // ^(?:pattern), when prefix is set
	maxLen   int            // longest match in bytes, when prefix is set
	conf     Confidence
	literal  string // required literal (lower-case when fold), "" if none
	prefix   bool   // every match starts with literal
	fold     bool   // literal matches ASCII case-insensitively
}

// NewRegex compiles pattern into a detector named name whose matches have
// confidence conf (0 means Medium). A bad pattern is an error.
func NewRegex(name, pattern string, conf Confidence) (Detector, error) {
	if name == "" {
		return nil, errors.New("detect: regex detector without a name")
	}
	if conf == 0 {
		conf = Medium
	}
	if conf < Low || conf > High {
		return nil, fmt.Errorf("detect: regex detector %s: bad confidence %d", name, int(conf))
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("detect: regex detector %s: %w", name, err)
	}
	r := &Regex{name: name, re: re, conf: conf}
	if st, err := syntax.Parse(pattern, syntax.Perl); err == nil {
		st = st.Simplify()
		if lit, fold := prefixLiteral(st); len(lit) >= 2 {
			if n := maxLength(st); n >= 0 && n <= maxAnchoredLen {
				if a, err := regexp.Compile(`^(?:` + pattern + `)`); err == nil {
					r.literal, r.fold, r.prefix, r.anchored, r.maxLen = lit, fold, true, a, n
				}
			}
		}
		if !r.prefix {
			if lit, fold := requiredLiteral(st); len(lit) >= 2 {
				r.literal, r.fold = lit, fold
			}
		}
		if r.fold {
			r.literal = string(foldASCII([]byte(r.literal)))
		}
	}
	return r, nil
}

// maxAnchoredLen bounds the matches of expressions run anchored at their
// prefix literal.
const maxAnchoredLen = 256

// maxLength returns the longest match of re in bytes, or -1 when
// repetition makes it unbounded.
func maxLength(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return 0
	case syntax.OpLiteral:
		return len(re.Rune) * utf8.UTFMax
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax
	case syntax.OpCapture, syntax.OpQuest:
		return maxLength(re.Sub[0])
	case syntax.OpRepeat:
		if re.Max < 0 {
			return -1
		}
		n := maxLength(re.Sub[0])
		if n < 0 || re.Max > maxAnchoredLen {
			return -1
		}
		return n * re.Max
	case syntax.OpConcat, syntax.OpAlternate:
		total := 0
		for _, sub := range re.Sub {
			n := maxLength(sub)
			if n < 0 {
				return -1
			}
			if re.Op == syntax.OpConcat {
				total += n
			} else {
				total = max(total, n)
			}
		}
		return total
	}
	return -1 // star, plus
}

// prefixLiteral returns the literal every match of re starts with.
func prefixLiteral(re *syntax.Regexp) (string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return requiredLiteral(re)
	case syntax.OpCapture:
		return prefixLiteral(re.Sub[0])
	case syntax.OpConcat:
		if len(re.Sub) > 0 {
			return prefixLiteral(re.Sub[0])
		}
	}
	return "", false
}

// requiredLiteral returns the longest literal string that every match of
// re contains, and whether it is case-insensitive.
func requiredLiteral(re *syntax.Regexp) (string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		fold := re.Flags&syntax.FoldCase != 0
		s := string(re.Rune)
		if fold && !isASCII(s) {
			return "", false // non-ASCII case folding is not done by the prefilter
		}
		return s, fold
	case syntax.OpCapture:
		return requiredLiteral(re.Sub[0])
	case syntax.OpPlus:
		return requiredLiteral(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiteral(re.Sub[0])
		}
	case syntax.OpConcat:
		best, bestFold := "", false
		for _, sub := range re.Sub {
			if s, f := requiredLiteral(sub); len(s) > len(best) {
				best, bestFold = s, f
			}
		}
		return best, bestFold
	}
	return "", false
}

// Name returns the detector name.
func (r *Regex) Name() string { return r.name }

// Scan appends a match for every non-empty, non-overlapping match of the
// regular expression.
func (r *Regex) Scan(text string, dst []Match) []Match {
	if r.prefix {
		return r.scanAnchored(text, dst)
	}
	if r.literal != "" {
		if r.fold {
			if !containsFoldASCII(text, r.literal) {
				return dst
			}
		} else if !strings.Contains(text, r.literal) {
			return dst
		}
	}
	for _, loc := range r.re.FindAllStringIndex(text, -1) {
		if loc[1] > loc[0] {
			dst = r.add(dst, text, loc[0], loc[1])
		}
	}
	return dst
}

// scanAnchored runs the anchored expression at each occurrence of the
// prefix literal, left to right, without overlap: the same matches as
// FindAll, since every match starts with the literal. It looks at one
// character more than the longest match, so that an assertion after the
// match (\b, $) sees the real next character.
func (r *Regex) scanAnchored(text string, dst []Match) []Match {
	var ff foldFinder
	if r.fold {
		ff = newFoldFinder(text, r.literal)
	}
	for pos := 0; pos < len(text); {
		var p int
		if r.fold {
			p = ff.next(pos)
		} else if k := strings.Index(text[pos:], r.literal); k >= 0 {
			p = pos + k
		} else {
			p = -1
		}
		if p < 0 {
			break
		}
		if loc := r.anchored.FindStringIndex(text[p:min(len(text), p+r.maxLen+utf8.UTFMax)]); loc != nil && loc[1] > 0 {
			dst = r.add(dst, text, p, p+loc[1])
			pos = p + loc[1]
			continue
		}
		pos = p + 1
	}
	return dst
}

func (r *Regex) add(dst []Match, text string, start, end int) []Match {
	v := text[start:end]
	return append(dst, Match{
		Detector:   r.name,
		Confidence: r.conf,
		Evidence:   MaskTail(v, 4),
		Key:        keyString(r.name, v),
		Start:      start,
		End:        end,
	})
}

// containsFoldASCII reports whether text contains lit (lower-case ASCII)
// ignoring ASCII case.
func containsFoldASCII(text, lit string) bool { return indexFoldASCII(text, lit) >= 0 }

// indexFoldASCII returns the first index of lit (lower-case ASCII) in text
// ignoring ASCII case, or -1.
func indexFoldASCII(text, lit string) int {
	f := newFoldFinder(text, lit)
	return f.next(0)
}

// foldFinder finds the occurrences of a lower-case ASCII literal in a text
// ignoring ASCII case. Candidates come from strings.IndexByte for the
// lower- and upper-case form of the literal's rarest byte (by English
// letter frequency); the next position of each is kept between calls, so
// that finding all occurrences scans the text once.
type foldFinder struct {
	text, lit      string
	off            int // offset of the searched byte in lit
	lo, up         byte
	nextLo, nextUp int // next position of lo / up at or after the last search; -1 none left; -2 not searched
}

// letterRank orders lower-case letters from most to least frequent in
// English text; bytes not listed (digits, punctuation) count as rarest.
const letterRank = "etaoinshrdlcumwfgypbvkjxqz"

func newFoldFinder(text, lit string) foldFinder {
	off, best := 0, -1
	for k := range len(lit) {
		r := strings.IndexByte(letterRank, lit[k])
		if r < 0 {
			r = len(letterRank)
		}
		if r > best {
			off, best = k, r
		}
	}
	f := foldFinder{text: text, lit: lit, off: off, lo: lit[off], up: lit[off], nextLo: -2, nextUp: -2}
	if f.lo >= 'a' && f.lo <= 'z' {
		f.up = f.lo - 'a' + 'A'
	} else {
		f.nextUp = -1
	}
	return f
}

// next returns the first occurrence at or after i, or -1. Calls must not
// go backwards.
func (f *foldFinder) next(i int) int {
	t, lit := f.text, f.lit
	for i+len(lit) <= len(t) {
		q := i + f.off // the searched byte of an occurrence at i or later is at q or later
		if f.nextLo != -1 && f.nextLo < q {
			f.nextLo = -1
			if k := strings.IndexByte(t[q:], f.lo); k >= 0 {
				f.nextLo = q + k
			}
		}
		if f.nextUp != -1 && f.nextUp < q {
			f.nextUp = -1
			if k := strings.IndexByte(t[q:], f.up); k >= 0 {
				f.nextUp = q + k
			}
		}
		c := f.nextLo
		if c < 0 || (f.nextUp >= 0 && f.nextUp < c) {
			c = f.nextUp
		}
		p := c - f.off
		if c < 0 || p+len(lit) > len(t) {
			return -1
		}
		j := 0
		for j < len(lit) && lowerASCII(t[p+j]) == lit[j] {
			j++
		}
		if j == len(lit) {
			return p
		}
		i = p + 1
	}
	return -1
}

var _ Detector = (*Regex)(nil)
