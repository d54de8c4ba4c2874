package extract

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/maildlp/maildlp/internal/testutil"
)

// Hostile inputs for the extractors of PDF, archives, TNEF, RTF, OLE and
// uuencoded text, each checked by TestCostLinear at n and 8n.
func init() {
	pdf := func(gen func(int) []byte) func(int) []byte {
		return func(n int) []byte { return attach("a.pdf", "application/pdf", gen(n)) }
	}
	addCostCase("issue 7 PDF repeated objects", 64<<10, pdf(pdfRepeatedObjects))
	addCostCase("issue 7 PDF objects without endobj", 64<<10, pdf(pdfManyObjects))
	addCostCase("issue 7 PDF reused object numbers", 64<<10, pdf(func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("%PDF-1.4\n")
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, "%d 0 obj << /Type /Page /Contents %d 0 R >> endobj\n", i%3, i%3)
		}
		return b.Bytes()
	}))
	addCostCase("issue 7 PDF huge xref", 64<<10, pdf(pdfHugeXref))
	addCostCase("issue 7 PDF unterminated strings", 64<<10, pdf(pdfUnterminated))
	addCostCase("issue 7 PDF shared Kids", 64<<10, pdf(pdfSharedKids))
	addCostCase("issue 7 PDF shared resources", 64<<10, pdf(func(n int) []byte {
		// Every page inherits one large resource dictionary and names
		// the same content stream.
		k := max(n/64, 2)
		var b bytes.Buffer
		b.WriteString("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Resources << /Font << ")
		for i := 0; i < k/4; i++ {
			fmt.Fprintf(&b, "/F%d 4 0 R ", i)
		}
		b.WriteString(">> >> /Kids [")
		for i := 0; i < k; i++ {
			fmt.Fprintf(&b, "%d 0 R ", 10+i)
		}
		b.WriteString("] >> endobj\n3 0 obj << /Length 12 >> stream\nBT (x) Tj ET\nendstream endobj\n4 0 obj << /ToUnicode 5 0 R >> endobj\n")
		b.WriteString("5 0 obj << >> stream\nbegincmap 1 begincodespacerange <00> <FF> endcodespacerange 1 beginbfrange <00> <FF> <0041> endbfrange endcmap\nendstream endobj\n")
		for i := 0; i < k; i++ {
			fmt.Fprintf(&b, "%d 0 obj << /Type /Page /Parent 2 0 R /Contents 3 0 R >> endobj\n", 10+i)
		}
		return b.Bytes()
	}))
	addCostCase("issue 7 PDF deep arrays and strings", 64<<10, pdf(func(n int) []byte {
		return testutil.PDFPlain([]byte(strings.Repeat("[", n/2) + strings.Repeat("(", n/2)))
	}))
	addCostCase("issue 7 ZIP lying sizes", 8<<10, func(n int) []byte {
		return attach("a.zip", "application/zip", lyingZip(n, 200<<20))
	})
	addCostCase("issue 7 ZIP lying compressed size", 8<<10, func(n int) []byte {
		return attach("a.zip", "application/zip", lyingZip(n, 1<<20))
	})
	addCostCase("issue 7 TNEF lying lengths", 8<<10, func(n int) []byte {
		return attach("winmail.dat", "application/ms-tnef", lyingTNEF(n))
	})
	addCostCase("issue 7 RTF deep groups", 64<<10, func(n int) []byte {
		return attach("a.rtf", "text/rtf", rtfDeepGroups(n))
	})
	addCostCase("issue 7 RTF huge bin", 64<<10, func(n int) []byte {
		return attach("a.rtf", "text/rtf", rtfHugeBin(n))
	})
	addCostCase("issue 7 gzip of zeros", 256<<10, func(n int) []byte {
		return attach("z.gz", "application/gzip", gzipZeros(n))
	})
	addCostCase("issue 7 tar of many members", 64<<10, func(n int) []byte {
		return attach("a.tar", "application/x-tar", tarMany(n))
	})
	addCostCase("issue 7 OLE strings", 64<<10, func(n int) []byte {
		ole := append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 504)...)
		ole = append(ole, bytes.Repeat([]byte("abcde\x00a\x00b\x00c\x00"), n/13)...)
		return attach("a.doc", "application/msword", ole)
	})
	addCostCase("issue 7 uuencode begin lines", 64<<10, func(n int) []byte {
		return testutil.Message(strings.Repeat("begin 644 a\nbegin x\n", n/20) + "\nendless")
	})
	addCostCase("issue 7 uuencode short blocks", 64<<10, func(n int) []byte {
		return testutil.Message(strings.Repeat("begin 644 a\n#86)C\n`\nend\n", n/28))
	})
}
