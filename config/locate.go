package config

import (
	"strconv"
	"strings"
)

// lineIndex maps a key path (see [keyPath.id]) to the line where the key is
// written. BurntSushi/toml keeps key positions private and keyed without
// array indices, so we index the source ourselves: the document has
// already parsed, so this scanner only needs to follow valid TOML.
type lineIndex map[string]int

// indexLines scans a TOML document that BurntSushi/toml accepted and records
// the line of every key, table header and array element.
func indexLines(src string) lineIndex {
	s := &lineScanner{src: src, line: 1, idx: lineIndex{}, arrays: map[string]int{}}
	s.document()
	return s.idx
}

type lineScanner struct {
	src    string
	pos    int
	line   int
	idx    lineIndex
	arrays map[string]int // array-of-tables path id -> element count
}

func (s *lineScanner) peek() byte {
	if s.pos < len(s.src) {
		return s.src[s.pos]
	}
	return 0
}

func (s *lineScanner) advance() {
	if s.pos < len(s.src) {
		if s.src[s.pos] == '\n' {
			s.line++
		}
		s.pos++
	}
}

func (s *lineScanner) skipSpace() {
	for c := s.peek(); c == ' ' || c == '\t' || c == '\r'; c = s.peek() {
		s.advance()
	}
}

// skipBlank skips spaces, newlines and comments.
func (s *lineScanner) skipBlank() {
	for s.pos < len(s.src) {
		switch s.peek() {
		case ' ', '\t', '\r', '\n':
			s.advance()
		case '#':
			for s.pos < len(s.src) && s.peek() != '\n' {
				s.advance()
			}
		default:
			return
		}
	}
}

func (s *lineScanner) record(p keyPath, line int) {
	id := p.id()
	if _, ok := s.idx[id]; !ok {
		s.idx[id] = line
	}
}

func (s *lineScanner) document() {
	var table keyPath
	for guard := 0; s.pos < len(s.src) && guard < len(s.src)+1; guard++ {
		s.skipBlank()
		if s.pos >= len(s.src) {
			return
		}
		start := s.pos
		line := s.line
		if s.peek() == '[' {
			s.advance()
			array := s.peek() == '['
			if array {
				s.advance()
			}
			s.skipSpace()
			keys := s.key()
			s.skipSpace()
			s.advance() // ]
			if array {
				s.advance() // ]
			}
			table = s.resolve(keys, array, line)
		} else {
			keys := s.key()
			s.skipSpace()
			if s.peek() == '=' {
				s.advance()
			}
			s.skipSpace()
			p := table.with(keys...)
			s.recordKeys(table, keys, line)
			s.value(p)
		}
		if s.pos == start { // not valid TOML after all: stop rather than loop
			return
		}
	}
}

// recordKeys records the line of a dotted key and of each of its prefixes.
func (s *lineScanner) recordKeys(base keyPath, keys []string, line int) {
	p := base
	for _, k := range keys {
		p = p.with(k)
		s.record(p, line)
	}
}

// resolve turns a table header into a path, following the current element
// of every array of tables on the way, as TOML does.
func (s *lineScanner) resolve(keys []string, array bool, line int) keyPath {
	var p keyPath
	for i, k := range keys {
		p = p.with(k)
		last := i == len(keys)-1
		if last && array {
			s.record(p, line)
			n := s.arrays[p.id()]
			s.arrays[p.id()] = n + 1
			p = p.index(n)
			s.record(p, line)
			break
		}
		if n, ok := s.arrays[p.id()]; ok && n > 0 {
			p = p.index(n - 1)
		}
		s.record(p, line)
	}
	return p
}

// key reads a dotted key: bare or quoted parts separated by dots.
func (s *lineScanner) key() []string {
	var keys []string
	for s.pos < len(s.src) {
		s.skipSpace()
		switch c := s.peek(); {
		case c == '"' || c == '\'':
			keys = append(keys, s.quoted())
		default:
			start := s.pos
			for c := s.peek(); isBareKeyChar(c); c = s.peek() {
				s.advance()
			}
			if s.pos == start {
				return keys
			}
			keys = append(keys, s.src[start:s.pos])
		}
		s.skipSpace()
		if s.peek() != '.' {
			return keys
		}
		s.advance()
	}
	return keys
}

func isBareKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// quoted reads a single-line basic or literal string and returns its content
// (escapes in basic strings are resolved only as far as keys need).
func (s *lineScanner) quoted() string {
	q := s.peek()
	s.advance()
	var b strings.Builder
	for s.pos < len(s.src) {
		c := s.peek()
		if c == q {
			s.advance()
			break
		}
		if c == '\n' {
			break
		}
		if c == '\\' && q == '"' {
			s.advance()
			c = s.peek()
			switch c {
			case 'n':
				c = '\n'
			case 't':
				c = '\t'
			}
		}
		b.WriteByte(c)
		s.advance()
	}
	return b.String()
}

// skipString skips a string of any of the four TOML kinds.
func (s *lineScanner) skipString() {
	q := s.peek()
	if strings.HasPrefix(s.src[s.pos:], strings.Repeat(string(q), 3)) {
		s.advance()
		s.advance()
		s.advance()
		end := strings.Repeat(string(q), 3)
		for s.pos < len(s.src) {
			if q == '"' && s.peek() == '\\' {
				s.advance()
				s.advance()
				continue
			}
			if strings.HasPrefix(s.src[s.pos:], end) {
				s.advance()
				s.advance()
				s.advance()
				// up to two more quotes may belong to the content
				for s.peek() == q {
					s.advance()
				}
				return
			}
			s.advance()
		}
		return
	}
	s.quoted()
}

// value skips one value, recording the lines of inline table keys and
// array elements under p.
func (s *lineScanner) value(p keyPath) {
	switch s.peek() {
	case '"', '\'':
		s.skipString()
	case '{':
		s.advance()
		for s.pos < len(s.src) {
			s.skipBlank()
			if s.peek() == '}' {
				s.advance()
				return
			}
			if s.peek() == ',' {
				s.advance()
				continue
			}
			line := s.line
			start := s.pos
			keys := s.key()
			s.skipSpace()
			if s.peek() == '=' {
				s.advance()
			}
			s.skipSpace()
			s.recordKeys(p, keys, line)
			s.value(p.with(keys...))
			if s.pos == start {
				return
			}
		}
	case '[':
		s.advance()
		for i := 0; s.pos < len(s.src); i++ {
			s.skipBlank()
			if s.peek() == ']' {
				s.advance()
				return
			}
			start := s.pos
			e := p.index(i)
			s.record(e, s.line)
			s.value(e)
			s.skipBlank()
			if s.peek() == ',' {
				s.advance()
			}
			if s.pos == start {
				return
			}
		}
	default:
		for s.pos < len(s.src) {
			switch s.peek() {
			case ',', ']', '}', '\n', '#':
				return
			}
			s.advance()
		}
	}
}

// keyPath is the path of a key in a document: table keys and array indices.
type keyPath []pathElem

type pathElem struct {
	key   string
	index int // valid when key == ""
	isIdx bool
}

func (p keyPath) with(keys ...string) keyPath {
	q := make(keyPath, len(p), len(p)+len(keys))
	copy(q, p)
	for _, k := range keys {
		q = append(q, pathElem{key: k})
	}
	return q
}

func (p keyPath) index(i int) keyPath {
	q := make(keyPath, len(p), len(p)+1)
	copy(q, p)
	return append(q, pathElem{index: i, isIdx: true})
}

// id is the lookup key in a lineIndex.
func (p keyPath) id() string {
	var b strings.Builder
	for i, e := range p {
		if i > 0 {
			b.WriteByte(0)
		}
		if e.isIdx {
			b.WriteByte('#')
			b.WriteString(strconv.Itoa(e.index))
		} else {
			b.WriteString(e.key)
		}
	}
	return b.String()
}

// String is the path as users read it: policy[0].rule.all[1].detector.
func (p keyPath) String() string {
	var b strings.Builder
	for i, e := range p {
		if e.isIdx {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.index))
			b.WriteByte(']')
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		if e.key == "" || strings.IndexFunc(e.key, func(r rune) bool { return r > 127 || !isBareKeyChar(byte(r)) }) >= 0 {
			b.WriteString(strconv.Quote(e.key))
		} else {
			b.WriteString(e.key)
		}
	}
	return b.String()
}

// line returns the line of p, or of its nearest recorded parent, or 0.
func (idx lineIndex) line(p keyPath) int {
	for n := len(p); n > 0; n-- {
		if l, ok := idx[p[:n].id()]; ok {
			return l
		}
	}
	return 0
}
