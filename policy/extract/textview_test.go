package extract

import (
	"bytes"
	"context"
	"runtime"
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
	lim := DefaultLimits()
	// Warm up spares and the detector tables of the package.
	if _, err := Extract(context.Background(), strings.NewReader(msg), lim); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := Extract(context.Background(), strings.NewReader(msg), lim)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	longest := 0
	for _, p := range res.Parts {
		longest = max(longest, len(p.Text))
	}
	if longest < len(body)-2 {
		t.Fatalf("body text not extracted whole: longest part %d bytes of %d", longest, len(body))
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	if limit := uint64(len(msg)) + uint64(len(msg))/4; allocated > limit {
		t.Fatalf("Extract allocated %d bytes for a %d-byte plain message, want <= %d (the message and no copy of its text)", allocated, len(msg), limit)
	}
	// The same body in quoted-printable is decoded into its own buffer:
	// the view is only for bytes as they arrived.
	qp := strings.Replace(msg, "charset=utf-8\r\n", "charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n", 1)
	runtime.ReadMemStats(&before)
	if _, err := Extract(context.Background(), strings.NewReader(qp), lim); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated < uint64(2*len(body)) {
		t.Fatalf("quoted-printable body: allocated %d bytes, want a decoded copy (>= %d)", allocated, 2*len(body))
	}
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
