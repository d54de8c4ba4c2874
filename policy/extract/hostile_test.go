package extract

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/testutil"
)

// Hostile inputs a sender can craft to make a scan expensive. The cost
// tests run them at two sizes; TestWriteHostileSamples writes them as
// messages for measuring a whole binary (scripts/hostile-samples.sh).

var hostileWrite = flag.String("hostile.write", "", "write the hostile sample messages to this directory")

// attach wraps an attachment in a message.
func attach(name, typ string, data []byte) []byte {
	return testutil.NewMessage().Text("see attached").Attach(name, typ, data).Bytes()
}

// pdfRepeatedObjects is about n bytes of "1 0 obj stream endobj": every
// object reuses number 1 and opens a stream that never ends.
func pdfRepeatedObjects(n int) []byte {
	const obj = "1 0 obj stream endobj\n"
	return append([]byte("%PDF-1.4\n"), strings.Repeat(obj, max(n/len(obj), 1))...)
}

// pdfManyObjects is about n bytes of distinct small objects without
// endobj, each opening a dictionary that never closes.
func pdfManyObjects(n int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	for i := 1; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%d 0 obj << /Type /Page /Contents [%d 0 R\n", i, i)
	}
	return b.Bytes()
}

// pdfHugeXref is a valid one-page PDF followed by a cross-reference table
// of about n bytes.
func pdfHugeXref(n int) []byte {
	b := bytes.NewBuffer(testutil.PDF("x"))
	fmt.Fprintf(b, "xref\n0 %d\n", n/20)
	for b.Len() < n {
		b.WriteString("0000000000 00000 n \n")
	}
	return b.Bytes()
}

// pdfUnterminated is a content stream of about n bytes of unterminated
// strings, hex strings and arrays.
func pdfUnterminated(n int) []byte {
	unit := "BT [ (abc <4142 [[[ (x\\"
	return testutil.PDFPlain([]byte(strings.Repeat(unit, max(n/len(unit), 1))))
}

// pdfSharedKids is a page tree of about n bytes in which every node names
// the same Kids array: a walk that reads the array for each node is
// quadratic.
func pdfSharedKids(n int) []byte {
	k := max(n/40, 2)
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids 3 0 R >> endobj\n3 0 obj [")
	for i := 0; i < k; i++ {
		fmt.Fprintf(&b, " %d 0 R", 10+i)
	}
	b.WriteString("] endobj\n")
	for i := 0; i < k; i++ {
		fmt.Fprintf(&b, "%d 0 obj << /Type /Pages /Kids 3 0 R >> endobj\n", 10+i)
	}
	return b.Bytes()
}

// lyingZip has members of real size 4 KiB each (compressed to a few
// bytes) whose headers declare size bytes, compressed and uncompressed;
// about n bytes of archive.
func lyingZip(n int, size uint64) []byte {
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestCompression)
	fw.Write(bytes.Repeat([]byte("lie "), 1024))
	fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; buf.Len() < n; i++ {
		h := &zip.FileHeader{Name: fmt.Sprintf("m%d.txt", i), Method: zip.Deflate, CompressedSize64: size, UncompressedSize64: size}
		w, err := zw.CreateRaw(h)
		if err != nil {
			panic(err)
		}
		w.Write(z.Bytes())
	}
	zw.Close()
	return buf.Bytes()
}

// lyingTNEF declares compressed RTF of 200 MiB and a MAPI list of 2^32
// values in about n bytes of attributes.
func lyingTNEF(n int) []byte {
	rtf := make([]byte, 16, 64)
	copy(rtf[4:], []byte{0, 0, 0, 0x0C}) // raw size 200 MiB
	copy(rtf[8:], "LZFu")
	rtf = append(rtf, 0xFF, 0x00, 0x10, 0x00, 0x20) // two references, then the end
	var attrs []testutil.TNEFAttr
	for size := 0; size < n; size += len(rtf) + 40 {
		attrs = append(attrs, testutil.TNEFAttr{Level: 1, ID: 0x00069003, Data: testutil.MAPIBinary(0x1009, rtf)})
		attrs = append(attrs, testutil.TNEFAttr{Level: 1, ID: 0x00069003, Data: []byte{1, 0, 0, 0, 0x02, 0x11, 0x00, 0x10, 0xFF, 0xFF, 0xFF, 0xFF}})
	}
	return testutil.TNEF(attrs...)
}

// rtfDeepGroups opens n/2 groups and closes them.
func rtfDeepGroups(n int) []byte {
	return []byte(`{\rtf1 ` + strings.Repeat("{x", n/4) + strings.Repeat("}", n/4) + "}")
}

// rtfHugeBin is n/16 \bin controls each declaring 2^31 bytes.
func rtfHugeBin(n int) []byte {
	return []byte(`{\rtf1 ` + strings.Repeat(`\bin2147483647 `, n/16) + "}")
}

// gzipZeros is a gzip stream of n zero bytes.
func gzipZeros(n int) []byte { return testutil.Gzip("z.txt", make([]byte, n)) }

// tarMany is a tar of n/1024 small members.
func tarMany(n int) []byte {
	files := make([]testutil.File, max(n/1024, 1))
	for i := range files {
		files[i] = testutil.File{Name: fmt.Sprintf("f%d.txt", i), Data: []byte("member")}
	}
	return testutil.Tar(files...)
}

// hostileSamples are the messages whose cost the figures in the
// documentation quote, by file name.
func hostileSamples() map[string][]byte {
	return map[string][]byte{
		"pdf-objects-1.2MB.eml": attach("a.pdf", "application/pdf", pdfRepeatedObjects(880<<10)),
		"pdf-objects-9.6MB.eml": attach("a.pdf", "application/pdf", pdfRepeatedObjects(7<<20)),
		"zip-lying-14KB.eml":    attach("a.zip", "application/zip", lyingZip(5<<10, 200<<20)),
	}
}

// TestWriteHostileSamples writes hostileSamples to -hostile.write.
func TestWriteHostileSamples(t *testing.T) {
	if *hostileWrite == "" {
		t.Skip("no -hostile.write directory")
	}
	for name, msg := range hostileSamples() {
		if err := os.WriteFile(filepath.Join(*hostileWrite, name), msg, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes", name, len(msg))
	}
}
