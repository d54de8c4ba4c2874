package policy

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// orderReport is the message the end-to-end benchmarks send through the
// milter and the hop (make_message in scripts/bench-lib.sh): a plain-text
// order status report of size bytes of body, lines of order and invoice
// numbers, dates, amounts and quantities, no sensitive data, CRLF line
// ends as a front end passes them on. The values are drawn from Go's
// generator rather than awk's, in the same shapes and ranges.
func orderReport(size int) []byte {
	r := rand.New(rand.NewPCG(42, 0))
	items := strings.Fields("widget gasket bearing valve sensor bracket cable relay fuse panel")
	cities := strings.Fields("Hamburg Lyon Leeds Porto Turin Gdansk Utrecht Graz Malmo Cork")
	var b strings.Builder
	b.WriteString("From: Bench Sender <bench@test.example>\r\nTo: Sink <sink@ext.example>\r\n" +
		"Subject: Order status report\r\n" + fmt.Sprintf("Message-ID: <bench-%d@test.example>\r\n", size) +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
	for n := 0; n < size; {
		line := fmt.Sprintf("Order %d-%04d: %d x %s %c%d at %d.%02d EUR, ship %04d-%02d-%02d to %s depot %d, invoice %d/%d, total %d,%03d.%02d EUR.",
			2026, r.IntN(9999), 1+r.IntN(500), items[r.IntN(10)], rune(65+r.IntN(26)), r.IntN(999),
			r.IntN(900)+10, r.IntN(100), 2026, 1+r.IntN(12), 1+r.IntN(28), cities[r.IntN(10)],
			r.IntN(90)+1, r.IntN(99999), 2026, r.IntN(999), r.IntN(1000), r.IntN(100))
		b.WriteString(line)
		b.WriteString("\r\n")
		n += len(line) + 1
	}
	return []byte(b.String())
}

// BenchmarkEvaluateBusinessText4K: the 4 KiB order report of the
// end-to-end benchmarks through the default policy; its cost is paid per
// message by both front ends.
func BenchmarkEvaluateBusinessText4K(b *testing.B) { benchEvaluate(b, orderReport(4096)) }

// BenchmarkEvaluateBusinessText1M: the 1 MiB order report.
func BenchmarkEvaluateBusinessText1M(b *testing.B) { benchEvaluate(b, orderReport(1<<20)) }
