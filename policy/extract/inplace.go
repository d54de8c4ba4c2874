package extract

import "github.com/emersion/go-message"

// inPlaceDecodeBytes is the size from which a base64 part of the message
// is decoded over its own encoded bytes instead of into a new buffer: a
// large attachment then costs the message's memory and not a second
// three-quarters of it (and its text, a view of the decoded bytes, costs
// nothing more; see textView). Smaller parts keep the faster line
// decoder; both give the same bytes (FuzzDecode, FuzzDecodeInPlace).
const inPlaceDecodeBytes = 1 << 20

// decodeBody undoes the transfer encoding of an entity's body. A large
// base64 body inside the message as read, whose entity names no other
// transfer encoding (otherEncodings reads the encoded bytes again), nor
// any entity around it (its otherEncodings reads these bytes again as
// part of its own: e.rereads), is decoded in place: nothing reads its
// encoded bytes after this.
func (e *extractor) decodeBody(h message.Header, body []byte) []byte {
	cte := h.Get("Content-Transfer-Encoding")
	if len(body) >= inPlaceDecodeBytes && cteToken(cte) == "base64" && e.rereads == 0 && e.inMessage(body) && oneEncoding(h) {
		return decodeBase64InPlace(body)
	}
	return decodeTransfer(cte, body)
}

// oneEncoding reports whether every Content-Transfer-Encoding field of h
// is read the same way.
func oneEncoding(h message.Header) bool {
	first := cteKind(cteToken(h.Get("Content-Transfer-Encoding")))
	fields := h.FieldsByKey("Content-Transfer-Encoding")
	for fields.Next() {
		if cteKind(cteToken(fields.Value())) != first {
			return false
		}
	}
	return true
}

// decodeBase64InPlace is decodeBase64Tolerant writing its output over
// its input (see appendBase64Tolerant).
func decodeBase64InPlace(in []byte) []byte { return appendBase64Tolerant(in[:0], in) }
