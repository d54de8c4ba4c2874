package extract

import (
	"bytes"
	"io"
	"regexp"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zlib"
	"golang.org/x/text/encoding/charmap"
)

// PDF text is read by a small extractor of our own rather than a PDF
// library: the pure-Go libraries (ledongthuc/pdf and its forks) decompress
// streams without a size bound, panic on malformed files and are not
// versioned; pdfcpu does not lay out text. Text in a PDF is the string
// operands of the text operators (Tj, TJ, ', ") in content streams, which
// are almost always Flate-compressed. This extractor finds every stream,
// inflates it within the message's decompression limits, reads ToUnicode
// CMaps, and collects the strings of the text operators.
//
// Limits: CMaps are merged for the whole file rather than tracked per
// font, and fonts with custom encodings but no ToUnicode map give their raw
// codes. Scanned (image-only) PDFs are reported unsupported.

var pdfEncryptRE = regexp.MustCompile(`/Encrypt\s*(\d+\s+\d+\s+R|<<)`)

// pdf reads the text of a PDF document: a part per page (`> page 3`), in
// page-tree order, each content stream decoded with the ToUnicode maps of
// that page's fonts; then one part for any other content-like stream (form
// XObjects, pages the page tree does not reach) decoded with the ToUnicode
// maps of the whole file merged. Text read before a limit is returned.
// Every step is linear in the file (see pdfDoc) and stops at the deadline.
func (e *extractor) pdf(data []byte, src source, depth int) {
	const typ = "application/pdf"
	e.m.step(len(data))
	if pdfEncryptRE.Match(data) {
		e.unscannable(src.loc, Encrypted, "encrypted PDF", typ)
		return
	}
	held := e.held
	defer func() { e.held = held }() // the decoded streams are dropped with d
	d := newPDFDoc(e, data, src.loc)
	d.index()
	if d.limited || !e.alive(src.loc) {
		return
	}
	// The ToUnicode maps of all fonts, merged, for streams no page names
	// fonts for; each map is read once however many fonts name it.
	merged := d.newCMap()
	mergedRefs := map[int]bool{}
	images := 0
	for _, n := range d.order {
		o := d.objs[n]
		if o.isStream && d.has(o.dict, "/Image") {
			images++
			continue
		}
		if o.isStream || !d.has(o.dict, "/ToUnicode") {
			continue
		}
		for _, ref := range d.refs(d.value(o.dict, "/ToUnicode")) {
			if !mergedRefs[ref] {
				mergedRefs[ref] = true
				merged.parse(d.stream(ref))
				d.cmapFull(merged)
			}
		}
		if !e.alive(src.loc) {
			return
		}
	}
	part := func(loc string, text []byte) bool {
		if isBlank(string(text)) {
			return false
		}
		e.emit(Part{Location: loc, Kind: KindAttachment, MIMEType: typ, Filename: src.name, Size: int64(len(data))}, string(text))
		return true
	}
	// Document information, annotations, form fields, bookmarks, XMP.
	part(join(src.loc, "metadata and annotations"), d.objectStrings())
	if !e.alive(src.loc) {
		return
	}
	found := false // some text was returned
	stop := false  // a limit or the deadline ended the reading
	full := false  // the text reached max_text_bytes
	used := map[int]bool{}
	content := func(text, body []byte, fonts map[string]*pdfCMap) []byte {
		room := int(max(e.lim.MaxTextBytes-e.textBytes, 0))
		text, full = pdfContentText(text, body, fonts, merged, e.m, room)
		return text
	}
	for i, page := range d.pages() {
		fonts := d.pageFonts(page)
		var text []byte
		for _, ref := range d.refs(d.value(d.objs[page].dict, "/Contents")) {
			if used[ref] {
				continue // shared by another page, whose text has it
			}
			used[ref] = true
			text = append(content(text, d.stream(ref), fonts), '\n')
			d.drop(ref)
			if full {
				break
			}
		}
		found = part(join(src.loc, "page "+strconv.Itoa(i+1)), text) || found
		if full || d.limited || !e.alive(src.loc) {
			stop = true
			break
		}
	}
	// Streams no page reached: form XObjects, broken page trees.
	var rest []byte
	for _, n := range d.order {
		if stop {
			break
		}
		o := d.objs[n]
		if used[n] || !o.isStream || d.skipStream(o.dict) {
			continue
		}
		body := d.stream(n)
		if len(body) == 0 || d.has(body, "begincmap") {
			continue
		}
		rest = content(rest, body, nil)
		d.drop(n)
		stop = full || d.limited || !e.alive(src.loc)
	}
	found = part(src.loc, rest) || found
	if full {
		e.unscannable(src.loc, TooLarge, "extracted text exceeds max_text_bytes; the rest was not scanned", typ)
	}
	if !found {
		if images > 0 {
			e.unscannable(src.loc, Unsupported, "PDF without text (scanned images); no OCR", typ)
		}
		e.emit(Part{Location: src.loc, Kind: KindAttachment, MIMEType: typ, Filename: src.name, Size: int64(len(data))}, "")
	}
}

// skipStream reports streams that hold no text operators.
func (d *pdfDoc) skipStream(dict []byte) bool {
	d.m.step(12 * len(dict))
	return skipPDFStream(dict)
}

// skipPDFStream reports streams that hold no text operators.
func skipPDFStream(dict []byte) bool {
	for _, k := range []string{"/Image", "/Length1", "/Length2", "/FontFile", "/XRef", "/ObjStm", "/Metadata", "/EmbeddedFile"} {
		if bytes.Contains(dict, []byte(k)) {
			return true
		}
	}
	if bytes.Contains(dict, []byte("/Filter")) && !bytes.Contains(dict, []byte("/FlateDecode")) && !bytes.Contains(dict, []byte("/Fl")) {
		return true // DCT, JPX, CCITT, JBIG2: images
	}
	return false
}

// pdfFlateReader reads zlib data, or raw deflate when the zlib header is
// missing.
func pdfFlateReader(b []byte) io.Reader {
	if zr, err := zlib.NewReader(bytes.NewReader(b)); err == nil {
		return zr
	}
	return flate.NewReader(bytes.NewReader(b))
}

// pdfCMap maps character codes to text, from one ToUnicode CMap or merged
// from several.
type pdfCMap struct {
	m     map[uint32]string
	width int    // code width in bytes: 1 or 2
	work  int    // entries written, bounded by maxCMapEntries
	mem   *int   // bytes left for entries, shared by the maps of one file (nil: maxPDFCMapBytes of its own)
	meter *meter // nil counts nothing
	full  bool   // mem ran out: later entries were not kept
}

// maxCMapDst bounds the text one code maps to (the CMap format allows
// 512 bytes of UTF-16).
const maxCMapDst = 512

// set maps code to s, within the file's CMap memory; it reports whether
// the scan may go on.
func (c *pdfCMap) set(code uint32, s string) bool {
	if c.mem == nil {
		n := maxPDFCMapBytes
		c.mem = &n
	}
	cost := len(s) + 16 // the string and the map entry
	if *c.mem < cost {
		c.full = true
		return false
	}
	*c.mem -= cost
	c.m[code] = s
	c.meter.produced(cost)
	return c.meter.step(cost)
}

// parse reads bfchar and bfrange sections.
func (c *pdfCMap) parse(b []byte) {
	if !c.meter.step(2 * len(b)) { // the codespace search, then the lexer
		return
	}
	if bytes.Contains(b, []byte("begincodespacerange")) {
		i := bytes.Index(b, []byte("begincodespacerange"))
		if j := bytes.IndexByte(b[i:], '<'); j >= 0 {
			if k := bytes.IndexByte(b[i+j:], '>'); k >= 0 {
				c.width = max(c.width, (k-1)/2)
			}
		}
	}
	var toks [][]byte
	s := pdfLexer{b: b}
	mode := ""
	for {
		t, kind := s.next()
		if kind == pdfEOF {
			return
		}
		if kind == pdfOp {
			switch string(t) {
			case "beginbfchar", "beginbfrange":
				mode, toks = string(t), toks[:0]
			case "endbfchar":
				for i := 0; i+1 < len(toks); i += 2 {
					if !c.set(codeOf(toks[i]), utf16BE(toks[i+1])) {
						return
					}
				}
				mode = ""
			case "endbfrange":
				if !c.ranges(toks) {
					return
				}
				mode = ""
			}
			continue
		}
		if mode != "" && (kind == pdfHex || kind == pdfArrayStart || kind == pdfArrayEnd) {
			toks = append(toks, append([]byte{byte(kind)}, t...))
		}
	}
}

// maxCMapEntries bounds one CMap: two-byte codes need at most 65,536.
const maxCMapEntries = 1 << 17

// ranges reads "<lo> <hi> <dst>" and "<lo> <hi> [<d1> <d2> ...]" entries;
// it reports whether the scan may go on.
func (c *pdfCMap) ranges(toks [][]byte) bool {
	for i := 0; i+2 < len(toks); {
		lo, hi := codeOf(toks[i]), codeOf(toks[i+1])
		if hi < lo || hi-lo > 0xFFFF {
			return true
		}
		c.work += int(hi-lo) + 1
		if c.work > maxCMapEntries {
			return true
		}
		if pdfKind(toks[i+2][0]) == pdfArrayStart {
			j := i + 3
			for code := lo; j < len(toks) && pdfKind(toks[j][0]) != pdfArrayEnd; j, code = j+1, code+1 {
				if !c.set(code, utf16BE(toks[j])) {
					return false
				}
			}
			i = j + 1
			continue
		}
		dst := []rune(utf16BE(toks[i+2]))
		for code := lo; code <= hi && len(dst) > 0; code++ {
			if !c.set(code, string(dst)) {
				return false
			}
			dst[len(dst)-1]++
		}
		i += 3
	}
	return true
}

func codeOf(tok []byte) uint32 {
	var v uint32
	for _, b := range tok[1:] {
		v = v<<8 | uint32(b)
	}
	return v
}

// utf16BE decodes a token's UTF-16BE text, at most maxCMapDst bytes of it.
func utf16BE(tok []byte) string {
	b := tok[1:]
	if len(b) > maxCMapDst {
		b = b[:maxCMapDst]
	}
	return utf16BEText(b)
}

// utf16BEText decodes UTF-16BE text.
func utf16BEText(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
	}
	return string(utf16.Decode(u))
}

// decode turns a string operand into text.
func (c *pdfCMap) decode(dst, s []byte, hex bool) []byte {
	if len(s) >= 2 && s[0] == 0xFE && s[1] == 0xFF {
		return append(dst, utf16BEText(s[2:])...)
	}
	if len(c.m) > 0 && c.width == 2 && len(s)%2 == 0 && (hex || len(s) > 0) {
		ok := true
		start := len(dst)
		for i := 0; i+1 < len(s); i += 2 {
			t, found := c.m[uint32(s[i])<<8|uint32(s[i+1])]
			if !found {
				ok = false
				break
			}
			dst = append(dst, t...)
		}
		if ok {
			return dst
		}
		dst = dst[:start]
	}
	if len(c.m) == 0 && isASCII(s) {
		return append(dst, s...)
	}
	for _, b := range s {
		if len(c.m) > 0 && c.width <= 1 {
			if t, found := c.m[uint32(b)]; found {
				dst = append(dst, t...)
				continue
			}
		}
		if b < 0x80 {
			dst = append(dst, b)
		} else {
			dst = utf8.AppendRune(dst, charmap.Windows1252.DecodeByte(b))
		}
	}
	return dst
}

// pdfContentText appends the text shown by a content stream. fonts maps
// the page's font resource names to their ToUnicode maps; fonts the page
// does not name use fallback. It counts each token and each byte of text
// on m, and stops at the deadline, or with full set once out holds more
// than room bytes (a few bytes of a font's codes can map to much more
// text).
func pdfContentText(out, content []byte, fonts map[string]*pdfCMap, fallback *pdfCMap, m *meter, room int) (_ []byte, full bool) {
	s := pdfLexer{b: content}
	cmap := fallback
	var lastName []byte
	var nums [6]float64
	nn := 0
	type item struct {
		s   []byte
		hex bool
		num float64
		str bool
	}
	var operand []item
	inArray := false
	var arr []item
	lastSep := byte('\n')
	sep := func(c byte) {
		if len(out) > 0 && lastSep == 0 {
			out = append(out, c)
			lastSep = c
		} else if c == '\n' && lastSep == ' ' {
			out[len(out)-1] = '\n'
			lastSep = '\n'
		}
	}
	show := func(it item) {
		if len(it.s) == 0 {
			return
		}
		n := len(out)
		out = cmap.decode(out, it.s, it.hex)
		if len(out) > n {
			lastSep = 0
		}
	}
	shown := len(out) // text counted so far
	for {
		before := s.pos
		t, kind := s.next()
		m.produced(len(out) - shown) // a code can map to many bytes
		if !m.step(s.pos-before+len(out)-shown+1) || len(out) > room {
			return out, len(out) > room
		}
		shown = len(out)
		switch kind {
		case pdfEOF:
			return out, false
		case pdfNumber:
			v := parsePDFNumber(t)
			if inArray {
				arr = append(arr, item{num: v})
				continue
			}
			if nn < len(nums) {
				nums[nn] = v
				nn++
			} else {
				copy(nums[:], nums[1:])
				nums[len(nums)-1] = v
			}
		case pdfString, pdfHex:
			it := item{s: t, hex: kind == pdfHex, str: true}
			if inArray {
				arr = append(arr, it)
			} else {
				operand = append(operand[:0], it)
			}
		case pdfName:
			lastName = append(lastName[:0], t...)
		case pdfArrayStart:
			inArray, arr = true, arr[:0]
		case pdfArrayEnd:
			inArray = false
		case pdfOp:
			switch string(t) {
			case "Tf":
				if c, ok := fonts[string(lastName)]; ok {
					cmap = c
				} else {
					cmap = fallback
				}
			case "Tj":
				for _, it := range operand {
					show(it)
				}
			case "'", `"`:
				sep('\n')
				for _, it := range operand {
					show(it)
				}
			case "TJ":
				for _, it := range arr {
					if it.str {
						show(it)
					} else if it.num < -250 {
						sep(' ')
					}
				}
			case "T*", "ET":
				sep('\n')
			case "Td", "TD":
				if nn >= 2 && nums[nn-1] != 0 {
					sep('\n')
				} else if nn >= 2 && nums[nn-2] != 0 {
					sep(' ')
				}
			case "Tm":
				sep('\n')
			}
			operand, nn = operand[:0], 0
			arr = arr[:0]
			s.buf = s.buf[:0] // strings of this operator are consumed
		}
	}
}
