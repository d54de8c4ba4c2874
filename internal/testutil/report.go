package testutil

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// OrderReport is the message the end-to-end benchmarks send through the
// milter and the hop (make_message in scripts/bench-lib.sh): a plain-text
// order status report with size bytes of body, lines of order and invoice
// numbers, dates, amounts and quantities, no sensitive data, CRLF line
// ends as a front end passes them on. The values come from Go's
// generator rather than awk's, in the same shapes and ranges.
func OrderReport(size int) []byte {
	return []byte("From: Bench Sender <bench@test.example>\r\nTo: Sink <sink@ext.example>\r\n" +
		"Subject: Order status report\r\n" + fmt.Sprintf("Message-ID: <bench-%d@test.example>\r\n", size) +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" + OrderLines(size))
}

// OrderLines is the body of [OrderReport]: at least size bytes of order
// lines.
func OrderLines(size int) string {
	r := rand.New(rand.NewPCG(42, 0))
	items := strings.Fields("widget gasket bearing valve sensor bracket cable relay fuse panel")
	cities := strings.Fields("Hamburg Lyon Leeds Porto Turin Gdansk Utrecht Graz Malmo Cork")
	var b strings.Builder
	for n := 0; n < size; {
		line := fmt.Sprintf("Order %d-%04d: %d x %s %c%d at %d.%02d EUR, ship %04d-%02d-%02d to %s depot %d, invoice %d/%d, total %d,%03d.%02d EUR.",
			2026, r.IntN(9999), 1+r.IntN(500), items[r.IntN(10)], rune(65+r.IntN(26)), r.IntN(999),
			r.IntN(900)+10, r.IntN(100), 2026, 1+r.IntN(12), 1+r.IntN(28), cities[r.IntN(10)],
			r.IntN(90)+1, r.IntN(99999), 2026, r.IntN(999), r.IntN(1000), r.IntN(100))
		b.WriteString(line)
		b.WriteString("\r\n")
		n += len(line) + 1
	}
	return b.String()
}

// BusinessText is n bytes of business prose with many numbers but no
// sensitive value: one order line after another, each the same shape.
func BusinessText(n int) []byte {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "Order %d of %02d/%02d/2026: %d units at EUR %d.%02d, ref PO-%05d, call +44 20 7946 %04d.\r\n",
			100000+i*37, 1+i%28, 1+i%12, 1+i%500, 10+i%990, i%100, i*13%100000, i*7%10000)
	}
	return []byte(b.String()[:n])
}
