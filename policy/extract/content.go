package extract

import (
	"archive/zip"
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
)

// contentHook, when set by a test, runs before each leaf is read.
var contentHook func(loc string)

// source describes content to read: where it is and what was declared.
type source struct {
	loc      string
	name     string // file name, if any
	declared string // declared media type (MIME parts only)
	charset  string // declared charset (MIME parts only)
	kind     Kind
}

// content reads one leaf: a MIME body part, an attachment or an archive
// member. The type is detected from the bytes; the declared type only
// tells HTML from plain text and gives the charset. A panic in an extractor
// is recovered here and reported as a parse error of this content only.
func (e *extractor) content(data []byte, src source, depth int) {
	detected := ""
	defer func() {
		if v := recover(); v != nil {
			e.unscannable(src.loc, ParseError, fmt.Sprintf("extractor failed: %v", v), detected)
		}
	}()
	if !e.alive(src.loc) {
		return
	}
	if contentHook != nil {
		contentHook(src.loc)
	}
	m := mimetype.Detect(data)
	detected = baseType(m.String())
	switch {
	case isTNEF(data):
		detected = "application/ms-tnef"
		e.tnef(data, src, depth)
	case len(data) == 0:
		if src.kind == KindAttachment {
			e.emit(Part{Location: src.loc, Kind: KindAttachment, MIMEType: "application/x-empty", Filename: src.name}, "")
		}
	case isA(m, "application/zip"):
		e.zip(data, src, detected, depth)
	case isA(m, "application/gzip"):
		e.gzip(data, src, depth)
	case isA(m, "application/x-bzip2"):
		e.bzip2(data, src, depth)
	case isA(m, "application/x-tar"):
		e.tar(data, src, depth)
	case isA(m, "application/pdf"):
		e.pdf(data, src, depth)
	case isA(m, "text/rtf"):
		e.rtf(data, src)
	case isA(m, "message/rfc822") && (src.kind == KindAttachment || src.declared == "message/rfc822"):
		e.message(data, src.loc, depth+1, false)
	case isA(m, "application/x-ole-storage"):
		e.ole(data, src, detected)
	case detected == "image/svg+xml":
		// SVG is XML: its text elements are text; scripts, styles and
		// attribute values are read apart.
		text, other := docText(e.m, data, svgRoles, true)
		p := Part{Location: src.loc, Kind: src.kind, MIMEType: detected, Filename: src.name, Size: int64(len(data))}
		e.emit(p, text)
		p.Location = join(src.loc, "other text")
		e.emit(p, other)
	case detected == "text/xml" && src.kind == KindAttachment && utf8.Valid(data):
		e.xml(data, src)
	case isA(m, "text/plain"):
		e.text(data, src, detected, depth)
	case !looksTextual(detected) && e.appendedZip(data):
		// A self-extracting archive, or a picture with an archive after
		// it: archive tools open it by the directory at its end.
		e.zip(data, src, detected, depth)
	case strings.HasPrefix(detected, "image/"), strings.HasPrefix(detected, "audio/"),
		strings.HasPrefix(detected, "video/"), strings.HasPrefix(detected, "font/"):
		e.unscannable(src.loc, Unsupported, detected+": no text extraction for this type", detected)
	case looksText(data):
		e.text(data, src, "text/plain", depth)
	default:
		e.unscannable(src.loc, Unsupported, detected+": no text extraction for this type", detected)
	}
}

// text reads text content: charset decoding, HTML to text, uuencoded
// blocks as parts of their own.
func (e *extractor) text(data []byte, src source, detected string, depth int) {
	isHTML := src.declared == "text/html" || src.declared == "application/xhtml+xml" ||
		(src.kind == KindAttachment && (detected == "text/html" || detected == "application/xhtml+xml"))
	cs := src.charset
	if cs == "" && isHTML {
		cs = metaCharset(data)
	}
	// Plain text gives at least one byte of text per two bytes of input,
	// so input beyond twice the room left cannot be returned: do not
	// decode it, and say so.
	if room := e.lim.MaxTextBytes - e.textBytes; !isHTML && int64(len(data)) > 2*room+64 {
		data = data[:2*room+64]
		e.unscannable(src.loc, TooLarge, "extracted text exceeds max_text_bytes; the rest was not scanned", detected)
	}
	e.m.step(len(data))
	// A view has no NUL and, when ascii, is what Normalize returns.
	s, viewed, ascii := e.textViewASCII(data, cs)
	known := viewed
	if !known {
		s, known = decodeCharset(data, cs)
	}
	if !known {
		e.unscannable(src.loc, UnknownCharset, "unknown charset "+safeLabel(cs)+": read as bytes", detected)
	}
	// A NUL is shown as nothing, or ends the text where a reader's
	// client stops at it: either way it must not split a value.
	if !viewed && strings.IndexByte(s, 0) >= 0 {
		e.m.step(len(s))
		s = strings.ReplaceAll(s, "\x00", "")
	}
	typ := detected
	if src.kind != KindAttachment && strings.HasPrefix(src.declared, "text/") {
		typ = src.declared
	}
	var uris [][]byte
	if isHTML {
		ascii = false
		s = htmlTextURIs(e.m, []byte(s), &uris)
		e.alive(src.loc) // records the deadline if htmlText stopped at it
		typ = "text/html"
	}
	if strings.Contains(s, "begin ") {
		s = e.uuencoded(s, src, depth)
	}
	if hasPGPMessage(s) {
		e.unscannable(src.loc, Encrypted, "inline PGP message", typ)
	}
	p := Part{Location: src.loc, Kind: src.kind, MIMEType: typ, Filename: src.name, Size: int64(len(data))}
	if ascii { // uuencoded blocks taken out leave ASCII text
		e.emitASCII(p, s)
	} else {
		e.emit(p, s)
	}
	if j := markupJoined(e.m, s); j != "" {
		e.emit(Part{Location: join(src.loc, "markup removed"), Kind: src.kind, MIMEType: typ, Filename: src.name}, j)
		e.alive(src.loc)
	}
	e.dataURIs(uris, src, depth)
}

// xml reads an XML attachment as a reader's application shows it:
// entities and character references decoded ("&#52;" is 4), elements on
// lines of their own, then the attribute values. A flat OpenDocument file
// (.fodt, .fods, .fodp: the whole document in one XML file) is read as
// ODF text, with its skipped sections and attributes as other text.
func (e *extractor) xml(data []byte, src source) {
	p := Part{Location: src.loc, Kind: src.kind, MIMEType: "text/xml", Filename: src.name, Size: int64(len(data))}
	e.m.step(min(len(data), 4096))
	if bytes.Contains(data[:min(len(data), 4096)], []byte("<office:document")) {
		p.MIMEType = "application/vnd.oasis.opendocument.flat-xml"
		text, other := docText(e.m, data, odfRoles, true)
		e.emit(p, text)
		p.Location = join(src.loc, "other text")
		e.emit(p, other)
	} else {
		e.emit(p, anyXMLText(e.m, data))
	}
	e.alive(src.loc) // records the deadline if the reader stopped at it
}

// uuencoded reads the uuencoded blocks of s as attachments and returns s
// without them.
func (e *extractor) uuencoded(s string, src source, depth int) string {
	blocks := findUUBlocks(s, e.m)
	if len(blocks) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, blk := range blocks {
		b.WriteString(s[last:blk.start])
		last = blk.end
		loc := join(src.loc, "uuencoded "+quoteName(blk.name))
		if e.enter(loc, depth+1) {
			e.content(blk.data, source{loc: loc, name: blk.name, kind: KindAttachment}, depth+1)
		}
	}
	b.WriteString(s[last:])
	return b.String()
}

// looksTextual reports the detected types read as text.
func looksTextual(t string) bool {
	return strings.HasPrefix(t, "text/") || strings.HasSuffix(t, "+xml") || strings.HasSuffix(t, "/json")
}

// appendedZip reports data that ends with a ZIP archive after other data:
// an end of central directory record in its last 64 KiB whose directory
// archive/zip can read. A directory far beyond max_archive_members is
// left to [extractor.zip] to refuse before it is built.
func (e *extractor) appendedZip(data []byte) bool {
	tail := data[max(0, len(data)-(65535+22)):]
	e.m.step(len(tail))
	if bytes.LastIndex(tail, []byte("PK\x05\x06")) < 0 {
		return false
	}
	if zipEntries(data) > 16*int64(e.lim.MaxArchiveMembers) {
		return true
	}
	e.m.step(len(data))
	_, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	return err == nil
}

// isA reports whether m is typ or a descendant of it in mimetype's tree
// (an XLSX is a ZIP). It compares names: MIME.Is parses the type on every
// call.
func isA(m *mimetype.MIME, typ string) bool {
	for ; m != nil; m = m.Parent() {
		if baseType(m.String()) == typ {
			return true
		}
	}
	return false
}

func baseType(t string) string {
	if i := strings.IndexByte(t, ';'); i >= 0 {
		return t[:i]
	}
	return t
}

// looksText reports whether data is probably text in some charset: UTF-16
// by its NUL pattern, or bytes with few control characters. NULs do not
// count: a reader shows the text around them (and text removes them),
// and binary data has other control bytes.
func looksText(data []byte) bool {
	sample := data[:min(len(data), 4096)]
	if le, be := nulPattern(sample); le || be {
		return true
	}
	ctl, nul := 0, 0
	for _, c := range sample {
		switch {
		case c == 0:
			nul++
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1b || c == 0x7f:
			ctl++
		}
	}
	return nul < len(sample) && ctl*100 <= len(sample)-nul
}

var metaCharsetRE = regexp.MustCompile(`(?i)<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-z0-9_.:\-]+)`)

// metaCharset returns the charset an HTML document declares in a meta
// element within its first 4 KiB.
func metaCharset(doc []byte) string {
	if m := metaCharsetRE.FindSubmatch(doc[:min(len(doc), 4096)]); m != nil {
		return string(m[1])
	}
	return ""
}

// pgpArmour opens an ASCII-armoured PGP message (RFC 4880, section 6.2).
const pgpArmour = "-----BEGIN PGP MESSAGE-----"

// hasPGPMessage is strings.Contains(s, pgpArmour), searched by the rarer
// "PGP MESSAGE-----" rather than by its first byte: strings.Index looks
// for the first byte, and text with many dashes (dates, references) made
// that search several times slower than the rest of the text's handling.
// Each occurrence of the anchor is passed once: linear in s.
func hasPGPMessage(s string) bool {
	const lead = len("-----BEGIN ")
	anchor := pgpArmour[lead:]
	for i := lead; i < len(s); {
		k := strings.Index(s[i:], anchor)
		if k < 0 {
			return false
		}
		if p := i + k; s[p-lead:p] == pgpArmour[:lead] {
			return true
		}
		i += k + 1
	}
	return false
}
