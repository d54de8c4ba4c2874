package extract

import (
	"bytes"
	"encoding/base64"
	"testing"
	"unicode/utf8"

	"github.com/maildlp/maildlp/internal/testutil"
)

func TestDecodeQP(t *testing.T) {
	tests := []struct{ in, want string }{
		{"4111=\r\n1111", "41111111"},
		{"4111=  \r\n1111", "41111111"},
		{"4111=\n1111", "41111111"},
		{"=34=31=311", "4111"},
		{"=3d=3D", "=="},
		{"a=ZZb", "a=ZZb"},
		{"end=", "end"},
		{"caf=C3=A9", "café"},
	}
	for _, tc := range tests {
		if got := string(decodeQP([]byte(tc.in))); got != tc.want {
			t.Errorf("decodeQP(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDecodeBase64(t *testing.T) {
	tests := []struct{ in, want string }{
		{"NDExMQ==", "4111"},
		{"NDEx\r\nMQ==", "4111"},
		{"ND Ex*MQ", "4111"},
		{"NDExMQ==NDExMQ==", "41114111"},
		{"NDExMQ-_", "4111\x0f\xbf"},     // URL-safe alphabet
		{"ND\r\nExM\r\nQ=\r\n=", "4111"}, // groups split across lines
		{"NDExMQ", "4111"},               // no padding
		{"NDExM\r\nQ\r\n", "4111"},
	}
	for _, tc := range tests {
		if got := string(decodeBase64([]byte(tc.in))); got != tc.want {
			t.Errorf("decodeBase64(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("card 4111 1111=\r\n"))
	f.Add([]byte{0, 0xff, '=', '\r'})
	f.Add([]byte("ND\r\nExMQ\r\n=="))
	f.Add([]byte("NDE\nxMQ\nQUJ"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if got := decodeQP(testutil.QP(data)); !bytes.Equal(got, data) && !bytes.ContainsAny(data, "\r\n") {
			t.Fatalf("decodeQP(QP(%q)) = %q", data, got)
		}
		if got := decodeBase64([]byte(base64.StdEncoding.EncodeToString(data))); !bytes.Equal(got, data) {
			t.Fatalf("decodeBase64(base64(%q)) = %q", data, got)
		}
		if got := decodeBase64(testutil.Base64(data, 7)); !bytes.Equal(got, data) {
			t.Fatalf("decodeBase64(wrapped base64(%q)) = %q", data, got)
		}
		// The line-by-line fast path agrees with the tolerant decoder on
		// every input it accepts.
		if got, ok := decodeBase64Lines(data); ok {
			if want := decodeBase64Tolerant(data); !bytes.Equal(got, want) {
				t.Fatalf("decodeBase64Lines(%q) = %q, tolerant decoder %q", data, got, want)
			}
		}
		if s := binaryStrings(data, nil); !utf8.ValidString(s) {
			t.Fatalf("binaryStrings(%q) = %q is not valid UTF-8", data, s)
		}
		_, _, _ = uudecodeBlock(data)
		_ = findUUBlocks(string(data), nil)
	})
}
