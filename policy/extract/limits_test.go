package extract

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/internal/testutil"
)

// nested returns a message whose text part is levels multiparts deep.
func nested(levels int) []byte {
	inner := part("text/plain", "", []byte("deep "+card))
	for i := levels; i > 1; i-- {
		b := "b" + strings.Repeat("x", i)
		inner = part(`multipart/mixed; boundary="`+b+`"`, "", testutil.Multipart(b, inner))
	}
	return testutil.NewMessage().Part(part(`multipart/mixed; boundary="top"`, "", testutil.Multipart("top", inner))).Bytes()
}

func nestedZip(levels int) []byte {
	data := testutil.Zip(testutil.File{Name: "deep.txt", Data: []byte("deep " + card)})
	for i := 1; i < levels; i++ {
		data = testutil.Zip(testutil.File{Name: "z.zip", Data: data})
	}
	return data
}

func totalText(res *Result) int64 {
	var n int64
	for _, p := range res.Parts {
		n += int64(len(p.Text))
	}
	return n
}

func TestLimits(t *testing.T) {
	// multipart, text, message/rfc822, its body: 4 parts; the inner body
	// is at depth 2.
	fwd := testutil.NewMessage().Text("see below").Part(testutil.NewMessage().Text("inner").Entity()).Bytes()
	threeParts := testutil.NewMessage().Text("a").Text("b").Text("c").Bytes() // multipart + 3 parts = 4
	zip3 := testutil.NewMessage().Text("x").Attach("a.zip", "application/zip", testutil.Zip(
		testutil.File{Name: "1.txt", Data: []byte("one")}, testutil.File{Name: "2.txt", Data: []byte("two")}, testutil.File{Name: "3.txt", Data: []byte("three")})).Bytes()
	kilo := testutil.NewMessage().Text("x").Attach("k.zip", "application/zip", testutil.Zip(testutil.File{Name: "k.txt", Data: bytes.Repeat([]byte("k"), 1000)})).Bytes()
	tar3 := testutil.NewMessage().Text("x").Attach("a.tar", "application/x-tar", testutil.Tar(
		testutil.File{Name: "1.txt", Data: []byte("one")}, testutil.File{Name: "2.txt", Data: []byte("two")}, testutil.File{Name: "3.txt", Data: []byte("three")})).Bytes()

	// Expansion ratio: 2 MiB of zeros, with the ratio limit exactly at
	// the member's ratio and one below it.
	zeros := testutil.Zip(testutil.File{Name: "z.txt", Data: bytes.Repeat([]byte("0"), 2<<20)})
	csize := compressedSize(t, zeros)
	ratio := (int64(2<<20) + csize - 1) / csize
	ratioMsg := testutil.NewMessage().Text("x").Attach("z.zip", "application/zip", zeros).Bytes()

	body := testutil.Message("text " + card)
	plain := run(t, body, Limits{})
	textLen := totalText(plain)

	tests := []struct {
		name   string
		msg    []byte
		ok, no Limits // at the limit, one past it
		loc    string
		reason Reason
	}{
		{"max_message_bytes", body, Limits{MaxMessageBytes: int64(len(body))}, Limits{MaxMessageBytes: int64(len(body)) - 1}, "message", TooLarge},
		{"max_parts with a forwarded message", fwd, Limits{MaxParts: 4}, Limits{MaxParts: 3}, "part 2 (message/rfc822) > body", TooManyParts},
		{"max_depth forwarded messages", fwd, Limits{MaxDepth: 2}, Limits{MaxDepth: 1}, "part 2 (message/rfc822) > body", TooDeep},
		{"max_parts", threeParts, Limits{MaxParts: 4}, Limits{MaxParts: 3}, "part 3 (text/plain)", TooManyParts},
		{"max_depth mime", nested(5), Limits{MaxDepth: 5}, Limits{MaxDepth: 4}, "part 1.1.1.1.1 (text/plain)", TooDeep},
		{"max_depth archives", testutil.NewMessage().Text("x").Attach("n.zip", "application/zip", nestedZip(3)).Bytes(),
			Limits{MaxDepth: 4}, Limits{MaxDepth: 3}, `attachment "n.zip" > "z.zip" > "z.zip" > "deep.txt"`, TooDeep},
		{"max_archive_members zip", zip3, Limits{MaxArchiveMembers: 3}, Limits{MaxArchiveMembers: 2}, `attachment "a.zip"`, TooManyParts},
		{"max_archive_members tar", tar3, Limits{MaxArchiveMembers: 3}, Limits{MaxArchiveMembers: 2}, `attachment "a.tar"`, TooManyParts},
		{"max_decompressed_bytes", kilo, Limits{MaxDecompressedBytes: 1000}, Limits{MaxDecompressedBytes: 999}, `attachment "k.zip" > "k.txt"`, TooLarge},
		{"max_expansion_ratio", ratioMsg, Limits{MaxExpansionRatio: ratio}, Limits{MaxExpansionRatio: ratio - 1}, `attachment "z.zip" > "z.txt"`, TooLarge},
		{"max_text_bytes", body, Limits{MaxTextBytes: textLen}, Limits{MaxTextBytes: textLen - 1}, "body", TooLarge},
		{"scan_timeout", body, Limits{ScanTimeout: time.Minute}, Limits{ScanTimeout: time.Nanosecond}, "message", Timeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if res := run(t, tc.msg, tc.ok); len(res.Unscannable) != 0 {
				t.Errorf("at the limit: unexpected unscannable:\n%s", dump(res))
			}
			res := run(t, tc.msg, tc.no)
			if !hasUnscannable(res, tc.loc, tc.reason) {
				t.Errorf("one past the limit: want %s at %q; got:\n%s", tc.reason, tc.loc, dump(res))
			}
		})
	}
}

func compressedSize(t *testing.T, z []byte) int64 {
	t.Helper()
	zr, err := zipReader(z)
	if err != nil {
		t.Fatal(err)
	}
	return int64(zr.File[0].CompressedSize64)
}

func TestTextLimitTruncatesAtLimit(t *testing.T) {
	res := run(t, testutil.Message(strings.Repeat("é", 100)), Limits{MaxTextBytes: 51})
	if n := totalText(res); n > 51 {
		t.Errorf("text bytes = %d, want <= 51", n)
	}
	if !hasUnscannable(res, "body", TooLarge) {
		t.Errorf("want too_large at body; got:\n%s", dump(res))
	}
}

func TestDeadlineFromCallerIsTimeout(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	res, err := Extract(ctx, bytes.NewReader(testutil.Message("x")), Limits{})
	if err != nil {
		t.Fatalf("Extract(past deadline) error = %v, want nil", err)
	}
	if !hasUnscannable(res, "message", Timeout) {
		t.Errorf("want timeout; got:\n%s", dump(res))
	}
}

func TestBombs(t *testing.T) {
	gzBomb := testutil.Gzip("", make([]byte, 16<<20))
	zipBomb := testutil.Zip(testutil.File{Name: "zeros.txt", Data: make([]byte, 16<<20)})
	tests := []struct {
		name   string
		file   []byte
		lim    Limits
		loc    string
		reason Reason
	}{
		{"gzip bomb by ratio", gzBomb, Limits{}, `attachment "bomb" > "content"`, TooLarge},
		{"gzip bomb by total", gzBomb, Limits{MaxExpansionRatio: 1 << 20, MaxDecompressedBytes: 8 << 20}, `attachment "bomb" > "content"`, TooLarge},
		{"zip bomb by ratio", zipBomb, Limits{}, `attachment "bomb" > "zeros.txt"`, TooLarge},
		{"zip bomb by declared size", zipBomb, Limits{MaxExpansionRatio: 1 << 20, MaxDecompressedBytes: 8 << 20}, `attachment "bomb" > "zeros.txt"`, TooLarge},
		{"nested zip bomb", nestedZip(30), Limits{}, `attachment "bomb"` + strings.Repeat(` > "z.zip"`, 10), TooDeep},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, testutil.NewMessage().Text("x").Attach("bomb", "application/octet-stream", tc.file).Bytes(), tc.lim)
			if !hasUnscannable(res, tc.loc, tc.reason) {
				t.Errorf("want %s at %q; got:\n%s", tc.reason, tc.loc, dump(res))
			}
		})
	}
}

func TestPanicInExtractorIsParseError(t *testing.T) {
	contentHook = func(loc string) {
		if strings.Contains(loc, "boom") {
			panic("extractor bug")
		}
	}
	defer func() { contentHook = nil }()
	msg := testutil.NewMessage().Text("before "+card).Attach("boom.txt", "text/plain", []byte("x")).Attach("after.txt", "text/plain", []byte("after")).Bytes()
	res := run(t, msg, Limits{})
	if !hasUnscannable(res, `attachment "boom.txt"`, ParseError) {
		t.Errorf("want parse_error at boom.txt; got:\n%s", dump(res))
	}
	checkParts(t, res, []want{{"part 1 (text/plain)", "before"}, {`attachment "after.txt"`, "after"}})
}

func TestLargeTextPartIsNotDecodedPastTheLimit(t *testing.T) {
	big := strings.Repeat("0123456789", 100000) // 1,000,000 bytes
	res := run(t, testutil.Message(big+" "+card), Limits{MaxTextBytes: 1000})
	if n := totalText(res); n > 1000 {
		t.Errorf("text bytes = %d, want <= 1000", n)
	}
	var n int
	for _, u := range res.Unscannable {
		if u.Location == "body" && u.Reason == TooLarge {
			n++
		}
	}
	if n != 1 {
		t.Errorf("want one too_large at body, got %d:\n%s", n, dump(res))
	}
}

func TestPanicInWalkIsParseError(t *testing.T) {
	messageHook = func() { panic("walk bug") }
	defer func() { messageHook = nil }()
	res := run(t, testutil.Message("x"), Limits{})
	if !hasUnscannable(res, "message", ParseError) {
		t.Errorf("want parse_error at message; got:\n%s", dump(res))
	}
}

// slowReader returns one chunk of its data per Read, after a pause.
type slowReader struct {
	data  []byte
	chunk int
	pause time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.pause)
	n := copy(p[:min(len(p), r.chunk)], r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestDeadlineCountsScanNotTransfer(t *testing.T) {
	// The message takes longer to arrive than scan_timeout; the scan is fast.
	msg := testutil.Message(strings.Repeat("Revenue 1234 5678 grew 12%.\r\n", 100))
	r := &slowReader{data: msg, chunk: len(msg)/5 + 1, pause: 100 * time.Millisecond}
	start := time.Now()
	res, err := Extract(context.Background(), r, Limits{ScanTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Fatalf("reading took %v, want more than scan_timeout", d)
	}
	if len(res.Unscannable) != 0 {
		t.Errorf("slow transfer made the message unscannable:\n%s", dump(res))
	}
}
