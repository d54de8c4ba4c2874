package extract

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"unsafe"
)

// Office document kinds found inside a ZIP container.
const (
	kindDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	kindXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	kindPPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	kindODT  = "application/vnd.oasis.opendocument.text"
	kindODS  = "application/vnd.oasis.opendocument.spreadsheet"
	kindODP  = "application/vnd.oasis.opendocument.presentation"
)

// officeKind tells an OOXML or ODF document from a plain ZIP by its
// members, not by its name.
func officeKind(zr *zip.Reader) string {
	var hasCT bool
	names := map[string]*zip.File{}
	for _, f := range zr.File {
		names[f.Name] = f
		if f.Name == "[Content_Types].xml" {
			hasCT = true
		}
	}
	if hasCT {
		switch {
		case names["word/document.xml"] != nil:
			return kindDOCX
		case names["xl/workbook.xml"] != nil:
			return kindXLSX
		case names["ppt/presentation.xml"] != nil:
			return kindPPTX
		}
	}
	if f := names["mimetype"]; f != nil && names["content.xml"] != nil && f.UncompressedSize64 < 100 {
		if rc, err := f.Open(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(rc, 100))
			rc.Close()
			switch strings.TrimSpace(string(b)) {
			case kindODT, kindODS, kindODP:
				return strings.TrimSpace(string(b))
			}
		}
	}
	return ""
}

// office reads the text of an OOXML or ODF document at depth, then every
// member its text did not take in (see [doc.rest]): a container never
// hides a member.
func (e *extractor) office(zr *zip.Reader, data []byte, kind string, src source, depth int) {
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	d := &doc{e: e, data: data, zr: zr, files: files, done: map[*zip.File]bool{}, src: src, kind: kind, size: int64(len(data))}
	defer func() { e.recycle(d.last) }() // the last member read is done with too
	switch kind {
	case kindDOCX:
		d.docx()
	case kindXLSX:
		d.xlsx()
	case kindPPTX:
		d.pptx()
	default:
		if !d.odf() {
			return // encrypted: its members are not readable
		}
		d.done[files["mimetype"]] = true // read by officeKind, it holds the kind only
		d.metadata("meta.xml")
		d.rest(depth)
		return
	}
	d.metadata("docProps/core.xml")
	d.rest(depth)
	d.sharedLeftovers()
}

// metadata reads the document properties (title, subject, author,
// keywords, description), which can carry data as well as the body.
func (d *doc) metadata(name string) {
	if data, ok := d.member(name); ok {
		d.emitText(join(d.src.loc, "properties"), data, metaRoles, true)
	}
}

// doc reads the XML members of one document.
type doc struct {
	e     *extractor
	data  []byte // the document file
	zr    *zip.Reader
	files map[string]*zip.File
	done  map[*zip.File]bool // members read as the document's text
	src   source
	kind  string
	size  int64        // of the document file
	read  int          // members read, bounded by MaxArchiveMembers
	sheet *sharedTable // shared strings of a workbook
	last  []byte       // the last member read, held from MaxScanMemory
}

// member reads one XML member of the document's text within the
// decompression limits. A member is read once: [doc.rest] skips it.
func (d *doc) member(name string) ([]byte, bool) {
	f := d.files[name]
	if f == nil || d.done[f] {
		return nil, false
	}
	d.done[f] = true
	return d.open(f, d.src.loc)
}

// open reads member f, reporting what stops it at loc.
func (d *doc) open(f *zip.File, loc string) ([]byte, bool) {
	d.read++
	if d.read > d.e.lim.MaxArchiveMembers {
		if d.read == d.e.lim.MaxArchiveMembers+1 {
			d.e.unscannable(d.src.loc, TooManyParts, fmt.Sprintf("more than %d members (max_archive_members); the rest was not scanned", d.e.lim.MaxArchiveMembers), d.kind)
		}
		return nil, false
	}
	if !d.e.alive(loc) {
		return nil, false
	}
	if f.Flags&0x1 != 0 {
		d.e.unscannable(loc, Encrypted, "encrypted document member", d.kind)
		return nil, false
	}
	if f.UncompressedSize64 > uint64(d.e.lim.MaxDecompressedBytes-d.e.decompressed) {
		d.e.unscannable(loc, TooLarge, "decompressed data exceeds max_decompressed_bytes", d.kind)
		return nil, false
	}
	rc, err := openMember(d.data, f)
	if err != nil {
		d.e.unscannable(loc, ParseError, "document: "+err.Error(), d.kind)
		return nil, false
	}
	defer rc.Close()
	d.e.recycle(d.last) // callers are done with the previous member
	body, ok := d.e.inflateReport(rc, int64(f.CompressedSize64), int64(f.UncompressedSize64), loc, d.kind)
	d.last = body
	if ok {
		d.e.checkCRC(f, body, loc, d.kind)
	}
	return body, ok
}

func (d *doc) emit(loc, text string) {
	d.e.emit(Part{Location: loc, Kind: KindAttachment, MIMEType: d.kind, Filename: d.src.name, Size: d.size}, text)
}

// numbered returns the members named prefix+N+suffix in the order of N.
func (d *doc) numbered(prefix, suffix string) []string {
	type item struct {
		n    int
		name string
	}
	var items []item
	d.e.m.step(len(d.files))
	for name := range d.files {
		if strings.HasPrefix(name, prefix) && strings.HasSuffix(name, suffix) {
			if n, err := strconv.Atoi(name[len(prefix) : len(name)-len(suffix)]); err == nil {
				items = append(items, item{n, name})
			}
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].n < items[j].n })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.name
	}
	return out
}

// xmlRole says what an element means for the text of a document.
type xmlRole struct {
	text bool // its character data is text
	skip bool // nothing inside it is text
	brk  byte // separator written at its end (0: none)
}

// roles builds a role table from the element lists of a format.
func roles(textTags map[string]bool, breaks map[string]byte, skipTags map[string]bool) map[string]xmlRole {
	m := map[string]xmlRole{}
	for k := range textTags {
		r := m[k]
		r.text = true
		m[k] = r
	}
	for k, c := range breaks {
		r := m[k]
		r.brk = c
		m[k] = r
	}
	for k := range skipTags {
		r := m[k]
		r.skip = true
		m[k] = r
	}
	return m
}

// runText collects the text of a document's XML; see [docText].
func runText(m *meter, data []byte, role map[string]xmlRole, allText bool) string {
	text, _ := docText(m, data, role, allText)
	return text
}

// emitText emits the text of a document's XML at loc and the rest of its
// character data and attribute values at loc "other text".
func (d *doc) emitText(loc string, data []byte, role map[string]xmlRole, allText bool) {
	text, other := docText(d.e.m, data, role, allText)
	d.emit(loc, text)
	d.emit(join(loc, "other text"), other)
}

// docText collects the text of a document's XML. With allText, all
// character data outside skipped elements is text (ODF); otherwise only
// that of elements with the text role (OOXML). The character data that is
// not text (field codes such as w:instrText, unknown and skipped
// elements) and the attribute values (w:fldSimple's w:instr) are other:
// a reader or a macro can show them too, so they are returned to be read
// apart, laid out as [anyXMLText] lays out a member. m counts the work;
// at the deadline the text so far is returned and the caller records it.
func docText(m *meter, data []byte, role map[string]xmlRole, allText bool) (text, other string) {
	s := xmlScanner{b: data, m: m}
	var t xmlToken
	out := make([]byte, 0, len(data)/4)
	var alt []byte   // descriptions of pictures and links, after the text
	var rest []byte  // character data that is not text
	var attrs []byte // attribute values, after rest
	in, skip := 0, 0
	for s.next(&t) {
		if t.kind == xmlText {
			if (in > 0 || allText) && skip == 0 {
				out = appendXMLText(out, t)
			} else {
				rest = appendXMLText(rest, t)
			}
			continue
		}
		if t.kind != xmlEnd {
			alt = appendAltText(alt, t.attrs)
			attrs = appendAttrValues(attrs, t.attrs, longAttrValue)
		}
		if n := len(rest); n > 0 && rest[n-1] != '\n' && !xmlInline[string(t.name)] {
			rest = append(rest, '\n')
		}
		r, ok := role[string(t.name)]
		if !ok {
			continue
		}
		switch t.kind {
		case xmlStart:
			if r.text {
				in++
			}
			if r.skip {
				skip++
			}
			continue
		case xmlEnd:
			if r.text && in > 0 {
				in--
			}
			if r.skip && skip > 0 {
				skip--
			}
		}
		c := r.brk
		if c == 0 || skip > 0 {
			continue
		}
		if c == ' ' && t.kind == xmlSelfClose {
			// text:s c="N" is N spaces
			cnt := 1
			if v, ok := attr(t.attrs, "text:c"); ok {
				cnt, _ = strconv.Atoi(string(v))
				cnt = min(max(cnt, 1), 100)
			}
			for range cnt {
				out = append(out, ' ')
			}
			continue
		}
		if n := len(out); n > 0 && (out[n-1] == '\n' || out[n-1] == '\t') && c != ' ' {
			// the end of a paragraph inside a cell, or of the last cell
			// of a row: one separator is enough
			out[n-1] = c
			continue
		}
		out = append(out, c)
	}
	if len(alt) > 0 {
		out = append(bytes.TrimRight(out, "\t\n"), alt...)
	}
	rest = append(bytes.TrimRight(rest, " \t\r\n"), attrs...)
	return ownedString(out), ownedString(rest)
}

// longAttrValue is the shortest attribute value a document's "other
// text" keeps: values of eight bytes or less (revision ids, sizes,
// colours, positions, "preserve") cannot hold a value, and a document has
// many of them.
const longAttrValue = 9

// altKeys are the attributes of OOXML elements that hold text a reader
// sees: the alternative text and title of pictures, shapes and charts
// (wp:docPr, p:cNvPr, xdr:cNvPr) and the tooltips of links.
var altKeys = []string{"descr", "title", "w:tooltip", "tooltip"}

// appendAltText appends the values of the altKeys attributes in attrs,
// each after a blank line.
func appendAltText(dst, attrs []byte) []byte {
	if bytes.IndexByte(attrs, '=') < 0 || !(bytes.Contains(attrs, []byte("descr=")) ||
		bytes.Contains(attrs, []byte("title=")) || bytes.Contains(attrs, []byte("tooltip="))) {
		return dst
	}
	for _, k := range altKeys {
		if v, ok := attr(attrs, k); ok && len(bytes.TrimSpace(v)) > 0 {
			dst = appendUnescaped(append(dst, '\n', '\n'), v)
		}
	}
	return dst
}

var (
	docxRoles = roles(map[string]bool{"w:t": true, "w:delText": true, "m:t": true},
		map[string]byte{"w:p": '\n', "w:tab": '\t', "w:br": '\n', "w:cr": '\n', "w:tc": '\t', "w:tr": '\n'}, nil)
	drawRoles = roles(map[string]bool{"a:t": true, "m:t": true},
		map[string]byte{"a:p": '\n', "a:br": '\n', "a:tab": '\t', "a:tc": '\t', "a:tr": '\n'}, nil)
	svgRoles     = roles(nil, map[string]byte{"text": '\n', "tspan": ' ', "title": '\n', "desc": '\n'}, map[string]bool{"style": true, "script": true})
	metaRoles    = roles(nil, map[string]byte{"dc:title": '\n', "dc:subject": '\n', "dc:creator": '\n', "cp:keywords": '\n', "dc:description": '\n', "cp:lastModifiedBy": '\n', "meta:keyword": '\n', "meta:initial-creator": '\n'}, nil)
	commentRoles = roles(map[string]bool{"t": true}, map[string]byte{"comment": '\n'}, nil)
	odfRoles     = roles(nil, map[string]byte{
		"text:p": '\n', "text:h": '\n', "text:tab": '\t', "text:line-break": '\n',
		"text:s": ' ', "table:table-cell": '\t', "table:table-row": '\n',
		"table:covered-table-cell": '\t',
	}, map[string]bool{"office:font-face-decls": true, "office:automatic-styles": true, "office:forms": true})
)

// docx reads the body, headers, footers, footnotes, endnotes and comments.
func (d *doc) docx() {
	if data, ok := d.member("word/document.xml"); ok {
		d.emitText(d.src.loc, data, docxRoles, false)
	}
	var extra []string
	for _, p := range []string{"word/header", "word/footer"} {
		extra = append(extra, d.numbered(p, ".xml")...)
	}
	extra = append(extra, "word/footnotes.xml", "word/endnotes.xml", "word/comments.xml")
	for _, name := range extra {
		if data, ok := d.member(name); ok {
			d.emitText(join(d.src.loc, quoteName(name)), data, docxRoles, false)
		}
	}
}

// pptx reads slides and their notes in slide order.
func (d *doc) pptx() {
	for i, name := range d.numbered("ppt/slides/slide", ".xml") {
		if data, ok := d.member(name); ok {
			d.emitText(join(d.src.loc, "slide "+strconv.Itoa(i+1)), data, drawRoles, false)
		}
	}
	for _, name := range d.numbered("ppt/notesSlides/notesSlide", ".xml") {
		if data, ok := d.member(name); ok {
			d.emitText(join(d.src.loc, "notes "+quoteName(path.Base(name))), data, drawRoles, false)
		}
	}
}

// odf reads an OpenDocument text, spreadsheet or presentation. Spreadsheet
// tables become sheets of their own; the text outside them is the
// document's. It reports false for an encrypted document.
func (d *doc) odf() bool {
	if man, ok := d.member("META-INF/manifest.xml"); ok && bytes.Contains(man, []byte("encryption-data")) {
		d.e.unscannable(d.src.loc, Encrypted, "encrypted OpenDocument", d.kind)
		return false
	}
	data, ok := d.member("content.xml")
	if !ok {
		return true
	}
	if d.kind != kindODS {
		d.emitText(d.src.loc, data, odfRoles, true)
		return true
	}
	// Split at table:table elements.
	s := xmlScanner{b: data, m: d.e.m}
	var t xmlToken
	var outside []byte // the markup outside tables, read as one text
	last := 0
	for before := s.pos; s.next(&t); before = s.pos {
		if t.kind != xmlStart || string(t.name) != "table:table" {
			continue
		}
		outside = append(outside, data[last:before]...)
		name, _ := attr(t.attrs, "table:name")
		start := s.pos
		depth := 1
		end := len(data)
		for depth > 0 && s.next(&t) {
			if string(t.name) == "table:table" {
				if t.kind == xmlStart {
					depth++
				} else if t.kind == xmlEnd {
					depth--
					if depth == 0 {
						end = s.pos
					}
				}
			}
		}
		last = end
		loc := join(d.src.loc, "sheet "+quoteName(string(appendUnescaped(nil, name))))
		d.emitText(loc, data[start:end], odfRoles, true)
	}
	outside = append(outside, data[last:]...)
	d.emitText(d.src.loc, outside, odfRoles, true)
	return true
}

// ownedString returns b as a string without copying it. b must not be
// written to afterwards: it is the text a document reader built and
// returns, and nothing else holds it.
func ownedString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
