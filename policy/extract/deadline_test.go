package extract

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/zlib"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"
	"time"
)

// pdfManyStreams is a PDF of pages, each with a Flate stream of 1 MiB of
// drawing operators: little to send, much to read.
func pdfManyStreams(pages int) []byte {
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write([]byte(strings.Repeat("1 2 m 3 4 l S\n", (1<<20)/14)))
	zw.Close()
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [")
	for i := 0; i < pages; i++ {
		fmt.Fprintf(&b, "%d 0 R ", 10+2*i)
	}
	b.WriteString("] >> endobj\n")
	for i := 0; i < pages; i++ {
		fmt.Fprintf(&b, "%d 0 obj << /Type /Page /Parent 2 0 R /Contents %d 0 R >> endobj\n", 10+2*i, 11+2*i)
		fmt.Fprintf(&b, "%d 0 obj << /Length %d /Filter /FlateDecode >> stream\n%s\nendstream endobj\n", 11+2*i, z.Len(), z.Bytes())
	}
	return b.Bytes()
}

// zipBomb is a ZIP of members of 2 MiB of text each, compressed once.
func zipBomb(members int) []byte {
	data := bytes.Repeat([]byte("bomb "), (2<<20)/5)
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestCompression)
	fw.Write(data)
	fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < members; i++ {
		w, _ := zw.CreateRaw(&zip.FileHeader{
			Name: fmt.Sprintf("b%d.txt", i), Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(data),
			CompressedSize64: uint64(z.Len()), UncompressedSize64: uint64(len(data)),
		})
		w.Write(z.Bytes())
	}
	zw.Close()
	return buf.Bytes()
}

// TestIssue7DeadlineInsideParsers: a PDF and an archive that take seconds
// to read end at a 200 ms deadline from inside the parser's loop: the
// timeout is recorded and the work counted stops well short of reading
// everything.
func TestIssue7DeadlineInsideParsers(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  []byte
		full int64 // work of reading it all: at least the bytes decoded
	}{
		{"pdf", attach("a.pdf", "application/pdf", pdfManyStreams(900)), 900 << 20},
		{"zip", attach("a.zip", "application/zip", zipBomb(900)), 1800 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim := DefaultLimits()
			lim.MaxDecompressedBytes = 4 << 30
			lim.ScanTimeout = 200 * time.Millisecond
			start := time.Now()
			res := run(t, tc.msg, lim)
			t.Logf("%d bytes: ended after %v, work %d (all: %d)", len(tc.msg), time.Since(start), res.Work, tc.full)
			if !hasUnscannable(res, "message", Timeout) {
				t.Fatalf("no timeout recorded:\n%s", dump(res))
			}
			if res.Work >= tc.full {
				t.Errorf("work %d: the reading went on to the end (%d) past the deadline", res.Work, tc.full)
			}
		})
	}
}
