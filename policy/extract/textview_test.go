package extract

import (
	"bytes"
	"context"
	"encoding/base64"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// textViewAgrees checks that, for data inside a message, the view
// textView gives is byte for byte what decodeCharset makes of it.
func textViewAgrees(t *testing.T, data []byte, cs string) (viewed bool) {
	t.Helper()
	raw := append([]byte("header\r\n\r\n"), data...)
	e := &extractor{raw: raw}
	body := raw[len("header\r\n\r\n"):]
	s, ok := e.textView(body, cs)
	if !ok {
		if s != "" {
			t.Fatalf("textView(%q, %q) refused but returned %q", data, cs, s)
		}
		return false
	}
	want, known := decodeCharset(body, cs)
	if !known || s != want {
		t.Fatalf("textView(%q, %q) = %q, decodeCharset = %q (known %v)", data, cs, s, want, known)
	}
	// An ASCII view skips Normalize: it must be one Normalize leaves as is.
	if _, _, ascii := e.textViewASCII(body, cs); ascii != isASCIIString(s) || ascii && Normalize(s) != s {
		t.Fatalf("textViewASCII(%q, %q) ascii = %v; isASCIIString %v, Normalize %q", data, cs, ascii, isASCIIString(s), Normalize(s))
	}
	// Outside the message (a decoded buffer, a decompressed member) text
	// is always decoded into its own string.
	if _, ok := e.textView(bytes.Clone(body), cs); ok {
		t.Fatalf("textView viewed bytes outside the message")
	}
	return true
}

func TestIssue12TextViewAgreesWithDecode(t *testing.T) {
	cases := []struct {
		data, cs string
		view     bool
	}{
		{"plain ascii text\r\n", "", true},
		{"plain ascii text\r\n", "us-ascii", true},
		{"plain ascii text\r\n", `"UTF-8"`, true},
		{"plain ascii text\r\n", "utf8mb4", true},
		{"plain ascii text\r\n", "unknown-8bit", true},
		{"caf\xc3\xa9 \xe2\x82\xac 4111\r\n", "utf-8", true},
		{"caf\xe9 1252\r\n", "utf-8", false},          // invalid UTF-8: Windows-1252 by sniffing
		{"\xef\xbb\xbfbom first\r\n", "utf-8", false}, // the BOM is dropped
		{"a\x00b\x00c\x00d\x00", "", false},           // NUL: UTF-16 or removed
		{"latin text\r\n", "iso-8859-1", false},       // decoded by its charset
		{"utf16\r\n", "utf-16le", false},
		{"weird label\r\n", "x-no-such-charset", false},
	}
	for _, c := range cases {
		if got := textViewAgrees(t, []byte(c.data), c.cs); got != c.view {
			t.Errorf("textView(%q, %q) viewed = %v, want %v", c.data, c.cs, got, c.view)
		}
	}
}

// A large plain body costs the message's own copy and not a second one:
// the text of a part without transfer encoding is a view of it.
func TestIssue12PlainBodyTextIsAView(t *testing.T) {
	body := strings.Repeat("Invoice 2024-118 for 1,250.00 EUR, order 77812, due 2025-01-31.\r\n", 8<<20/66)
	msg := "From: a@example.com\r\nTo: b@example.org\r\nSubject: big\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
	res, allocated := extractCost(t, msg)
	longest := 0
	for _, p := range res.Parts {
		longest = max(longest, len(p.Text))
	}
	if longest < len(body)-2 {
		t.Fatalf("body text not extracted whole: longest part %d bytes of %d", longest, len(body))
	}
	if limit := readCost(t, msg) + uint64(len(msg))/4; allocated > limit {
		t.Fatalf("Extract allocated %d bytes for a %d-byte plain message, want <= %d (the message and no copy of its text)", allocated, len(msg), limit)
	}
	// The same body in quoted-printable is decoded into its own buffer:
	// the view is only for bytes as they arrived.
	qp := strings.Replace(msg, "charset=utf-8\r\n", "charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n", 1)
	if _, allocated := extractCost(t, qp); allocated < readCost(t, qp)+uint64(len(body)) {
		t.Fatalf("quoted-printable body: allocated %d bytes, want a decoded copy of the %d-byte body", allocated, len(body))
	}
}

// extractCost extracts msg (after one run that warms up the package's
// spares) and returns the result and the bytes the measured run allocated.
func extractCost(t *testing.T, msg string) (*Result, uint64) {
	t.Helper()
	if _, err := Extract(context.Background(), strings.NewReader(msg), DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := Extract(context.Background(), strings.NewReader(msg), DefaultLimits())
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	return res, after.TotalAlloc - before.TotalAlloc
}

// readCost is what reading msg into the scan's own buffer allocates: the
// message's size, or twice that with the race detector, whose
// instrumentation defeats bytes.Buffer's single allocation when it grows.
func readCost(t *testing.T, msg string) uint64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	raw, _, err := readBounded(strings.NewReader(msg), int64(len(msg)))
	runtime.ReadMemStats(&after)
	if err != nil || len(raw) != len(msg) {
		t.Fatalf("readBounded: %d bytes, %v", len(raw), err)
	}
	return after.TotalAlloc - before.TotalAlloc
}

func FuzzTextView(f *testing.F) {
	f.Add([]byte("plain text\r\n"), "")
	f.Add([]byte("caf\xc3\xa9"), "utf-8")
	f.Add([]byte("caf\xe9"), "us-ascii")
	f.Add([]byte("\xef\xbb\xbfx"), "utf8")
	f.Add([]byte("a\x00b"), "unknown-8bit")
	f.Add([]byte("text"), "UTF-8*en")
	f.Fuzz(func(t *testing.T, data []byte, cs string) {
		textViewAgrees(t, data, cs)
	})
}

// base64Attachment is a message with a short body and a base64 CSV
// attachment of about size bytes; it returns the message and the CSV.
func base64Attachment(size int, extraHeader string) (string, string) {
	var csv strings.Builder
	for i := 0; csv.Len() < size; i++ {
		csv.WriteString("row " + strconv.Itoa(i) + ", Invoice 2024-118, 1,250.00 EUR, order 77812\r\n")
	}
	enc := base64.StdEncoding.EncodeToString([]byte(csv.String()))
	var m strings.Builder
	m.WriteString("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX\r\n" +
		"Content-Type: text/csv; name=a.csv\r\nContent-Disposition: attachment; filename=a.csv\r\nContent-Transfer-Encoding: base64\r\n" + extraHeader + "\r\n")
	for i := 0; i < len(enc); i += 76 {
		m.WriteString(enc[i:min(i+76, len(enc))] + "\r\n")
	}
	m.WriteString("--XX--\r\n")
	return m.String(), csv.String()
}

// A large base64 attachment is decoded over its encoded bytes: the scan
// costs the message's memory, not a decoded copy and a text copy more,
// and reads the same text.
func TestIssue12LargeBase64DecodedInPlace(t *testing.T) {
	msg, csv := base64Attachment(6<<20, "")
	res, allocated := extractCost(t, msg)
	var text string
	for _, p := range res.Parts {
		if p.Filename == "a.csv" {
			text = p.Text
		}
	}
	if text != csv {
		t.Fatalf("attachment text differs from the CSV: %d bytes, want %d", len(text), len(csv))
	}
	if limit := readCost(t, msg) + uint64(len(msg))/4; allocated > limit {
		t.Fatalf("Extract allocated %d bytes for a %d-byte message, want <= %d (no decoded copy)", allocated, len(msg), limit)
	}

	// A second transfer encoding is read from the encoded bytes as well:
	// those must stay as they are, so the part is decoded into a buffer.
	msg2, _ := base64Attachment(2<<20, "Content-Transfer-Encoding: quoted-printable\r\n")
	res2, err := Extract(context.Background(), strings.NewReader(msg2), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	var b64, qp string
	for _, p := range res2.Parts {
		switch p.Location {
		case `attachment "a.csv"`:
			b64 = p.Text
		case `attachment "a.csv" (read as quoted-printable)`:
			qp = p.Text
		}
	}
	if !strings.HasPrefix(b64, "row 0, Invoice") || !strings.HasPrefix(qp, base64.StdEncoding.EncodeToString([]byte("row 0, Invoice"))[:16]) {
		t.Fatalf("two encodings: base64 reading %.20q, quoted-printable reading %.20q", b64, qp)
	}
}

func FuzzDecodeInPlace(f *testing.F) {
	f.Add([]byte("QUJD\r\nREVG\r\n"))
	f.Add([]byte("QQ==QkI=\r\nQ0NDQw"))
	f.Add([]byte("Q*U=J\x00D"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, []byte(base64.StdEncoding.EncodeToString(data))} {
			want := decodeBase64(in)
			buf := bytes.Clone(in)
			if got := decodeBase64InPlace(buf); !bytes.Equal(got, want) {
				t.Fatalf("decodeBase64InPlace(%q) = %q, decodeBase64 = %q", in, got, want)
			}
		}
	})
}
