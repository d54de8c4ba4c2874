package detect

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// Regex finds the matches of a regular expression (Go RE2 syntax: no
// backreferences, linear time). When every match must contain a literal
// string, the text is first searched for that literal and the regular
// expression runs only when it is present. When every match starts with a
// literal, the expression runs anchored at each occurrence of the literal
// only.
type Regex struct {
	name     string
	re       *regexp.Regexp
	anchored *regexp.Regexp // ^(?:pattern), when prefix is set
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
			if a, err := regexp.Compile(`^(?:` + pattern + `)`); err == nil {
				r.literal, r.fold, r.prefix, r.anchored = lit, fold, true, a
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
// FindAll, since every match starts with the literal.
func (r *Regex) scanAnchored(text string, dst []Match) []Match {
	for pos := 0; pos < len(text); {
		var k int
		if r.fold {
			k = indexFoldASCII(text[pos:], r.literal)
		} else {
			k = strings.Index(text[pos:], r.literal)
		}
		if k < 0 {
			break
		}
		p := pos + k
		if loc := r.anchored.FindStringIndex(text[p:]); loc != nil && loc[1] > 0 {
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
	first := lit[0]
	upper := first
	if first >= 'a' && first <= 'z' {
		upper = first - 'a' + 'A'
	}
	for i := 0; i+len(lit) <= len(text); i++ {
		c := text[i]
		if c != first && c != upper {
			continue
		}
		j := 1
		for j < len(lit) && lowerASCII(text[i+j]) == lit[j] {
			j++
		}
		if j == len(lit) {
			return i
		}
	}
	return -1
}

var _ Detector = (*Regex)(nil)
