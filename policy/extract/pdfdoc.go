package extract

import (
	"bytes"
	"sort"
	"strconv"
)

// pdfDoc indexes the objects of one PDF, including those packed in object
// streams, and decodes streams on demand within the message's limits.
type pdfDoc struct {
	e       *extractor
	data    []byte
	loc     string
	objs    map[int][]byte // object number -> object (dictionary and stream)
	order   []int          // object numbers in file order
	decoded map[int][]byte
	cmaps   map[int]*pdfCMap
	limited bool // a decompression limit was reached
}

// maxPDFObjects bounds the object index of one PDF; a file with more is
// reported too_large (large real documents have tens of thousands).
const maxPDFObjects = 200000

// index finds "N G obj ... endobj" in the file and then the objects of
// every object stream.
func (d *pdfDoc) index() {
	b := d.data
	for pos := 0; pos < len(b) && len(d.objs) < maxPDFObjects; {
		i := bytes.Index(b[pos:], []byte("obj"))
		if i < 0 {
			break
		}
		at := pos + i
		pos = at + 3
		if at >= 3 && string(b[at-3:at]) == "end" {
			continue
		}
		num, ok := pdfObjNumber(b, at)
		if !ok {
			continue
		}
		end := bytes.Index(b[pos:], []byte("endobj"))
		// A stream may contain "endobj" bytes: when the object has a
		// stream, it ends at the first endobj after its endstream.
		head := b[pos:]
		if end >= 0 {
			head = head[:end]
		}
		if s := bytes.Index(head, []byte("stream")); s >= 0 {
			if es := bytes.Index(b[pos+s:], []byte("endstream")); es >= 0 {
				if e2 := bytes.Index(b[pos+s+es:], []byte("endobj")); e2 >= 0 {
					end = s + es + e2
				} else {
					end = s + es + 9
				}
			}
		}
		if end < 0 {
			end = len(b) - pos
		}
		if _, dup := d.objs[num]; !dup {
			if len(d.order) == maxPDFObjects {
				d.e.unscannable(d.loc, TooLarge, "PDF has more than 200000 objects; the rest was not scanned", "application/pdf")
				break
			}
			d.order = append(d.order, num)
		}
		d.objs[num] = b[pos : pos+end] // a later definition (incremental update) wins
		pos += end
	}
	for _, n := range append([]int(nil), d.order...) {
		dict, _, ok := splitPDFObject(d.objs[n])
		if ok && bytes.Contains(dict, []byte("/ObjStm")) {
			d.objectStream(n, dict)
		}
	}
}

// pdfObjNumber reads "N G" before the "obj" keyword at b[at].
func pdfObjNumber(b []byte, at int) (int, bool) {
	if at+3 < len(b) && isPDFRegular(b[at+3]) {
		return 0, false
	}
	i := at - 1
	skip := func() {
		for i >= 0 && (b[i] == ' ' || b[i] == '\r' || b[i] == '\n' || b[i] == '\t') {
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
		return 0, false
	}
	skip()
	return digits()
}

// objectStream adds the objects packed in object stream n.
func (d *pdfDoc) objectStream(n int, dict []byte) {
	count, _ := strconv.Atoi(string(pdfValue(dict, "/N")))
	first, _ := strconv.Atoi(string(pdfValue(dict, "/First")))
	body := d.stream(n)
	if count <= 0 || first <= 0 || first > len(body) {
		return
	}
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
		start := first + en.off
		end := len(body)
		if i+1 < len(entries) {
			end = first + entries[i+1].off
		}
		if start < first || start > end || end > len(body) {
			continue
		}
		if _, ok := d.objs[en.num]; !ok {
			d.objs[en.num] = body[start:end]
			d.order = append(d.order, en.num)
		}
	}
}

// splitPDFObject returns an object's dictionary text and its raw stream.
func splitPDFObject(obj []byte) (dict, stream []byte, ok bool) {
	i := bytes.Index(obj, []byte("stream"))
	if i < 0 {
		return obj, nil, false
	}
	dict = obj[:i]
	start := i + 6
	if start < len(obj) && obj[start] == '\r' {
		start++
	}
	if start < len(obj) && obj[start] == '\n' {
		start++
	}
	end := bytes.LastIndex(obj, []byte("endstream"))
	if end < start {
		end = len(obj)
	}
	return dict, bytes.TrimRight(obj[start:end], "\r\n"), true
}

// stream returns the decoded stream of object n (nil if none or not
// decodable).
func (d *pdfDoc) stream(n int) []byte {
	if b, ok := d.decoded[n]; ok {
		return b
	}
	d.decoded[n] = nil
	dict, raw, ok := splitPDFObject(d.objs[n])
	if !ok || d.limited {
		return nil
	}
	var out []byte
	switch {
	case bytes.Contains(dict, []byte("/FlateDecode")) || bytes.Contains(dict, []byte("/Fl ")) || bytes.Contains(dict, []byte("/Fl]")) || bytes.Contains(dict, []byte("/Fl/")):
		dec, err := d.e.inflate(pdfFlateReader(raw), int64(len(raw)), 0, d.loc, "application/pdf")
		if err == errLimitReached {
			d.limited = true
			return nil
		}
		out = dec // a corrupt stream gives what could be read
	case bytes.Contains(dict, []byte("/Filter")):
		return nil
	default:
		out = raw
	}
	d.decoded[n] = out
	return out
}

// pdfValue returns the raw value after key in a dictionary: a reference
// "N G R", an array, a dictionary, or a single token.
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
		save := l.pos
		t2, k2 := l.next()
		t3, k3 := l.next()
		if k1 == pdfNumber && k2 == pdfNumber && k3 == pdfOp && string(t3) == "R" {
			_ = t2
			return v[:l.pos]
		}
		_ = save
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

// pdfRefs returns the object numbers of the "N G R" references in v.
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

// resolve follows a reference value to the object it names.
func (d *pdfDoc) resolve(v []byte) []byte {
	for range 8 {
		if refs := pdfRefs(v); len(refs) == 1 && bytes.HasSuffix(bytes.TrimSpace(v), []byte("R")) {
			dict, _, _ := splitPDFObject(d.objs[refs[0]])
			v = dict
			continue
		}
		return v
	}
	return v
}

// pages returns the page objects in page-tree order, or every page object
// in file order when the tree cannot be followed.
func (d *pdfDoc) pages() []int {
	var out []int
	seen := map[int]bool{}
	var walk func(n, depth int)
	walk = func(n, depth int) {
		if seen[n] || depth > 64 || len(out) > 100000 {
			return
		}
		seen[n] = true
		obj := d.objs[n]
		if isPDFPage(obj) {
			out = append(out, n)
			return
		}
		for _, k := range pdfRefs(d.resolve(pdfValue(obj, "/Kids"))) {
			walk(k, depth+1)
		}
	}
	for _, n := range d.order {
		if bytes.Contains(d.objs[n], []byte("/Catalog")) {
			for _, root := range pdfRefs(pdfValue(d.objs[n], "/Pages")) {
				walk(root, 0)
			}
		}
	}
	if len(out) == 0 {
		for _, n := range d.order {
			if isPDFPage(d.objs[n]) {
				out = append(out, n)
			}
		}
		sort.Ints(out)
	}
	return out
}

func isPDFPage(obj []byte) bool {
	v := pdfValue(obj, "/Type")
	return string(v) == "/Page"
}

// pageFonts maps the page's font resource names to their ToUnicode maps,
// following /Resources up the page tree.
func (d *pdfDoc) pageFonts(page int) map[string]*pdfCMap {
	obj := d.objs[page]
	var res []byte
	for range 32 {
		if res = pdfValue(obj, "/Resources"); res != nil {
			break
		}
		parent := pdfRefs(pdfValue(obj, "/Parent"))
		if len(parent) != 1 {
			break
		}
		obj = d.objs[parent[0]]
	}
	fonts := map[string]*pdfCMap{}
	fd := d.resolve(pdfValue(d.resolve(res), "/Font"))
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
	if c, ok := d.cmaps[n]; ok {
		return c
	}
	c := &pdfCMap{m: map[uint32]string{}}
	d.cmaps[n] = c
	dict, _, _ := splitPDFObject(d.objs[n])
	if refs := pdfRefs(pdfValue(dict, "/ToUnicode")); len(refs) == 1 {
		c.parse(d.stream(refs[0]))
	}
	return c
}
