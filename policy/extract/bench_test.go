package extract

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maildlp/maildlp/internal/testutil"
)

// businessText returns about n bytes of business prose made of random
// words (so that it compresses like real text, about 3:1) with a
// checksum-valid test card number now and then.
func businessText(n int) string {
	words := strings.Fields(`invoice quarterly report customer account payment due
	meeting schedule project budget review approval contract delivery shipment order
	manager team office please find attached regards thanks update status forecast revenue
	margin cost supplier partner agreement renewal policy claim reference balance transfer
	the a of to and in for on with by from at is are was be this that our your we`)
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for b.Len() < n {
		for w := 0; w < 12; w++ {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
			if r.IntN(10) == 0 {
				b.WriteString(strconv.Itoa(r.IntN(100000)))
				b.WriteByte(' ')
			}
		}
		if r.IntN(20) == 0 {
			b.WriteString("card 4111 1111 1111 1111")
		}
		b.WriteString(".\n")
	}
	return b.String()
}

func benchExtract(b *testing.B, msg []byte) {
	b.Helper()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	ctx := context.Background()
	var text int64
	cpu0 := cpuTime()
	for b.Loop() {
		res, err := Extract(ctx, bytes.NewReader(msg), Limits{})
		if err != nil {
			b.Fatal(err)
		}
		for _, u := range res.Unscannable {
			// Pictures are listed, and exempt by default.
			if u.Reason != Unsupported || !strings.HasPrefix(u.MIMEType, "image/") {
				b.Fatalf("unscannable: %v", res.Unscannable)
			}
		}
		text = totalText(res)
	}
	reportCPU(b, len(msg), cpu0)
	// Text bytes per message byte: how much the message expands.
	b.ReportMetric(float64(text)/float64(len(msg)), "text/msg")
}

func BenchmarkExtractPlain(b *testing.B) {
	benchExtract(b, testutil.Message(businessText(1<<20)))
}

func BenchmarkExtractHTML(b *testing.B) {
	var h strings.Builder
	h.WriteString("<html><head><style>p{margin:0}</style></head><body>")
	for _, l := range strings.Split(businessText(1<<20), "\n") {
		fmt.Fprintf(&h, "<p><span style=\"color:#333\">%s</span> <b>&nbsp;</b></p>\n", l)
	}
	h.WriteString("</body></html>")
	benchExtract(b, testutil.NewMessage().Part(part("text/html; charset=utf-8", "quoted-printable", testutil.QP([]byte(h.String())))).Bytes())
}

func BenchmarkExtractSmall(b *testing.B) {
	benchExtract(b, testutil.NewMessage().Text(businessText(4<<10)).Bytes())
}

// attachmentMix is a message with a ZIP holding a DOCX, an XLSX and a PDF,
// plus a DOCX and a PDF attached directly.
func attachmentMix() []byte {
	text := businessText(256 << 10)
	lines := strings.Split(text, "\n")
	var paras [][]string
	for _, l := range lines {
		paras = append(paras, []string{l})
	}
	docx := testutil.DOCX(paras...)
	var rows [][]string
	for i, l := range lines {
		rows = append(rows, []string{fmt.Sprint(i), l, "4111111111111111", "12.50"})
	}
	xlsx := testutil.XLSX(testutil.Sheet{Name: "Data", Rows: rows})
	pdf := testutil.PDF(lines...)
	zip := testutil.Zip(
		testutil.File{Name: "report.docx", Data: docx},
		testutil.File{Name: "data.xlsx", Data: xlsx},
		testutil.File{Name: "scan.pdf", Data: pdf},
	)
	return testutil.NewMessage().Text("see attached").
		Attach("bundle.zip", "application/zip", zip).
		Attach("letter.docx", "application/octet-stream", docx).
		Attach("print.pdf", "application/pdf", pdf).Bytes()
}

func BenchmarkExtractAttachmentMix(b *testing.B) {
	benchExtract(b, attachmentMix())
}

func BenchmarkNormalizeASCII(b *testing.B) {
	s := businessText(1 << 20)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Normalize(s)
	}
}

func BenchmarkNormalizeUnicode(b *testing.B) {
	s := strings.ReplaceAll(businessText(1<<20), " ", "\u00a0")
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Normalize(s)
	}
}

// cpuTime returns the user and system CPU time of the process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// officeWithImages is a message as office users send them: a DOCX with an
// embedded photo, a PDF with a scanned logo, and a spreadsheet, in a ZIP
// and attached directly. Images (incompressible) are skipped without
// being decompressed.
func officeWithImages() []byte {
	r := rand.New(rand.NewPCG(3, 4))
	photo := make([]byte, 150<<10)
	for i := range photo {
		photo[i] = byte(r.Uint32())
	}
	copy(photo, "\xff\xd8\xff\xe0\x00\x10JFIF\x00") // a JPEG, as a document's pictures are
	text := businessText(64 << 10)
	lines := strings.Split(text, "\n")
	var paras [][]string
	for _, l := range lines {
		paras = append(paras, []string{l})
	}
	docx := addZipMember(testutil.DOCX(paras...), testutil.File{Name: "word/media/image1.jpeg", Data: photo, Store: true})
	var rows [][]string
	for i, l := range lines[:len(lines)/2] {
		rows = append(rows, []string{fmt.Sprint(i), l, "12.50"})
	}
	xlsx := testutil.XLSX(testutil.Sheet{Name: "Data", Rows: rows})
	pdf := testutil.PDF(lines...)
	pdf = append(pdf, fmt.Sprintf("6 0 obj\n<< /Type /XObject /Subtype /Image /Filter /DCTDecode /Length %d >>\nstream\n%s\nendstream\nendobj\n", len(photo), photo)...)
	zip := testutil.Zip(
		testutil.File{Name: "report.docx", Data: docx, Store: true},
		testutil.File{Name: "data.xlsx", Data: xlsx, Store: true},
		testutil.File{Name: "scan.pdf", Data: pdf},
	)
	return testutil.NewMessage().Text("see attached").
		Attach("bundle.zip", "application/zip", zip).
		Attach("letter.docx", "application/octet-stream", docx).
		Attach("print.pdf", "application/pdf", pdf).Bytes()
}

// addZipMember returns the archive z with one more member.
func addZipMember(z []byte, f testutil.File) []byte {
	zr, err := zipReader(z)
	if err != nil {
		panic(err)
	}
	files := []testutil.File{f}
	for _, m := range zr.File {
		rc, err := m.Open()
		if err != nil {
			panic(err)
		}
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		files = append(files, testutil.File{Name: m.Name, Data: b.Bytes()})
	}
	return testutil.Zip(files...)
}

func BenchmarkExtractOfficeWithImages(b *testing.B) {
	benchExtract(b, officeWithImages())
}

// sheetXML is the worksheet XML of a 4-column sheet of n rows.
func sheetXML(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?><worksheet><sheetData>`)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `<row r="%d" spans="1:4"><c r="A%d" t="s"><v>%d</v></c><c r="B%d" s="1"><v>%d.5</v></c><c r="C%d" t="s"><v>%d</v></c><c r="D%d"><v>4.111111111111111E+15</v></c></row>`, i, i, i%100, i, i, i, (i*7)%100, i)
	}
	b.WriteString(`</sheetData></worksheet>`)
	return b.Bytes()
}

func BenchmarkSheetText(b *testing.B) {
	x := sheetXML(20000)
	var items []string
	for i := range 100 {
		items = append(items, fmt.Sprintf("string %d", i))
	}
	shared := sharedOf(items...)
	b.SetBytes(int64(len(x)))
	defer reportCPU(b, len(x), cpuTime())
	for b.Loop() {
		sheetText(nil, x, shared, 1<<30)
	}
}

func BenchmarkDocxText(b *testing.B) {
	var x bytes.Buffer
	x.WriteString(`<w:document><w:body>`)
	for _, l := range strings.Split(businessText(1<<20), "\n") {
		fmt.Fprintf(&x, `<w:p><w:pPr><w:pStyle w:val="Normal"/></w:pPr><w:r><w:rPr><w:rFonts w:ascii="Calibri"/><w:sz w:val="22"/></w:rPr><w:t xml:space="preserve">%s</w:t></w:r></w:p>`, l)
	}
	x.WriteString(`</w:body></w:document>`)
	b.SetBytes(int64(x.Len()))
	defer reportCPU(b, x.Len(), cpuTime())
	for b.Loop() {
		runText(nil, x.Bytes(), docxRoles, false)
	}
}

// reportCPU reports throughput by process CPU time since cpu0: the
// wall-clock MB/s is unreliable on a shared machine.
func reportCPU(b *testing.B, size int, cpu0 time.Duration) {
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/cpu.Seconds()/1e6, "cpuMB/s")
	}
}

func BenchmarkNormalizeCyrillic(b *testing.B) {
	s := strings.Repeat("Номер счёта клиента указан в приложенном документе, оплата до пятницы. ", 15000)
	b.SetBytes(int64(len(s)))
	defer reportCPU(b, len(s), cpuTime())
	for b.Loop() {
		Normalize(s)
	}
}

func BenchmarkDecodeBase64(b *testing.B) {
	data := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	enc := testutil.Base64(data, 76)
	b.SetBytes(int64(len(enc)))
	defer reportCPU(b, len(enc), cpuTime())
	for b.Loop() {
		decodeBase64(enc)
	}
}
