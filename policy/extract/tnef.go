package extract

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"unicode/utf16"
)

// TNEF (winmail.dat) is how Outlook and Exchange wrap a rich-text message:
// the body (often as compressed RTF) and the attachments travel inside one
// application/ms-tnef part. [MS-OXTNEF] describes the format: a signature,
// then attributes (level, id, length, data, checksum); message and
// attachment properties are MAPI property lists ([MS-OXTNEF] 2.1.3.4).

const tnefSignature = 0x223E9F78

// TNEF attribute ids (with their type in the high word).
const (
	attBody           = 0x0001800C
	attAttachTitle    = 0x00018010
	attAttachData     = 0x0006800F
	attAttachRendData = 0x00069002
	attMsgProps       = 0x00069003
	attAttachment     = 0x00069005
)

// MAPI property ids.
const (
	prBody             = 0x1000
	prRTFCompressed    = 0x1009
	prHTML             = 0x1013
	prAttachDataBin    = 0x3701
	prAttachLongName   = 0x3707
	prAttachFilename   = 0x3704
	prAttachLongPath   = 0x370D
	mapiTypeString8    = 0x001E
	mapiTypeUnicode    = 0x001F
	mapiTypeBinary     = 0x0102
	mapiTypeObject     = 0x000D
	mapiTypeMultiValue = 0x1000
)

func isTNEF(data []byte) bool {
	return len(data) >= 6 && binary.LittleEndian.Uint32(data) == tnefSignature
}

type tnefAttachment struct {
	name string
	data []byte
}

// tnef reads the body and attachments of a TNEF stream. Every length in it
// is checked against the bytes that follow; none is used to allocate.
func (e *extractor) tnef(data []byte, src source, depth int) {
	const typ = "application/ms-tnef"
	var bodies []tnefBody
	var atts []*tnefAttachment
	var cur *tnefAttachment
	held := e.held
	defer func() { e.held = held }() // decompressed RTF bodies
	pos := 6
	for pos+9 <= len(data) {
		if !e.alive(src.loc) {
			return
		}
		level := data[pos]
		id := binary.LittleEndian.Uint32(data[pos+1:])
		n := int(binary.LittleEndian.Uint32(data[pos+5:]))
		start := pos + 9
		if n < 0 || start+n > len(data) {
			e.unscannable(src.loc, ParseError, "tnef: attribute longer than the stream", typ)
			break
		}
		val := data[start : start+n]
		pos = start + n + 2 // checksum
		// The value is read at most once more (a body decoded, a
		// property list parsed): count it now.
		e.m.step(11 + n)
		switch {
		case id == attAttachRendData && level == 2:
			cur = &tnefAttachment{}
			atts = append(atts, cur)
		case id == attAttachTitle && cur != nil:
			if cur.name == "" {
				cur.name = cString(val)
			}
		case id == attAttachData && cur != nil:
			cur.data = val
		case id == attAttachment && cur != nil:
			for _, p := range mapiProps(val) {
				switch p.id {
				case prAttachLongName, prAttachFilename, prAttachLongPath:
					if name := p.text(); name != "" && (p.id == prAttachLongName || cur.name == "") {
						cur.name = name
					}
				case prAttachDataBin:
					if cur.data == nil {
						cur.data = p.val
					}
				}
			}
		case id == attBody:
			bodies = append(bodies, tnefBody{text: decodeText(val, "windows-1252")})
		case id == attMsgProps:
			for _, p := range mapiProps(val) {
				switch p.id {
				case prBody:
					bodies = append(bodies, tnefBody{text: p.text()})
				case prHTML:
					bodies = append(bodies, tnefBody{text: htmlText(e.m, p.val)})
				case prRTFCompressed:
					loc := join(src.loc, "body")
					if !e.hold(rtfBufferSize(p.val), loc, typ) {
						continue
					}
					if rtf, ok := decompressRTF(p.val, e.lim.MaxDecompressedBytes-e.decompressed, e.m); ok {
						e.decompressed += int64(len(rtf))
						bodies = append(bodies, tnefBody{text: rtfText(rtf, e.m)})
					} else if len(p.val) >= 16 && rtfRawSize(p.val) > e.lim.MaxDecompressedBytes-e.decompressed {
						e.unscannable(loc, TooLarge, "compressed RTF body exceeds max_decompressed_bytes", typ)
					} else {
						e.unscannable(loc, ParseError, "tnef: bad compressed RTF", typ)
					}
				}
			}
		}
	}
	for _, b := range bodies {
		e.emit(Part{Location: join(src.loc, "body"), Kind: KindAttachment, MIMEType: typ, Filename: src.name, Size: int64(len(data))}, b.text)
	}
	for i, a := range atts {
		if e.stopped {
			return
		}
		name := a.name
		if name == "" {
			name = "attachment " + strconv.Itoa(i+1)
		}
		loc := join(src.loc, quoteName(name))
		if e.enter(loc, depth+1) {
			e.content(a.data, source{loc: loc, name: name, kind: KindAttachment}, depth+1)
		}
	}
}

type tnefBody struct{ text string }

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return decodeText(b, "windows-1252")
}

// mapiProp is one value of a MAPI property list.
type mapiProp struct {
	id, typ uint16
	val     []byte
}

func (p mapiProp) text() string {
	switch p.typ {
	case mapiTypeUnicode:
		u := make([]uint16, 0, len(p.val)/2)
		for i := 0; i+1 < len(p.val); i += 2 {
			c := binary.LittleEndian.Uint16(p.val[i:])
			if c == 0 {
				break
			}
			u = append(u, c)
		}
		return string(utf16.Decode(u))
	case mapiTypeString8:
		return cString(p.val)
	}
	return ""
}

// mapiProps parses a MAPI property list, keeping the values of variable
// length (strings, binaries) and skipping fixed-size ones. A malformed list
// ends the parse.
func mapiProps(b []byte) []mapiProp {
	r := tnefReader{b: b}
	count, ok := r.u32()
	if !ok {
		return nil
	}
	var out []mapiProp
	for i := uint32(0); i < count && i < 10000; i++ {
		t, ok1 := r.u16()
		id, ok2 := r.u16()
		if !ok1 || !ok2 {
			return out
		}
		if id >= 0x8000 { // named property: GUID, kind, id or name
			if !r.skip(16) {
				return out
			}
			kind, ok := r.u32()
			if !ok {
				return out
			}
			if kind == 0 {
				if !r.skip(4) {
					return out
				}
			} else {
				n, ok := r.u32()
				if !ok || !r.skip(pad4(int(n))) {
					return out
				}
			}
		}
		base := t &^ mapiTypeMultiValue
		size := fixedSize(base)
		switch {
		case size > 0 && t&mapiTypeMultiValue == 0:
			if !r.skip(size) {
				return out
			}
		case size > 0:
			n, ok := r.u32()
			if !ok || n > uint32(len(b)) || !r.skip(int(n)*size) {
				return out
			}
		case base == mapiTypeString8 || base == mapiTypeUnicode || base == mapiTypeBinary || base == mapiTypeObject:
			n, ok := r.u32()
			if !ok || n > uint32(len(b)) {
				return out
			}
			for range n {
				l, ok := r.u32()
				if !ok || l > uint32(len(b)) {
					return out
				}
				v, ok := r.bytes(int(l))
				if !ok || !r.skip(pad4(int(l))-int(l)) {
					return out
				}
				if base == mapiTypeObject && len(v) >= 16 {
					v = v[16:] // an embedded object starts with its interface id
				}
				out = append(out, mapiProp{id: id, typ: base, val: v})
			}
		default:
			return out // unknown type: its size is unknown
		}
	}
	return out
}

func fixedSize(t uint16) int {
	switch t {
	case 0x0001: // null
		return 4
	case 0x0002, 0x0003, 0x0004, 0x000A, 0x000B: // short, long, float, error, boolean (padded to 4)
		return 4
	case 0x0005, 0x0006, 0x0007, 0x0014, 0x0040: // double, currency, apptime, int64, systime
		return 8
	case 0x0048: // CLSID
		return 16
	}
	return 0
}

func pad4(n int) int { return (n + 3) &^ 3 }

type tnefReader struct {
	b   []byte
	pos int
}

func (r *tnefReader) u32() (uint32, bool) {
	if r.pos+4 > len(r.b) {
		return 0, false
	}
	v := binary.LittleEndian.Uint32(r.b[r.pos:])
	r.pos += 4
	return v, true
}

func (r *tnefReader) u16() (uint16, bool) {
	if r.pos+2 > len(r.b) {
		return 0, false
	}
	v := binary.LittleEndian.Uint16(r.b[r.pos:])
	r.pos += 2
	return v, true
}

func (r *tnefReader) skip(n int) bool {
	if n < 0 || r.pos+n > len(r.b) {
		return false
	}
	r.pos += n
	return true
}

func (r *tnefReader) bytes(n int) ([]byte, bool) {
	if n < 0 || r.pos+n > len(r.b) {
		return nil, false
	}
	v := r.b[r.pos : r.pos+n]
	r.pos += n
	return v, true
}

// rtfPrebuf is the dictionary compressed RTF starts with ([MS-OXRTFCP]).
const rtfPrebuf = "{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx"

// rtfRawSize is the size compressed RTF declares for its text.
func rtfRawSize(b []byte) int64 { return int64(binary.LittleEndian.Uint32(b[4:])) }

// rtfBufferSize is the most decompressRTF can allocate for b: twice its
// output (a growing buffer), which the declared size bounds only when it
// is smaller than what the data can expand to (at most 17 bytes for every
// 2 of input, and a reference).
func rtfBufferSize(b []byte) int {
	if len(b) < 16 {
		return 0
	}
	return 2 * int(min(rtfRawSize(b)+4096, int64(len(b))*9+32))
}

// decompressRTF expands compressed RTF ([MS-OXRTFCP]): "LZFu" (LZ77 with a
// 4 KiB ring preloaded with rtfPrebuf) or "MELA" (stored), within room
// bytes. The declared raw size bounds the output but does not size the
// buffer, which grows with the output; the work is counted on m.
func decompressRTF(b []byte, room int64, m *meter) ([]byte, bool) {
	if len(b) < 16 {
		return nil, false
	}
	rawSize := rtfRawSize(b)
	kind := string(b[8:12])
	in := b[16:]
	if rawSize > room {
		return nil, false
	}
	switch kind {
	case "MELA":
		return in[:min(len(in), int(rawSize))], true
	case "LZFu":
	default:
		return nil, false
	}
	var dict [4096]byte
	copy(dict[:], rtfPrebuf)
	wpos := len(rtfPrebuf)
	out := make([]byte, 0, min(rawSize, int64(len(in))*8, firstChunk))
	last, lastOut := 0, 0 // input and output counted on m
	defer func() {
		m.step(len(in) - last + len(out) - lastOut)
		m.produced(len(out))
	}()
	for i := 0; i < len(in); {
		if i-last >= 4<<10 {
			if !m.step(i - last + len(out) - lastOut) {
				return out, true // the caller sees the deadline
			}
			last, lastOut = i, len(out)
		}
		ctl := in[i]
		i++
		for bit := 0; bit < 8 && i < len(in); bit++ {
			if ctl&(1<<bit) == 0 {
				c := in[i]
				i++
				out = append(out, c)
				dict[wpos] = c
				wpos = (wpos + 1) & 4095
				continue
			}
			if i+1 >= len(in) {
				return out, true
			}
			ref := int(in[i])<<8 | int(in[i+1])
			i += 2
			off, n := ref>>4, ref&15+2
			if off == wpos {
				return out, true // end of stream
			}
			for k := 0; k < n; k++ {
				c := dict[(off+k)&4095]
				out = append(out, c)
				dict[wpos] = c
				wpos = (wpos + 1) & 4095
			}
			if int64(len(out)) > rawSize+4096 {
				return out, true
			}
		}
	}
	return out, true
}
