package extract

import (
	"bytes"
	"unicode/utf8"
	"unsafe"
)

// textView returns data as text without copying it when data is part of
// the message as read (a part without transfer encoding, or a large
// base64 part decoded in place: decodeBody), declared
// UTF-8, ASCII or no known charset, and already valid UTF-8 without a
// NUL or a byte-order mark: exactly the string decodeCharset would make
// of it, as a view of the message bytes. A large message's text then
// costs no memory beyond the message itself (max_text_bytes of text from
// a 50 MiB body would otherwise be a second copy). It returns "", false
// when the text must be decoded (decodeCharset).
func (e *extractor) textView(data []byte, cs string) (string, bool) {
	s, ok, _ := e.textViewASCII(data, cs)
	return s, ok
}

// textViewASCII is textView that also reports a view of ASCII text, which
// Normalize returns unchanged: the caller need not test it again.
func (e *extractor) textViewASCII(data []byte, cs string) (s string, ok, ascii bool) {
	if len(data) == 0 || !e.inMessage(data) {
		return "", false, false
	}
	cs = normalizeCharset(cs)
	if a, ok := charsetAliases[cs]; ok {
		cs = a
	}
	switch {
	case cs == "utf-8", cs == "utf8", cs == "us-ascii", cs == "ascii", unknownCharsetLabels[cs]:
	default:
		return "", false, false
	}
	if bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) || bytes.IndexByte(data, 0) >= 0 {
		return "", false, false
	}
	ascii = isASCII(data)
	if !ascii && !utf8.Valid(data) {
		return "", false, false
	}
	return unsafe.String(unsafe.SliceData(data), len(data)), true, ascii
}

// inMessage reports whether b lies within the message as read.
func (e *extractor) inMessage(b []byte) bool {
	if len(b) == 0 || len(e.raw) == 0 {
		return false
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(e.raw)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= start && p-start <= uintptr(len(e.raw)) && uintptr(len(b)) <= uintptr(len(e.raw))-(p-start)
}
