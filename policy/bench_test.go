package policy

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/policy/extract"
)

// businessText is clean business prose with many numbers (dates, amounts,
// order and phone numbers) and no sensitive data: the common case.
func businessText(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 1))
	words := strings.Fields(`the quarterly revenue forecast order invoice shipment customer account
		meeting agenda project budget review contract delivery schedule team update report
		please find attached regards thanks best next week Monday Friday approved pending`)
	var b strings.Builder
	for b.Len() < n {
		switch r.IntN(8) {
		case 0:
			fmt.Fprintf(&b, "%d,%03d.%02d EUR ", r.IntN(900)+1, r.IntN(1000), r.IntN(100))
		case 1:
			fmt.Fprintf(&b, "2026-%02d-%02d ", r.IntN(12)+1, r.IntN(28)+1)
		case 2:
			fmt.Fprintf(&b, "order %d ", 10000000+r.IntN(89999999))
		case 3:
			fmt.Fprintf(&b, "tel. +44 20 %04d %04d, ", r.IntN(10000), r.IntN(10000))
		default:
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
		if r.IntN(12) == 0 {
			b.WriteString("\r\n")
		}
	}
	return b.String()[:n]
}

func benchHeader(subject, ctype string) string {
	return "From: Alice <alice@example.com>\r\nTo: Bob <bob@partner.example.net>\r\n" +
		"Subject: " + subject + "\r\nDate: Mon, 02 Mar 2026 09:30:00 +0000\r\n" +
		"Message-ID: <bench@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: " + ctype + "\r\n\r\n"
}

func smallMessage() []byte {
	h := benchHeader("Weekly update", "text/plain; charset=utf-8")
	return []byte(h + businessText(4096-len(h), 1))
}

type attachment struct {
	name, ctype string
	data        []byte
}

func mimeMessage(subject, text string, atts []attachment) []byte {
	const bd = "=_bench"
	var b strings.Builder
	b.WriteString(benchHeader(subject, `multipart/mixed; boundary="`+bd+`"`))
	b.WriteString("--" + bd + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n")
	for _, a := range atts {
		b.WriteString("--" + bd + "\r\nContent-Type: " + a.ctype + "; name=\"" + a.name + "\"\r\n")
		b.WriteString("Content-Disposition: attachment; filename=\"" + a.name + "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		enc := base64.StdEncoding.EncodeToString(a.data)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	}
	b.WriteString("--" + bd + "--\r\n")
	return []byte(b.String())
}

func zipOf(files map[string][]byte) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, name := range sortedKeys(files) {
		f, _ := w.Create(name)
		f.Write(files[name])
	}
	w.Close()
	return buf.Bytes()
}

func sortedKeys(m map[string][]byte) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	for i := range k {
		for j := i + 1; j < len(k); j++ {
			if k[j] < k[i] {
				k[i], k[j] = k[j], k[i]
			}
		}
	}
	return k
}

func xlsxOf(rows int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	var cells strings.Builder
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&cells, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c><c r="B%d"><v>%d</v></c><c r="C%d"><v>%d.%02d</v></c></row>`,
			i, i, businessText(40, uint64(i)), i, 100000+r.IntN(900000), i, r.IntN(100000), r.IntN(100))
	}
	return zipOf(map[string][]byte{
		"[Content_Types].xml":        []byte(`<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`),
		"xl/workbook.xml":            []byte(`<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>`),
		"xl/_rels/workbook.xml.rels": []byte(`<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`),
		"xl/worksheets/sheet1.xml":   []byte(`<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + cells.String() + `</sheetData></worksheet>`),
	})
}

func docxOf(n int, seed uint64) []byte {
	var body strings.Builder
	text := businessText(n, seed)
	for len(text) > 0 {
		k := min(400, len(text))
		fmt.Fprintf(&body, `<w:p><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>`, text[:k])
		text = text[k:]
	}
	return zipOf(map[string][]byte{
		"[Content_Types].xml": []byte(`<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`),
		"word/document.xml":   []byte(`<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` + body.String() + `</w:body></w:document>`),
	})
}

// pdfOf writes a small uncompressed PDF with one page of text lines.
func pdfOf(lines int, seed uint64) []byte {
	var content strings.Builder
	content.WriteString("BT /F1 9 Tf 40 800 Td 11 TL\n")
	for i := range lines {
		t := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`, "\r", " ", "\n", " ").Replace(businessText(90, seed+uint64(i)))
		fmt.Fprintf(&content, "(%s) '\n", t)
	}
	content.WriteString("ET\n")
	return testutil.PDFPlain([]byte(content.String()))
}

func gzipOf(data []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

// attachmentMix is the attachment-heavy mix: office documents, a PDF,
// archives (a ZIP with CSV and a DOCX inside, a gzip'd CSV) and a text
// attachment, about 0.6 MB of message that extracts to about 0.9 MB of text.
func attachmentMix() []byte {
	csv := []byte(strings.ReplaceAll(businessText(200<<10, 7), " ", ","))
	return mimeMessage("Quarterly pack", businessText(2000, 3), []attachment{
		{"figures.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsxOf(2500, 4)},
		{"report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", docxOf(150<<10, 5)},
		{"summary.pdf", "application/pdf", pdfOf(600, 6)},
		{"archive.zip", "application/zip", zipOf(map[string][]byte{"data/q1.csv": csv, "docs/notes.docx": docxOf(60<<10, 8)})},
		{"export.csv.gz", "application/gzip", gzipOf(csv)},
		{"notes.txt", "text/plain", []byte(businessText(100<<10, 9))},
	})
}

func defaultEngine(b *testing.B) *Engine {
	cfg, err := config.Default(detect.IsBuiltin)
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func benchEvaluate(b *testing.B, msg []byte) {
	e := defaultEngine(b)
	m := Message{Envelope: Envelope{MailFrom: "alice@example.com", Rcpts: []string{"bob@partner.example.net"}}}
	v := e.Evaluate(context.Background(), Message{Envelope: m.Envelope, Body: bytes.NewReader(msg)})
	if v.Err != nil || v.Action != action.Pass || len(v.Unscannable) > 0 {
		b.Fatalf("benchmark message: %v %v %v %+v", v.Action, v.Err, v.Unscannable, v.Detections)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		m.Body = bytes.NewReader(msg)
		e.Evaluate(context.Background(), m)
	}
	// Throughput by the process's CPU time: on a loaded machine the
	// wall-clock MB/s also counts time spent waiting for a core.
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(len(msg))*float64(b.N)/cpu.Seconds()/1e6, "cpuMB/s")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
	// the text the detectors scanned, to compare with the detector benchmarks
	res, err := extract.Extract(context.Background(), bytes.NewReader(msg), e.Limits())
	if err == nil {
		var n int
		for _, p := range res.Parts {
			n += len(p.Text)
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "text-MB/s")
	}
}

// BenchmarkEvaluateSmall: 4 KiB business-text messages through the full
// default policy (target: >= 1000 msg/s on one core).
func BenchmarkEvaluateSmall(b *testing.B) { benchEvaluate(b, smallMessage()) }

// BenchmarkEvaluateAttachments: the attachment-heavy mix (target: >= 50 MB/s
// on one core).
func BenchmarkEvaluateAttachments(b *testing.B) { benchEvaluate(b, attachmentMix()) }

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAttachmentStages splits the cost of the attachment mix by
// stage. Every stage counts the whole message's bytes (SetBytes), so that
// the stages' times add up like the whole: inflate is the deflate streams
// of its ZIP members and gzip alone (into a reused buffer), extract the
// whole extraction (inflate, XML, PDF, decoding and normalisation
// included), detect the detectors on the text the extraction returns.
func BenchmarkAttachmentStages(b *testing.B) {
	msg := attachmentMix()
	e := defaultEngine(b)
	b.Run("inflate", func(b *testing.B) {
		streams := deflateStreams(b, msg)
		buf := make([]byte, 64<<10)
		fr := flate.NewReader(bytes.NewReader(nil))
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		var out int64
		defer reportStageCPU(b, len(msg), cpuTime())
		for b.Loop() {
			out = 0
			for _, s := range streams {
				fr.(flate.Resetter).Reset(bytes.NewReader(s), nil)
				for {
					n, err := fr.Read(buf)
					out += int64(n)
					if err != nil {
						break
					}
				}
			}
		}
		b.ReportMetric(float64(out), "inflated-B/op")
	})
	b.Run("extract", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		defer reportStageCPU(b, len(msg), cpuTime())
		for b.Loop() {
			if _, err := extract.Extract(context.Background(), bytes.NewReader(msg), e.Limits()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("detect", func(b *testing.B) {
		res, err := extract.Extract(context.Background(), bytes.NewReader(msg), e.Limits())
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		var buf []detect.Match
		ctx := context.Background()
		defer reportStageCPU(b, len(msg), cpuTime())
		for b.Loop() {
			for _, p := range res.Parts {
				buf, _ = e.detect(ctx, p.Text, buf[:0])
			}
		}
	})
}

// reportStageCPU reports the throughput by the process's CPU time since
// cpu0, which a loaded machine does not inflate.
func reportStageCPU(b *testing.B, size int, cpu0 time.Duration) {
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/cpu.Seconds()/1e6, "cpuMB/s")
	}
}

// deflateStreams returns the raw deflate data of every deflated ZIP member
// and gzip stream among msg's attachments, nested ZIPs included.
func deflateStreams(b *testing.B, msg []byte) [][]byte {
	var out [][]byte
	var walkZip func(data []byte)
	walkZip = func(data []byte) {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range zr.File {
			if f.Method != zip.Deflate {
				continue
			}
			off, err := f.DataOffset()
			if err != nil {
				b.Fatal(err)
			}
			out = append(out, data[off:off+int64(f.CompressedSize64)])
			if strings.HasSuffix(f.Name, ".docx") || strings.HasSuffix(f.Name, ".zip") {
				rc, _ := f.Open()
				inner, _ := io.ReadAll(rc)
				walkZip(inner)
			}
		}
	}
	mr := multipart.NewReader(bytes.NewReader(msg[bytes.Index(msg, []byte("\r\n\r\n"))+4:]), "=_bench")
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		if p.Header.Get("Content-Transfer-Encoding") != "base64" {
			continue
		}
		data, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
		if err != nil {
			b.Fatal(err)
		}
		switch {
		case bytes.HasPrefix(data, []byte("PK")):
			walkZip(data)
		case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
			out = append(out, data[10:len(data)-8]) // no optional gzip header fields
		}
	}
	return out
}
