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
// expression runs only when it is present.
type Regex struct {
	name    string
	re      *regexp.Regexp
	conf    Confidence
	literal string // required literal, "" if none
	fold    bool   // literal matches case-insensitively
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
		lit, fold := requiredLiteral(st.Simplify())
		if len(lit) >= 2 {
			r.literal, r.fold = lit, fold
			if fold {
				r.literal = string(foldASCII([]byte(lit)))
			}
		}
	}
	return r, nil
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

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Name returns the detector name.
func (r *Regex) Name() string { return r.name }

// Scan appends a match for every non-empty, non-overlapping match of the
// regular expression.
func (r *Regex) Scan(text string, dst []Match) []Match {
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
		if loc[1] == loc[0] {
			continue
		}
		v := text[loc[0]:loc[1]]
		dst = append(dst, Match{
			Detector:   r.name,
			Confidence: r.conf,
			Evidence:   MaskTail(v, 4),
			Key:        keyString(r.name, v),
			Start:      loc[0],
			End:        loc[1],
		})
	}
	return dst
}

// containsFoldASCII reports whether text contains lit (lower-case ASCII)
// ignoring ASCII case.
func containsFoldASCII(text, lit string) bool {
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
			return true
		}
	}
	return false
}

var _ Detector = (*Regex)(nil)
