package extract

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/maildlp/maildlp/internal/testutil"
)

// reuseMessages are messages whose decompressed members are read one
// after another, nested and side by side: documents in archives, archives
// in documents, gzip, tar, and many members of one document.
func reuseMessages() [][]byte {
	text := businessText(64 << 10)
	lines := strings.Split(text, "\n")
	var paras [][]string
	var rows [][]string
	for i, l := range lines {
		paras = append(paras, []string{l})
		rows = append(rows, []string{fmt.Sprint(i), l, "4111111111111111"})
	}
	docx := testutil.DOCX(paras...)
	xlsx := testutil.XLSX(testutil.Sheet{Name: "A", Rows: rows}, testutil.Sheet{Name: "B", Rows: rows[:50]})
	pptx := testutil.PPTX(lines[:40]...)
	odt := testutil.ODT(lines[:200]...)
	inner := testutil.Zip(testutil.File{Name: "a.docx", Data: docx}, testutil.File{Name: "b.txt", Data: []byte(text)})
	withDoc := addZipMember(docx, testutil.File{Name: "word/embeddings/book.xlsx", Data: xlsx})
	return [][]byte{
		attachmentMix(),
		officeWithImages(),
		testutil.NewMessage().Text("x").
			Attach("outer.zip", "application/zip", testutil.Zip(
				testutil.File{Name: "inner.zip", Data: inner},
				testutil.File{Name: "c.xlsx", Data: xlsx},
				testutil.File{Name: "d.txt", Data: []byte(text[:9000])},
				testutil.File{Name: "e.pptx", Data: pptx},
			)).
			Attach("f.docx", "application/octet-stream", withDoc).
			Attach("g.odt", "application/octet-stream", odt).
			Attach("h.txt.gz", "application/gzip", testutil.Gzip("h.txt", []byte(text))).
			Attach("i.tar", "application/x-tar", testutil.Tar(testutil.File{Name: "j.docx", Data: docx}, testutil.File{Name: "k.txt", Data: []byte(text[:500])})).
			Bytes(),
	}
}

// TestIssue12RecycledBuffersNotReferenced proves that no text refers to a
// decompression buffer after it is recycled: with every recycled buffer
// overwritten, and with spares carried from scan to scan, the results are
// those of a first scan.
func TestIssue12RecycledBuffersNotReferenced(t *testing.T) {
	for i, msg := range reuseMessages() {
		want, err := Extract(context.Background(), bytes.NewReader(msg), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		want.Work = 0
		poisonRecycled = true
		for range 3 {
			got, err := Extract(context.Background(), bytes.NewReader(msg), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			got.Work = 0
			if !reflect.DeepEqual(got, want) {
				poisonRecycled = false
				t.Fatalf("message %d: results differ when recycled buffers are overwritten", i)
			}
		}
		poisonRecycled = false
		if len(want.Parts) < 5 {
			t.Fatalf("message %d: %d parts", i, len(want.Parts))
		}
	}
}

// TestIssue12RecycledBuffersSameLimits proves that reuse keeps the memory
// budget: a budget too small for a member is reported the same way with
// a spare from an earlier, larger scan.
func TestIssue12RecycledBuffersSameLimits(t *testing.T) {
	msgs := reuseMessages()
	lim := Limits{MaxScanMemory: 256 << 10}
	fresh := func(msg []byte) *Result {
		sparePool = sync.Pool{} // no spare from an earlier scan
		r, err := Extract(context.Background(), bytes.NewReader(msg), lim)
		if err != nil {
			t.Fatal(err)
		}
		r.Work = 0
		return r
	}
	for i, msg := range msgs {
		want := fresh(msg)
		if len(want.Unscannable) == 0 {
			t.Fatalf("message %d: the budget was not reached", i)
		}
		// A large spare left by a scan with the default budget.
		if _, err := Extract(context.Background(), bytes.NewReader(msgs[2]), Limits{}); err != nil {
			t.Fatal(err)
		}
		got, err := Extract(context.Background(), bytes.NewReader(msg), lim)
		if err != nil {
			t.Fatal(err)
		}
		got.Work = 0
		if !reflect.DeepEqual(got, want) {
			t.Errorf("message %d: results differ with a spare buffer:\n got %v\nwant %v", i, got.Unscannable, want.Unscannable)
		}
	}
}
