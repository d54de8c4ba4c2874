package detect

import (
	"strings"
	"unicode/utf8"
)

// Column context: in a table written as lines of cells (CSV, TSV, a
// spreadsheet or an HTML table extracted one row per line), the header
// cell of a value's column says what the value is, however many rows
// below the header it stands. A header "SSN" is a keyword for the values
// in its column; a header "Order ID" is their label.
//
// A table is a block of consecutive lines that have the same cell
// delimiter and the same number of them (at least one); its first line is
// the header. The delimiter of a line is a tab if it has one, else ';',
// else '|', else a run of two or more spaces between cells (a plain-text
// table of aligned columns), else ','. In an aligned table the column is
// found by position and empty cells are allowed, so its rows need not
// have the same number of delimiters. Lines longer than maxTableLine are
// no table rows.

// maxTableLine bounds the length of a table line, in bytes.
const maxTableLine = 4096

// maxBlankRows bounds the blank lines between two rows of a table.
const maxBlankRows = 4

// maxHeaderCell bounds the header cell searched for keywords, in bytes.
const maxHeaderCell = 128

// tables follows the table blocks of one text while matches are visited
// in text order: every line is examined at most once in all.
type tables struct {
	text       string
	next       int  // text[:next] has been divided into blocks (a line start)
	blockStart int  // first line of the current block (-1: none)
	delim      byte // the current block's delimiter
	count      int  // its delimiters per line
	indent     int  // leading spaces of its lines (aligned tables)

	line, lineEnd int  // the line of the last value located
	calls         int  // values located on that line
	lineD         byte // its delimiter and their count
	lineN         int
	longUntil     int // text[:longUntil] after the last too-long line's value is in that line

	memoS, memoE int  // the line shapeOf shaped last
	memoD        byte // and its shape
	memoN        int

	work int64 // bytes examined, for the cost tests
}

// maxCellsPerLine bounds the values on one line that are looked up in
// their table: each lookup reads the line and its neighbours (at most
// maxTableLine bytes each), so a line of many values costs a bounded
// multiple of its length. Values past the bound keep their window context.
const maxCellsPerLine = 8

func newTables(text string) tables {
	return tables{text: text, blockStart: -1, line: -1, memoS: -1}
}

// shapeOf is shape(tb.text, s, e), remembered for the last line asked:
// a line is shaped when a value on it is located, again when the text is
// divided into blocks up to it and when it is the row below a value; the
// answer is the same each time.
func (tb *tables) shapeOf(s, e int) (byte, int) {
	if s != tb.memoS || e != tb.memoE {
		tb.memoS, tb.memoE = s, e
		tb.memoD, tb.memoN = shape(tb.text, s, e)
	}
	return tb.memoD, tb.memoN
}

// lineAt returns the line around offset p, if it is short enough to be a
// table line.
func (tb *tables) lineAt(p int) (start, end int, ok bool) {
	t := tb.text
	start = p
	for start > 0 && t[start-1] != '\n' {
		if p-start > maxTableLine {
			return 0, 0, false
		}
		start--
	}
	end = p
	for end < len(t) && t[end] != '\n' {
		if end-start > maxTableLine {
			tb.work += int64(end - start)
			return 0, 0, false
		}
		end++
	}
	tb.work += int64(end - start)
	return start, end, true
}

// aligned stands for the delimiter of a table of aligned columns.
const aligned = ' '

// shapeByte marks the bytes shape looks at: the quote and the delimiters.
var shapeByte = [256]bool{'"': true, '\t': true, ';': true, '|': true, ',': true, ' ': true}

// shape returns the delimiter of line t[s:e] and how many it has.
func shape(t string, s, e int) (byte, int) {
	var tabs, semis, bars, commas, runs int
	quoted := false
	for p := s; p < e; p++ {
		if !shapeByte[t[p]] {
			continue // most bytes are none of those counted below
		}
		if t[p] == '"' {
			quoted = !quoted
		}
		if quoted {
			continue
		}
		switch t[p] {
		case '\t':
			tabs++
		case ';':
			semis++
		case '|':
			bars++
		case ',':
			commas++
		case ' ':
			if p > s && p+2 < e && t[p+1] == ' ' && t[p-1] != ' ' {
				q := p + 2
				for q < e && t[q] == ' ' {
					q++
				}
				if q < e && t[q] != '\r' {
					runs++
				}
			}
		}
	}
	switch {
	case tabs > 0:
		return '\t', tabs
	case semis > 0:
		return ';', semis
	case bars > 0:
		return '|', bars
	case runs > 0:
		return aligned, runs
	}
	return ',', commas
}

// cellEdge reports whether t[r] (or the line edge) ends a cell of a
// line with delimiter d, looking in direction dir (-1 or +1) from a value.
func cellEdge(t string, r, ls, le int, d byte, dir int) bool {
	if d != aligned {
		for ; r >= ls && r < le && t[r] != d; r += dir {
			if c := t[r]; c != ' ' && c != '"' && c != '\'' && c != '\r' {
				return false
			}
		}
		return true
	}
	// Aligned: the line edge, or two spaces.
	for k := 0; ; k++ {
		if r < ls || r >= le || t[r] == '\r' {
			return true
		}
		if t[r] != ' ' {
			return false
		}
		if k == 1 {
			return true
		}
		r += dir
	}
}

// place is where a value stands in a table: its line and column.
type place struct {
	ls, le int // the value's line
	idx    int // column index (delimited tables)
	col    int // column in characters (aligned tables)
}

// locate returns the place of the value text[p:q], if the value fills its
// cell (white space and quotes aside) in a table row.
func (tb *tables) locate(p, q int) (pl place, ok bool) {
	t := tb.text
	if !cellish(t, p-1, -1) || !cellish(t, q, 1) {
		return pl, false
	}
	if p < tb.longUntil {
		return pl, false
	}
	ls, le := tb.line, tb.lineEnd
	if p < ls || p > le {
		var ok bool
		if ls, le, ok = tb.lineAt(p); !ok {
			// Remember the too-long line, so that its other values cost
			// nothing: one search for its end.
			tb.longUntil = len(t)
			if k := strings.IndexByte(t[p:], '\n'); k >= 0 {
				tb.longUntil = p + k
			}
			tb.work += int64(tb.longUntil - p)
			return pl, false
		}
		tb.line, tb.lineEnd, tb.calls = ls, le, 0
		tb.lineD, tb.lineN = tb.shapeOf(ls, le)
		tb.work += int64(le - ls)
	}
	if tb.calls++; tb.calls > maxCellsPerLine || ls < tb.next && tb.blockStart < 0 || q > le {
		return pl, false
	}
	// Most values are in prose: only a value that fills a cell of a line
	// with cells costs the division of the text into blocks.
	if d, n := tb.lineD, tb.lineN; n == 0 || !cellEdge(t, p-1, ls, le, d, -1) || !cellEdge(t, q, ls, le, d, 1) {
		return pl, false
	}
	// Divide the lines from next up to this line into blocks.
	for tb.next <= ls {
		s := tb.next
		e := s
		for e < len(t) && t[e] != '\n' {
			e++
		}
		d, n := tb.lineD, tb.lineN // the value's line, shaped above
		if s != tb.line || e != tb.lineEnd {
			d, n = tb.shapeOf(s, e)
		}
		switch {
		case blank(t[s:e]) && tb.delim != aligned:
			// Blank lines between rows (HTML tables) neither end nor
			// extend a table of delimited cells.
		case blank(t[s:e]):
			tb.blockStart = -1
		case e-s > maxTableLine || n == 0:
			tb.blockStart = -1
		case tb.blockStart >= 0 && d == tb.delim && (n == tb.count || d == aligned && indent(t[s:e]) == tb.indent):
		default:
			tb.blockStart, tb.delim, tb.count, tb.indent = s, d, n, indent(t[s:e])
		}
		tb.next = e + 1
		tb.work += int64(e - s + 1)
	}
	if tb.blockStart < 0 {
		return pl, false
	}
	pl = place{ls: ls, le: le}
	if tb.delim == aligned {
		pl.col = utf8.RuneCountInString(t[ls:p])
		return pl, true
	}
	tb.work += int64(p - ls)
	quoted := false
	for r := ls; r < p; r++ {
		if t[r] == '"' {
			quoted = !quoted
		}
		if t[r] == tb.delim && !quoted {
			pl.idx++
		}
	}
	return pl, true
}

// header returns the header cell of the value's column, if the value is
// below the header and the header cell is a short text with a letter.
func (tb *tables) header(pl place) (cs, ce int, ok bool) {
	if tb.blockStart == pl.ls {
		return 0, 0, false
	}
	cs, ce = tb.cellIn(tb.blockStart, pl)
	return cs, ce, ce > cs && ce-cs <= maxHeaderCell && hasLetter(tb.text[cs:ce])
}

// neighbours returns the cells of the value's column in the rows just
// above and below it within the table (empty spans where there is none).
func (tb *tables) neighbours(pl place) (out [2][2]int) {
	rows := tb.rows(pl)
	for k, r := range rows {
		if r[1] > r[0] {
			out[k][0], out[k][1] = tb.cellIn(r[0], pl)
		}
	}
	return out
}

// rows returns the rows just above and below the value's row within the
// table (empty spans where there is none).
func (tb *tables) rows(pl place) (out [2][2]int) {
	t := tb.text
	// Above: the previous non-blank line, if it is not the header.
	// At most maxBlankRows blank lines are skipped on either side, so the
	// cost per value is bounded.
	for e, k := pl.ls-1, 0; e > tb.blockStart && k <= maxBlankRows; k++ {
		s := e
		for s > 0 && t[s-1] != '\n' && e-s <= maxTableLine {
			s--
		}
		tb.work += int64(e - s + 1)
		if !blank(t[s:e]) {
			if s > tb.blockStart {
				out[0] = [2]int{s, e}
			}
			break
		}
		e = s - 1
	}
	// Below: the next non-blank line, if it is a row of the same table.
	for s, k := pl.le+1, 0; s < len(t) && k <= maxBlankRows; k++ {
		e := s
		for e < len(t) && t[e] != '\n' && e-s <= maxTableLine {
			e++
		}
		tb.work += int64(2 * (e - s + 1))
		if !blank(t[s:e]) {
			if d, n := tb.shapeOf(s, e); d == tb.delim && (n == tb.count || d == aligned && indent(t[s:e]) == tb.indent) {
				out[1] = [2]int{s, e}
			}
			break
		}
		s = e + 1
	}
	return out
}

// validBeside reports whether a row just above or below the value
// text[p:q] holds, at the same place in its line, a value of the same
// shape that passes identifier i's validator: the value is one of a list
// of values written across cells, not a slice of a table of numbers.
func (tb *tables) validBeside(pl place, p, q int, i id) bool {
	t := tb.text
	var buf [48]byte
	for _, r := range tb.rows(pl) {
		s, e := r[0]+(p-pl.ls), r[0]+(q-pl.ls)
		if r[1] <= r[0] || e > r[1] || s > 0 && isDigit(t[s-1]) || e < len(t) && isDigit(t[e]) {
			continue
		}
		d := buf[:0]
		ok := true
		for k := s; k < e && ok; k++ {
			switch c := t[k]; {
			case isDigit(c):
				if len(d) == len(buf) {
					ok = false
				}
				d = append(d, c)
			case c == ' ' || c == '\t' || c == '-':
			default:
				ok = false
			}
		}
		tb.work += int64(e - s)
		if ok && len(d) > 0 {
			if _, valid := checkNumeric(i, d); valid {
				return true
			}
		}
	}
	return false
}

// cellIn returns the cell of the line starting at ls that is in the
// column of pl.
func (tb *tables) cellIn(ls int, pl place) (cs, ce int) {
	t := tb.text
	if tb.delim == aligned {
		return tb.alignedCell(ls, pl.col)
	}
	cs = ls
	quoted := false
	for k := pl.idx; k > 0 && cs < len(t) && t[cs] != '\n' && cs-ls <= maxTableLine; cs++ {
		if t[cs] == '"' {
			quoted = !quoted
		}
		if t[cs] == tb.delim && !quoted {
			k--
		}
	}
	tb.work += int64(cs - ls)
	ce = cs
	quoted = false
	for ce < len(t) && (t[ce] != tb.delim || quoted) && t[ce] != '\n' && ce-cs <= maxTableLine {
		if t[ce] == '"' {
			quoted = !quoted
		}
		ce++
	}
	tb.work += int64(ce - cs)
	return cs, ce
}

// alignedCell returns the cell of the aligned-table line starting at ls
// that covers character column col: the last cell that starts at or
// before it.
func (tb *tables) alignedCell(ls, col int) (cs, ce int) {
	t := tb.text
	cs = -1
	h, k := ls, 0
	for h < len(t) && t[h] != '\n' && k <= col && h-ls <= maxTableLine {
		if t[h] != ' ' && (h == ls || h >= ls+2 && t[h-1] == ' ' && t[h-2] == ' ') {
			cs = h
		}
		_, n := utf8.DecodeRuneInString(t[h:])
		h += n
		k++
	}
	if cs < 0 {
		return 0, 0
	}
	ce = cs
	for ce < len(t) && t[ce] != '\n' && t[ce] != '\r' && !(t[ce] == ' ' && ce+1 < len(t) && t[ce+1] == ' ') && ce-cs <= maxTableLine {
		ce++
	}
	tb.work += int64(ce - ls)
	return cs, ce
}

// hasLetter reports whether s has an ASCII letter.
func hasLetter(s string) bool {
	for k := 0; k < len(s); k++ {
		if wordClass[s[k]]&(cUpper|cLower) != 0 {
			return true
		}
	}
	return false
}

// blank reports whether s is empty or white space only.
func blank(s string) bool {
	for k := 0; k < len(s); k++ {
		if !isSpaceByte(s[k]) {
			return false
		}
	}
	return true
}

// indent counts the leading spaces of a line.
func indent(s string) int {
	n := 0
	for n < len(s) && s[n] == ' ' {
		n++
	}
	return n
}

// cellish is a quick test that the value next to t[r] can fill a cell:
// looking in direction dir past quotes and spaces, there is a delimiter,
// two spaces or the line edge.
func cellish(t string, r, dir int) bool {
	spaces := 0
	for ; r >= 0 && r < len(t); r += dir {
		switch t[r] {
		case ' ':
			if spaces++; spaces == 2 {
				return true
			}
		case '"', '\'':
		case '\t', ';', '|', ',', '\n', '\r':
			return true
		default:
			return false
		}
	}
	return true
}
