package extract

import (
	"bytes"
	"math"
	"path"
	"strconv"
	"strings"
)

// A workbook (XLSX) keeps its cells in worksheets and its text in a
// shared strings table that cells refer to by index; the workbook lists
// the sheets and their names through its relationships.

// xlsx reads every sheet: shared strings resolved, cells separated by
// tabs, rows by line breaks, numbers in plain notation.
func (d *doc) xlsx() {
	if data, ok := d.member("xl/sharedStrings.xml"); ok {
		d.sheet = sharedStrings(d.e.m, data)
	}
	for _, sh := range d.workbookSheets() {
		if data, ok := d.member(sh.path); ok {
			d.sheetPart(join(d.src.loc, "sheet "+quoteName(sh.name)), data)
		}
	}
	for _, name := range d.numbered("xl/comments", ".xml") {
		if data, ok := d.member(name); ok {
			d.emitText(join(d.src.loc, "comments"), data, commentRoles, false)
		}
	}
}

// sheetPart emits the text of a worksheet. Cells that repeat a long
// shared string make far more text than the sheet has bytes: the text is
// cut at the room max_text_bytes leaves, and the cut is reported.
func (d *doc) sheetPart(loc string, data []byte) {
	room := int(max(d.e.lim.MaxTextBytes-d.e.textBytes, 0))
	text, cut := sheetText(d.e.m, data, d.sheet, room)
	d.emit(loc, text)
	if cut {
		d.e.unscannable(loc, TooLarge, "extracted text exceeds max_text_bytes; the rest was not scanned", d.kind)
	}
}

type sheetRef struct{ name, path string }

// workbookSheets lists the sheets with their names, in workbook order.
func (d *doc) workbookSheets() []sheetRef {
	rels := map[string]string{}
	if data, ok := d.member("xl/_rels/workbook.xml.rels"); ok {
		s := xmlScanner{b: data, m: d.e.m}
		var t xmlToken
		for s.next(&t) {
			if (t.kind == xmlStart || t.kind == xmlSelfClose) && string(t.name) == "Relationship" {
				id, _ := attr(t.attrs, "Id")
				target, _ := attr(t.attrs, "Target")
				tg := string(target)
				if strings.HasPrefix(tg, "/") {
					tg = tg[1:]
				} else {
					tg = path.Join("xl", tg)
				}
				rels[string(id)] = tg
			}
		}
	}
	var out []sheetRef
	if data, ok := d.member("xl/workbook.xml"); ok {
		// Defined names (their names and formulas or constants), sheet
		// names and the rest of the workbook's text are the sender's.
		d.emit(join(d.src.loc, "workbook"), anyXMLText(d.e.m, data))
		s := xmlScanner{b: data, m: d.e.m}
		var t xmlToken
		for s.next(&t) {
			if (t.kind == xmlStart || t.kind == xmlSelfClose) && string(t.name) == "sheet" {
				name, _ := attr(t.attrs, "name")
				id, _ := attr(t.attrs, "r:id")
				p := rels[string(id)]
				if p == "" {
					continue
				}
				out = append(out, sheetRef{name: string(appendUnescaped(nil, name)), path: p})
			}
		}
	}
	if len(out) == 0 {
		// No usable workbook: read the sheets in file order.
		for i, name := range d.numbered("xl/worksheets/sheet", ".xml") {
			out = append(out, sheetRef{name: "sheet" + strconv.Itoa(i+1), path: name})
		}
	}
	return out
}

// sharedTable is a workbook's shared strings. A string no cell refers to
// is still sender text, and so is the text around the strings (phonetic
// runs, character data outside <t>): [doc.sharedLeftovers] reads them.
type sharedTable struct {
	items []string
	used  []bool // items a cell referred to
	other []byte // text that is no item's text, one run a line
}

// sharedStrings reads the <si> items of a shared strings table; phonetic
// runs and stray text go to other. Their total size is at most that of
// data.
func sharedStrings(m *meter, data []byte) *sharedTable {
	s := xmlScanner{b: data, m: m}
	var t xmlToken
	st := &sharedTable{}
	var cur []byte
	inT, inSI, skip := false, false, 0
	for s.next(&t) {
		switch t.kind {
		case xmlStart:
			switch string(t.name) {
			case "si":
				inSI, cur = true, cur[:0]
			case "t":
				inT = true
			case "rPh":
				skip++
			}
		case xmlEnd:
			switch string(t.name) {
			case "si":
				st.items = append(st.items, string(cur))
				inSI = false
			case "t":
				inT = false
			case "rPh":
				skip = max(skip-1, 0)
			}
		case xmlSelfClose:
			if string(t.name) == "si" {
				st.items = append(st.items, "")
			}
		case xmlText:
			if inSI && inT && skip == 0 {
				cur = appendXMLText(cur, t)
			} else if len(bytes.TrimSpace(t.text)) > 0 {
				st.other = append(appendXMLText(st.other, t), '\n')
			}
		}
	}
	st.used = make([]bool, len(st.items))
	return st
}

// appendXMLText appends the text of a text token, decoded.
func appendXMLText(dst []byte, t xmlToken) []byte {
	if t.cdata {
		return append(dst, t.text...)
	}
	return appendUnescaped(dst, t.text)
}

// sharedLeftovers emits the shared strings no sheet referred to and the
// text outside the strings, after every sheet was read.
func (d *doc) sharedLeftovers() {
	st := d.sheet
	if st == nil {
		return
	}
	out := st.other
	for i, s := range st.items {
		if !st.used[i] && s != "" {
			out = append(append(out, s...), '\n')
		}
	}
	d.e.m.step(len(st.items))
	if len(bytes.TrimSpace(out)) == 0 {
		return // every string is in a sheet
	}
	d.emit(join(d.src.loc, strconv.Quote("xl/sharedStrings.xml")), ownedString(out))
}

// sheetText renders a worksheet's cells, at most room bytes of them; cut
// reports that there was more. A cell that refers to a shared string
// copies it: a small sheet can refer to a long string a million times.
func sheetText(m *meter, data []byte, shared *sharedTable, room int) (text string, cut bool) {
	s := xmlScanner{b: data, m: m}
	var t xmlToken
	out := make([]byte, 0, min(len(data)/8, room))
	var cellType []byte
	inV, inT, inIs := false, false, false
	var val []byte
	for s.next(&t) {
		switch t.kind {
		case xmlStart:
			switch string(t.name) {
			case "c":
				cellType, _ = attr(t.attrs, "t")
				val = val[:0]
			case "v":
				inV = true
			case "is":
				inIs = true
			case "t":
				inT = true
			}
		case xmlText:
			if inV || (inIs && inT) {
				val = appendUnescaped(val, t.text)
			}
		case xmlEnd:
			switch string(t.name) {
			case "v":
				inV = false
			case "t":
				inT = false
			case "is":
				inIs = false
			case "c":
				n := len(out)
				out = appendCell(out, cellType, val, shared, room-n)
				out = append(out, '\t')
				if !m.step(len(out)-n) || len(out) > room {
					cut = len(out) > room
					return ownedString(out[:min(len(out), room)]), cut
				}
			case "row":
				out = append(out, '\n')
			}
		}
	}
	return ownedString(out[:min(len(out), room)]), len(out) > room
}

// appendCell appends the text of a cell, of which at most room+1 bytes of
// a shared string (enough for the caller to see that room is exceeded).
func appendCell(out, typ, val []byte, shared *sharedTable, room int) []byte {
	switch string(typ) {
	case "s":
		if shared == nil {
			return out
		}
		if i, err := strconv.Atoi(string(bytes.TrimSpace(val))); err == nil && i >= 0 && i < len(shared.items) {
			shared.used[i] = true
			return append(out, shared.items[i][:min(len(shared.items[i]), max(room+1, 0))]...)
		}
		return out
	case "", "n":
		return appendNumber(out, val)
	}
	return append(out, val...)
}

// appendNumber writes numbers stored in exponent notation (as spreadsheets
// store long numbers such as card numbers) in plain notation.
func appendNumber(out, val []byte) []byte {
	if bytes.IndexAny(val, "eE") < 0 {
		return append(out, val...)
	}
	f, err := strconv.ParseFloat(string(val), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) >= 1e21 || f != math.Trunc(f) {
		return append(out, val...)
	}
	return strconv.AppendFloat(out, f, 'f', -1, 64)
}
