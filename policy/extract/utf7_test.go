package extract

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"
)

// utf7Encode encodes s as UTF-7 (RFC 2152). With all, every character
// but letters is shifted, which is allowed and hides digits from a scan
// of the raw bytes.
func utf7Encode(s string, all bool) string {
	var b strings.Builder
	var run []uint16
	flush := func(next byte) {
		if run == nil {
			return
		}
		raw := make([]byte, 0, 2*len(run))
		for _, u := range run {
			raw = append(raw, byte(u>>8), byte(u))
		}
		b.WriteByte('+')
		b.WriteString(base64.RawStdEncoding.EncodeToString(raw))
		if next == '-' || b64[next] != 0xFF || next == 0 {
			b.WriteByte('-')
		}
		run = nil
	}
	for i, r := range s {
		direct := r < 0x80 && r != '+' && r != '\\' && r != '~' && r >= ' ' || r == '\n' || r == '\r' || r == '\t'
		if all && !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == ' ' || r == ':') {
			direct = false
		}
		if direct {
			flush(s[i])
			b.WriteRune(r)
			continue
		}
		if r == '+' && run == nil && !all {
			b.WriteString("+-")
			continue
		}
		if r > 0xFFFF {
			r -= 0x10000
			run = append(run, uint16(0xD800+(r>>10)), uint16(0xDC00+(r&0x3FF)))
		} else {
			run = append(run, uint16(r))
		}
	}
	flush(0)
	return b.String()
}

func TestUTF7(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Hi Mom -+Jjo--!", "Hi Mom -☺-!"},
		{"+ZeVnLIqe-", "日本語"},
		{"A+ImIDkQ.", "A≢Α."},
		{"1 +- 1", "1 + 1"},
		{"+ADQAMQAxADE-", "4111"},
		{"+ADQAMQAxADE", "4111"},
		{"+ADQAMQAxADE 1111", "4111 1111"},
		{"+2D3eAA-", "\U0001F600"},
		{"+2D0-", "\uFFFD"},
		{"+3gA-", "\uFFFD"},
		{"a+", "a+"},
		{"a+!", "a+!"},
		{"caf\xe9", "café"},
		{"+AGEAYgBj-x", "abcx"},
	}
	for _, tc := range tests {
		if got := decodeUTF7([]byte(tc.in)); got != tc.want {
			t.Errorf("decodeUTF7(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzUTF7(f *testing.F) {
	f.Add([]byte("Hi Mom -+Jjo--!"), false)
	f.Add([]byte("+ZeVnLIqe- +2D3eAA- +- a+ \xff"), true)
	f.Add([]byte("card 4111 1111 1111 1111 für"), true)
	f.Fuzz(func(t *testing.T, in []byte, all bool) {
		// Any input: valid UTF-8 out, at most three bytes per byte in,
		// and plain ASCII without '+' unchanged.
		out := decodeUTF7(in)
		if !utf8Valid(out) {
			t.Fatalf("decodeUTF7(%q) = %q is not valid UTF-8", in, out)
		}
		if len(out) > 3*len(in) {
			t.Fatalf("decodeUTF7(%q): %d bytes out of %d", in, len(out), len(in))
		}
		if isASCII(in) && bytes.IndexByte(in, '+') < 0 && out != string(in) {
			t.Fatalf("decodeUTF7(%q) = %q, want it unchanged", in, out)
		}
		// Oracle: what the encoder writes, the decoder reads back.
		s := strings.ToValidUTF8(string(in), "\uFFFD")
		if enc := utf7Encode(s, all); decodeUTF7([]byte(enc)) != s {
			t.Fatalf("round trip of %q via %q = %q", s, enc, decodeUTF7([]byte(enc)))
		}
	})
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }
