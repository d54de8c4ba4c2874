package detect

// Column context: in a table written as lines of cells (CSV, TSV, a
// spreadsheet or an HTML table extracted one row per line), the header
// cell of a value's column says what the value is, however many rows
// below the header it stands. A header "SSN" is a keyword for the values
// in its column; a header "Order ID" is their label.
//
// A table is a block of consecutive lines that have the same cell
// delimiter and the same number of them (at least one); its first line is
// the header. The delimiter of a line is a tab if it has one, else ';',
// else '|', else ','. Lines longer than maxTableLine are no table rows.

// maxTableLine bounds the length of a table line, in bytes.
const maxTableLine = 4096

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
}

func newTables(text string) tables { return tables{text: text, blockStart: -1} }

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
			return 0, 0, false
		}
		end++
	}
	return start, end, true
}

// shape returns the delimiter of line t[s:e] and how many it has.
func shape(t string, s, e int) (byte, int) {
	var tabs, semis, bars, commas int
	for p := s; p < e; p++ {
		switch t[p] {
		case '\t':
			tabs++
		case ';':
			semis++
		case '|':
			bars++
		case ',':
			commas++
		}
	}
	switch {
	case tabs > 0:
		return '\t', tabs
	case semis > 0:
		return ';', semis
	case bars > 0:
		return '|', bars
	}
	return ',', commas
}

// header returns the header cell of the column holding the value
// text[p:q], if the value fills its cell (white space and quotes aside)
// in a table row below the header, and the header cell is a short text
// without digits.
func (tb *tables) header(p, q int) (cs, ce int, ok bool) {
	t := tb.text
	ls, le, ok := tb.lineAt(p)
	if !ok || ls < tb.next && tb.blockStart < 0 {
		return 0, 0, false
	}
	// Divide the lines from next up to this line into blocks.
	for tb.next <= ls {
		s := tb.next
		e := s
		for e < len(t) && t[e] != '\n' {
			e++
		}
		d, n := shape(t, s, e)
		switch {
		case e-s > maxTableLine || n == 0:
			tb.blockStart = -1
		case tb.blockStart >= 0 && d == tb.delim && n == tb.count:
		default:
			tb.blockStart, tb.delim, tb.count = s, d, n
		}
		tb.next = e + 1
	}
	if tb.blockStart < 0 || tb.blockStart == ls || q > le {
		return 0, 0, false
	}
	// The value fills its cell.
	for r := p - 1; r >= ls && t[r] != tb.delim; r-- {
		if c := t[r]; c != ' ' && c != '"' && c != '\'' && c != '\r' {
			return 0, 0, false
		}
	}
	for r := q; r < le && t[r] != tb.delim; r++ {
		if c := t[r]; c != ' ' && c != '"' && c != '\'' && c != '\r' {
			return 0, 0, false
		}
	}
	// The column of p, and that cell of the header line.
	col := 0
	for q := ls; q < p && q < le; q++ {
		if t[q] == tb.delim {
			col++
		}
	}
	cs = tb.blockStart
	for col > 0 && cs < len(t) && t[cs] != '\n' {
		if t[cs] == tb.delim {
			col--
		}
		cs++
	}
	ce = cs
	for ce < len(t) && t[ce] != tb.delim && t[ce] != '\n' {
		if ce-cs >= maxHeaderCell || isDigit(t[ce]) {
			return 0, 0, false
		}
		ce++
	}
	return cs, ce, ce > cs
}
