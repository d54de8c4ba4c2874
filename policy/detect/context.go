package detect

import "strings"

// Negative context of numeric values: the text around a value that says it
// is something else. Each check looks at a bounded number of bytes around
// the value (at most ctxReach on each side), so it costs nothing on text
// without candidates and a constant per candidate.

// ctxReach bounds how far the context checks look, in bytes.
const ctxReach = 64

// identifierContext reports whether the value text[start:end] is part of
// a URL, a path, a file name or a compound identifier rather than a
// free-standing number:
//
//   - it follows '/' that follows a word or another '/' (a path segment:
//     "/testcase-detail/5390364397928448", "example.com/5390...");
//   - it follows '-' or '.' that follows a word which itself follows '-',
//     '.', '/' or '_' after a word (a compound name:
//     "testcase-minimized-fuzzer-5390...", "a.b.5390..."), or an
//     identifier prefix (see prefixWord: "crash-", "RMA-"); a label word
//     before '-' or '.' ("Ref-", "No.") does not count;
//   - it follows '=' after a key that follows '?', '&', '.' or ';' (a URL
//     query, "dd.trace_id=") or that names an identifier ("span_id=",
//     "testcaseId=");
//   - its token (no white space) contains "://" or starts with "www.";
//   - it is followed by '.' and a short extension of letters and digits
//     that ends the token, when something joins it to the word before
//     ("build.5390364397928448.zip"; a value that is the whole word before
//     its extension is judged like free text), or by '-' or '/' and a
//     letter ("5390364397928448-crash", "…/detail").
func identifierContext(t string, start, end int) bool {
	if start > 1 {
		switch t[start-1] {
		case '/':
			if c := t[start-2]; c == '/' || wordClass[c] != 0 {
				return true
			}
		case '-', '.':
			w := wordBefore(t, start-1)
			if w < start-1 && (w > 1 && isJoiner(t[w-1]) && wordClass[t[w-2]] != 0 || prefixWord(t[w:start-1], t[start-1])) {
				return true
			}
		case '=':
			w := wordBefore(t, start-1)
			if w < start-1 && (w > 0 && (t[w-1] == '?' || t[w-1] == '&' || t[w-1] == '.' || t[w-1] == ';') || idKey(t[w:start-1]) || pairBefore(t, w)) {
				return true
			}
		}
	}
	if structuredKey(t, start) {
		return true
	}
	if end+1 < len(t) {
		switch t[end] {
		case '.':
			if stemBeforeExtension(t, start, end) {
				// A whole word before its extension is judged as a word:
				// "4532015112830366.txt" in an archive's listing shows a
				// card to every reader. Compound names stay identifiers.
				break
			}
			e := end + 1
			for e < len(t) && e-end <= 6 && isAlnum(t[e]) {
				e++
			}
			if n := e - end - 1; n >= 1 && n <= 5 && wordClass[t[end+1]] != cDigit && (e >= len(t) || !isAlnum(t[e])) {
				if e >= len(t) || t[e] != '.' || e+1 >= len(t) || !isAlnum(t[e+1]) {
					return true
				}
			}
		case '-', '/':
			if c := t[end+1]; wordClass[c] == cUpper || wordClass[c] == cLower {
				return true
			}
		}
	}
	// A URL: the token holding the value contains "://" or starts with "www.".
	p := start - 1
	for p >= 0 && start-p <= ctxReach && !isSpaceByte(t[p]) {
		if t[p] == ':' && p+2 < start && t[p+1] == '/' && t[p+2] == '/' {
			return true
		}
		p--
	}
	if p+5 <= start && (t[p+1:p+5] == "www." || t[p+1:p+5] == "WWW.") {
		return true
	}
	return false
}

// prefixWord reports whether the word w, joined by sep ('-' or '.') to a
// number, is a system's identifier prefix rather than a label: a
// lower-case word of three letters or more ("crash-", "oom-",
// "fuzzer-"), or two to six capitals before '-' ("RMA-", "INV-", "ART-").
// A capitalised word ("Ref-", "No.") and short words are labels.
func prefixWord(w string, sep byte) bool {
	var f uint8
	for k := 0; k < len(w); k++ {
		f |= wordClass[w[k]]
	}
	switch f {
	case cLower:
		return len(w) >= 3
	case cUpper:
		return sep == '-' && len(w) >= 2 && len(w) <= 6
	}
	return false
}

// idKey reports whether the key of a key=value pair names an identifier
// rather than a card or account: it holds '_' ("trace_id") or ends in "id".
func idKey(w string) bool {
	for k := 0; k < len(w); k++ {
		if w[k] == '_' {
			return true
		}
	}
	n := len(w)
	return n >= 2 && (w[n-2] == 'i' || w[n-2] == 'I') && (w[n-1] == 'd' || w[n-1] == 'D')
}

// pairBefore reports whether another key=value pair stands on the same
// line within ctxReach bytes before position w: a structured log line
// ("job=359242033 attempt=5 offset=391451140069610").
func pairBefore(t string, w int) bool {
	for p := w - 1; p > 0 && w-p <= ctxReach && t[p] != '\n'; p-- {
		if t[p] == '=' && wordClass[t[p-1]] != 0 {
			return true
		}
	}
	return false
}

// structuredKey reports whether the value at start is the value of a
// JSON or YAML key that names an identifier: "label_id": 3983..., "id":
// 5228..., order_id: 2348... (a quoted key, or a key with '_').
func structuredKey(t string, start int) bool {
	_, ok := structuredKeyName(t, start)
	return ok
}

// structuredKeyName returns the key of a structured value at start as it
// is written before the colon, quotes included ("\"id\"", order_id), and
// whether it names an identifier (see structuredKey).
func structuredKeyName(t string, start int) (string, bool) {
	// Quotes may be doubled (JSON inside a CSV cell).
	p := start - 1
	for k := 0; k < 2 && p >= 0 && t[p] == '"'; k++ {
		p--
	}
	for p >= 0 && start-p <= 6 && t[p] == ' ' {
		p--
	}
	if p < 1 || t[p] != ':' {
		return "", false
	}
	p--
	quoted := false
	for k := 0; k < 2 && p >= 0 && t[p] == '"'; k++ {
		p, quoted = p-1, true
	}
	if p < 0 {
		return "", false
	}
	w := wordBefore(t, p+1)
	if w > p {
		return "", false
	}
	key := t[w : p+1]
	if quoted {
		return key, w > 0 && t[w-1] == '"' && idKey(key)
	}
	return key, idKey(key) && strings.IndexByte(key, '_') >= 0
}

// wordBefore returns the start of the word (letters, digits, '_') that
// ends at e, looking back at most ctxReach bytes; e if there is none.
func wordBefore(t string, e int) int {
	w := e
	for w > 0 && e-w < ctxReach && wordClass[t[w-1]] != 0 {
		w--
	}
	return w
}

// isJoiner reports whether c joins the parts of a compound name.
func isJoiner(c byte) bool { return c == '-' || c == '.' || c == '/' || c == '_' }

// numberLabels are words that say what kind of number follows them: a
// number right after "Order", "Invoice" or "Tracking" is that kind of
// number, whatever keyword stands further away. A label counts when it
// ends at most labelReach bytes before the value, with no digit and at
// most one line break between them, and no keyword of the identifier
// stands between the label and the value. Generic words that may as well
// introduce a list of anything ("item", "part", "client") are not labels.
var numberLabels = []string{
	"parcel", "order", "invoice", "ticket", "transaction", "txn", "tracking", "shipment", "consignment",
	"waybill", "AWB", "customer", "ISBN", "ISSN", "EAN", "GTIN", "UPC", "SKU",
	"build", "commit", "case", "reference", "booking", "reservation", "confirmation",
	"claim", "serial", "version", "bug", "CVE", "phone", "tel", "telephone", "fax", "mobile",
	"timestamp", "epoch", "testcase", "PO", "purchase order", "incident", "membership", "loyalty", "badge",
	"DHL", "UPS", "USPS", "FedEx", "DPD", "GLS", "Hermes", "PostNL", "Colissimo", "Royal Mail",
	"Bestellung", "Bestellnummer", "Rechnung", "Rechnungsnummer", "Kundennummer", "Auftrag", "Auftragsnummer",
	"Sendung", "Sendungsnummer", "Lieferschein", "Telefon", "commande", "facture", "colis",
	"pedido", "factura", "ordine", "fattura", "bestelling", "factuur", "zamówienie", "faktura",
}

// labelReach is how far before a value its label may end, in bytes.
const labelReach = 32

// labelBit marks keyword patterns that are number labels.
const labelBit idMask = 1 << 63

// labelGap reports whether text[from:to], between a label and a value,
// lets the label apply: no digit and at most one line break.
func labelGap(t string, from, to int) bool {
	if to-from > labelReach {
		return false
	}
	lines := 0
	for p := from; p < to; p++ {
		switch c := t[p]; {
		case isDigit(c):
			return false
		case c == '\n':
			lines++
		}
	}
	return lines <= 1
}

// headerLabel reports whether the table header cell h names a kind of
// number: a word and then "no.", "nr", "number", "num", "#" or "ID"
// ("Part no.", "Badge #", "Employee ID"). The caller has found no keyword
// of the value's identifier in it, so the column holds numbers of another
// kind ("Card no." has the keyword "card").
func headerLabel(h string) bool {
	e := len(h)
	for e > 0 && (isSpaceByte(h[e-1]) || h[e-1] == '"' || h[e-1] == ':' || h[e-1] == '.' || h[e-1] == '*') {
		e--
	}
	h = h[:e]
	s := e
	for s > 0 && (isAlnum(h[s-1]) || h[s-1] == '#') {
		s--
	}
	switch strings.ToLower(h[s:]) {
	case "no", "nr", "number", "num", "#", "id":
	default:
		return false
	}
	// A word before it, joined by a space, '-', '_' or '.'.
	if s > 0 && (h[s-1] == ' ' || h[s-1] == '-' || h[s-1] == '_' || h[s-1] == '.') {
		s--
	}
	return s > 0 && hasLetter(h[:s])
}
