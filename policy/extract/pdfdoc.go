package extract

import (
	"bytes"
	"sort"
	"strconv"
)

// pdfDoc indexes the objects of one PDF, including those packed in object
// streams, and decodes streams on demand within the message's limits.
//
// Every step is linear in the file: the index is one forward pass in
// which each keyword search starts where the previous one of that keyword
// ended (pdfFinder), objects do not overlap, and every lookup that a page
// could repeat for shared objects (inherited resources, font maps, Kids
// arrays, content streams) is done once per object and remembered. The
// work is reported to the scan's meter, which ends the reading at the
// deadline.
type pdfDoc struct {
	e       *extractor
	m       *meter
	data    []byte
	loc     string
	objs    map[int]pdfObj // object number -> its last definition
	order   []int          // object numbers in file order of first definition
	count   int            // object definitions seen, reused numbers included
	decoded map[int][]byte
	cmaps   map[int]*pdfCMap // ToUnicode stream -> its map
	fonts   map[int]*pdfCMap // font object -> its ToUnicode map
	inherit map[int][]byte   // object -> /Resources it has or inherits
	fontSet map[*byte]map[string]*pdfCMap
	cmapMem int  // bytes left for CMap entries of the whole file
	limited bool // a decompression or memory limit ended the reading
	full    bool // maxPDFObjects reached: the index is incomplete
}

// pdfObj is one indirect object: its dictionary (or whole text when it has
// no stream) and its raw stream data.
type pdfObj struct {
	dict     []byte
	raw      []byte
	isStream bool
}

// maxPDFObjects bounds the object definitions of one PDF, counted each
// time one occurs (a number defined again counts again); a file with more
// is reported too_large (large real documents have tens of thousands).
const maxPDFObjects = 200000

// maxPDFCMapBytes bounds the ToUnicode maps of one PDF: a few bytes of
// bfrange can ask for 65,536 entries, real fonts need a few hundred.
const maxPDFCMapBytes = 16 << 20

func newPDFDoc(e *extractor, data []byte, loc string) *pdfDoc {
	return &pdfDoc{
		e: e, m: e.m, data: data, loc: loc,
		objs: map[int]pdfObj{}, decoded: map[int][]byte{}, cmaps: map[int]*pdfCMap{},
		fonts: map[int]*pdfCMap{}, inherit: map[int][]byte{}, fontSet: map[*byte]map[string]*pdfCMap{},
		cmapMem: maxPDFCMapBytes,
	}
}

// pdfFinder finds the occurrences of one keyword at increasing positions:
// a search that found nothing, or found a position still ahead, is not
// repeated, so each byte of the file is searched at most once per keyword.
type pdfFinder struct {
	b        []byte
	key      []byte
	m        *meter
	searched bool
	from, at int // the last search started at from and found at (-1: none)
}

func (f *pdfFinder) next(pos int) int {
	if f.searched && pos >= f.from && (f.at < 0 || pos <= f.at) {
		return f.at
	}
	f.searched, f.from = true, pos
	if pos >= len(f.b) {
		f.at = -1
		return -1
	}
	i := bytes.Index(f.b[pos:], f.key)
	if i < 0 {
		f.m.step(len(f.b) - pos)
		f.at = -1
	} else {
		f.m.step(i + len(f.key))
		f.at = pos + i
	}
	return f.at
}

// index finds "N G obj ... endobj" in the file and then the objects of
// every object stream. An object ends at its endobj or where the next
// object starts; a stream object at its endstream, whatever the stream
// holds.
func (d *pdfDoc) index() {
	b := d.data
	find := func(key string) *pdfFinder { return &pdfFinder{b: b, key: []byte(key), m: d.m} }
	objKw, peek, endobj, streamKw, endstream := find("obj"), find("obj"), find("endobj"), find("stream"), find("endstream")
	// nextHeader returns where the next object header starts at or after
	// from, or len(b).
	nextHeader := func(from int) int {
		for p := from; ; {
			at := peek.next(p)
			if at < 0 {
				return len(b)
			}
			if start, _, ok := pdfObjHeader(b, at); ok {
				return max(start, from)
			}
			p = at + 3
		}
	}
	for pos := 0; ; {
		at := objKw.next(pos)
		if at < 0 || !d.m.step(1) {
			break
		}
		pos = at + 3
		_, num, ok := pdfObjHeader(b, at)
		if !ok {
			continue
		}
		if !d.counted() {
			return
		}
		body := at + 3
		end := nextHeader(body)
		if eo := endobj.next(body); eo >= 0 && eo < end {
			end = eo
		}
		obj := pdfObj{dict: b[body:end]}
		next := end
		if st := streamKw.next(body); st >= 0 && st < end && !(st >= 3 && string(b[st-3:st]) == "end") {
			start := st + 6
			if start < len(b) && b[start] == '\r' {
				start++
			}
			if start < len(b) && b[start] == '\n' {
				start++
			}
			// The data runs to its endstream, which may lie past bytes
			// that look like endobj or a header; without one, to the
			// object's end.
			stop := end
			if es := endstream.next(start); es >= 0 {
				stop, next = es, es+9
			}
			obj = pdfObj{dict: b[body:st], raw: bytes.TrimRight(b[start:max(stop, start)], "\r\n"), isStream: true}
		}
		if _, dup := d.objs[num]; !dup {
			d.order = append(d.order, num)
		}
		d.objs[num] = obj // a later definition (incremental update) wins
		pos = max(pos, next)
	}
	for _, n := range append([]int(nil), d.order...) {
		o := d.objs[n]
		if o.isStream && d.has(o.dict, "/ObjStm") {
			d.objectStream(n, o.dict)
		}
		if d.limited || d.full {
			return
		}
	}
}

// counted counts one more object definition; past maxPDFObjects it records
// the limit and ends the reading.
func (d *pdfDoc) counted() bool {
	d.count++
	if d.count > maxPDFObjects {
		if !d.full {
			d.e.unscannable(d.loc, TooLarge, "PDF has more than 200000 objects; the rest was not scanned", "application/pdf")
		}
		d.full = true
		return false
	}
	return true
}

// has is bytes.Contains, counted.
func (d *pdfDoc) has(b []byte, key string) bool {
	d.m.step(len(b))
	return bytes.Contains(b, []byte(key))
}

// pdfObjHeader reads "N G" before the "obj" keyword at b[at], looking at
// most a few dozen bytes back, and returns where the header starts.
func pdfObjHeader(b []byte, at int) (start, num int, ok bool) {
	if at+3 < len(b) && isPDFRegular(b[at+3]) {
		return 0, 0, false
	}
	i := at - 1
	skip := func() {
		for n := 0; i >= 0 && n < 16 && (b[i] == ' ' || b[i] == '\r' || b[i] == '\n' || b[i] == '\t'); n++ {
			i--
		}
	}
	digits := func() (int, bool) {
		end := i + 1
		for i >= 0 && '0' <= b[i] && b[i] <= '9' && end-i <= 10 {
			i--
		}
		if i+1 == end {
			return 0, false
		}
		n, err := strconv.Atoi(string(b[i+1 : end]))
		return n, err == nil
	}
	skip()
	if _, ok := digits(); !ok {
		return 0, 0, false
	}
	skip()
	num, ok = digits()
	return i + 1, num, ok
}

// objectStream adds the objects packed in object stream n; each counts
// toward maxPDFObjects.
func (d *pdfDoc) objectStream(n int, dict []byte) {
	count, _ := strconv.Atoi(string(d.value(dict, "/N")))
	first, _ := strconv.Atoi(string(d.value(dict, "/First")))
	body := d.stream(n)
	if count <= 0 || first <= 0 || first > len(body) {
		return
	}
	d.m.step(first)
	l := pdfLexer{b: body[:first]}
	type entry struct{ num, off int }
	var entries []entry
	for len(entries) < count && len(entries) < maxPDFObjects {
		t1, k1 := l.next()
		t2, k2 := l.next()
		if k1 != pdfNumber || k2 != pdfNumber {
			break
		}
		num, _ := strconv.Atoi(string(t1))
		off, _ := strconv.Atoi(string(t2))
		entries = append(entries, entry{num, off})
	}
	for i, en := range entries {
		if !d.counted() {
			return
		}
		start := first + en.off
		end := len(body)
		if i+1 < len(entries) {
			end = first + entries[i+1].off
		}
		if start < first || start > end || end > len(body) {
			continue // offsets out of order: objects could overlap
		}
		if _, ok := d.objs[en.num]; !ok {
			d.objs[en.num] = pdfObj{dict: body[start:end]}
			d.order = append(d.order, en.num)
		}
	}
}

// stream returns the decoded stream of object n (nil if none or not
// decodable). Decoded streams are held from the scan's memory budget
// until the PDF has been read.
func (d *pdfDoc) stream(n int) []byte {
	if b, ok := d.decoded[n]; ok {
		return b
	}
	d.decoded[n] = nil
	o := d.objs[n]
	if !o.isStream || d.limited {
		return nil
	}
	var out []byte
	switch {
	case d.has(o.dict, "/FlateDecode") || pdfShortFlate(o.dict):
		dec, err := d.e.inflate(pdfFlateReader(o.raw), int64(len(o.raw)), 0, d.loc, "application/pdf")
		if err == errLimitReached {
			d.limited = true
			return nil
		}
		out = dec // a corrupt stream gives what could be read
	case d.has(o.dict, "/Filter"):
		return nil
	default:
		out = o.raw
	}
	d.decoded[n] = out
	return out
}

// drop forgets the decoded stream of a content stream that has been read
// (it is read once), giving its buffer back to the scan's memory budget.
func (d *pdfDoc) drop(n int) {
	if b := d.decoded[n]; b != nil && d.objs[n].isStream && !sameStart(b, d.objs[n].raw) {
		d.e.release(cap(b))
	}
	d.decoded[n] = nil
}

// sameStart reports whether a and b start at the same byte (a stream
// without filter is its raw bytes, not a buffer of its own).
func sameStart(a, b []byte) bool {
	return len(a) > 0 && len(b) > 0 && &a[0] == &b[0]
}

// pdfShortFlate reports the abbreviated filter name /Fl.
func pdfShortFlate(dict []byte) bool {
	for i := bytes.Index(dict, []byte("/Fl")); i >= 0; {
		if at := i + 3; at == len(dict) || !isPDFRegular(dict[at]) {
			return true
		}
		j := bytes.Index(dict[i+3:], []byte("/Fl"))
		if j < 0 {
			return false
		}
		i += 3 + j
	}
	return false
}

// value returns the raw value after key in a dictionary: a reference
// "N G R", an array, a dictionary, or a single token. Its cost, counted,
// is at most the length of obj.
func (d *pdfDoc) value(obj []byte, key string) []byte {
	d.m.step(len(obj))
	return pdfValue(obj, key)
}

// pdfValue is value without a meter; its cost is linear in obj.
func pdfValue(obj []byte, key string) []byte {
	for from := 0; ; {
		i := bytes.Index(obj[from:], []byte(key))
		if i < 0 {
			return nil
		}
		at := from + i + len(key)
		from = at
		if at < len(obj) && isPDFRegular(obj[at]) {
			continue // a longer name
		}
		v := bytes.TrimLeft(obj[at:], " \r\n\t")
		switch {
		case bytes.HasPrefix(v, []byte("<<")):
			return balanced(v, "<<", ">>")
		case bytes.HasPrefix(v, []byte("[")):
			return balanced(v, "[", "]")
		}
		l := pdfLexer{b: v}
		t1, k1 := l.next()
		_, k2 := l.next()
		t3, k3 := l.next()
		if k1 == pdfNumber && k2 == pdfNumber && k3 == pdfOp && string(t3) == "R" {
			return v[:l.pos]
		}
		return t1
	}
}

// balanced returns v up to the delimiter closing its first open.
func balanced(v []byte, open, close string) []byte {
	depth := 0
	for i := 0; i < len(v); {
		switch {
		case bytes.HasPrefix(v[i:], []byte(open)):
			depth++
			i += len(open)
		case bytes.HasPrefix(v[i:], []byte(close)):
			depth--
			i += len(close)
			if depth == 0 {
				return v[:i]
			}
		default:
			i++
		}
	}
	return v
}

// refs returns the object numbers of the "N G R" references in v.
func (d *pdfDoc) refs(v []byte) []int {
	d.m.step(len(v))
	return pdfRefs(v)
}

func pdfRefs(v []byte) []int {
	var refs []int
	l := pdfLexer{b: v}
	var nums [2][]byte
	for {
		t, k := l.next()
		switch k {
		case pdfEOF:
			return refs
		case pdfNumber:
			nums[0], nums[1] = nums[1], t
		case pdfOp:
			if string(t) == "R" && nums[0] != nil {
				if n, err := strconv.Atoi(string(nums[0])); err == nil {
					refs = append(refs, n)
				}
			}
			nums = [2][]byte{}
		default:
			nums = [2][]byte{}
		}
	}
}

// pdfRef returns the object a value "N G R" names; values longer than a
// reference are not references, whatever they end with.
func pdfRef(v []byte) (int, bool) {
	v = bytes.TrimSpace(v)
	if len(v) > 32 || !bytes.HasSuffix(v, []byte("R")) {
		return 0, false
	}
	if refs := pdfRefs(v); len(refs) == 1 {
		return refs[0], true
	}
	return 0, false
}

// resolve follows a reference value to the dictionary of the object it
// names, through at most 8 references (a cycle ends there).
func (d *pdfDoc) resolve(v []byte) []byte {
	for range 8 {
		n, ok := pdfRef(v)
		if !ok {
			return v
		}
		v = d.objs[n].dict
	}
	return v
}

// pages returns the page objects in page-tree order, or every page object
// in file order when the tree cannot be followed. Each node is visited
// once, and a Kids array shared by several nodes is read once.
func (d *pdfDoc) pages() []int {
	var out []int
	seen := map[int]bool{}
	kids := map[int]bool{} // Kids arrays (objects) already walked
	var walk func(n, depth int)
	walk = func(n, depth int) {
		if seen[n] || depth > 64 || len(out) > 100000 || !d.m.step(1) {
			return
		}
		seen[n] = true
		obj := d.objs[n].dict
		if d.isPage(obj) {
			out = append(out, n)
			return
		}
		v := d.value(obj, "/Kids")
		if k, ok := pdfRef(v); ok {
			if kids[k] {
				return
			}
			kids[k] = true
			v = d.resolve(v)
		}
		for _, k := range d.refs(v) {
			walk(k, depth+1)
		}
	}
	for _, n := range d.order {
		if obj := d.objs[n].dict; d.has(obj, "/Catalog") {
			for _, root := range d.refs(d.value(obj, "/Pages")) {
				walk(root, 0)
			}
		}
	}
	if len(out) == 0 {
		for _, n := range d.order {
			if d.isPage(d.objs[n].dict) {
				out = append(out, n)
			}
		}
		sort.Ints(out)
	}
	return out
}

func (d *pdfDoc) isPage(obj []byte) bool {
	return string(d.value(obj, "/Type")) == "/Page"
}

// resources returns the /Resources of object n or of the nearest ancestor
// that has them, remembered per object so that pages sharing a parent
// read it once.
func (d *pdfDoc) resources(n int, depth int) []byte {
	if r, ok := d.inherit[n]; ok {
		return r
	}
	d.inherit[n] = nil // a cycle of parents ends here
	obj := d.objs[n].dict
	r := d.value(obj, "/Resources")
	if r == nil && depth < 32 {
		if parent := d.refs(d.value(obj, "/Parent")); len(parent) == 1 {
			r = d.resources(parent[0], depth+1)
		}
	}
	d.inherit[n] = r
	return r
}

// pageFonts maps the page's font resource names to their ToUnicode maps,
// following /Resources up the page tree. Pages sharing a font dictionary
// share the result.
func (d *pdfDoc) pageFonts(page int) map[string]*pdfCMap {
	res := d.resolve(d.resources(page, 0))
	if len(res) == 0 {
		return nil
	}
	if f, ok := d.fontSet[&res[0]]; ok {
		return f
	}
	fonts := map[string]*pdfCMap{}
	d.fontSet[&res[0]] = fonts
	fd := d.resolve(d.value(res, "/Font"))
	d.m.step(len(fd))
	l := pdfLexer{b: fd}
	var name []byte
	var nums [2][]byte
	for {
		t, k := l.next()
		if k == pdfEOF {
			return fonts
		}
		switch k {
		case pdfName:
			name = append(name[:0], t...)
			nums = [2][]byte{}
		case pdfNumber:
			nums[0], nums[1] = nums[1], t
		case pdfOp:
			if string(t) == "R" && name != nil && nums[0] != nil {
				n, _ := strconv.Atoi(string(nums[0]))
				fonts[string(name)] = d.fontCMap(n)
				name = nil
			}
		}
	}
}

// fontCMap returns the ToUnicode map of font object n (empty if none).
func (d *pdfDoc) fontCMap(n int) *pdfCMap {
	if c, ok := d.fonts[n]; ok {
		return c
	}
	c := d.newCMap()
	if ref, ok := pdfRef(d.value(d.objs[n].dict, "/ToUnicode")); ok {
		c = d.toUnicode(ref)
	}
	d.fonts[n] = c
	return c
}

// toUnicode returns the map of ToUnicode stream n, parsed once.
func (d *pdfDoc) toUnicode(n int) *pdfCMap {
	if c, ok := d.cmaps[n]; ok {
		return c
	}
	c := d.newCMap()
	d.cmaps[n] = c
	c.parse(d.stream(n))
	d.cmapFull(c)
	return c
}

// cmapFull records a map that ran out of the file's CMap memory.
func (d *pdfDoc) cmapFull(c *pdfCMap) {
	if c.full {
		d.e.unscannable(d.loc, TooLarge, "PDF font maps (ToUnicode) exceed 16 MiB; some text is read as raw codes", "application/pdf")
	}
}

func (d *pdfDoc) newCMap() *pdfCMap {
	return &pdfCMap{m: map[uint32]string{}, mem: &d.cmapMem, meter: d.m}
}
