package milter

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"testing"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy"
)

// businessText is n bytes of business prose with many numbers (amounts,
// dates, order and phone numbers) but no sensitive value.
func businessText(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "Order %d of %02d/%02d/2026: %d units at EUR %d.%02d, ref PO-%05d, call +44 20 7946 %04d.\r\n",
			100000+i*37, 1+i%28, 1+i%12, 1+i%500, 10+i%990, i%100, i*13%100000, i*7%10000)
	}
	return b.Bytes()[:n]
}

// BenchmarkMilter runs whole milter sessions (one connection per message,
// as Postfix does) against the embedded default config and policy.
//
//	go test -run '^$' -bench Milter -benchtime 3s ./milter
func BenchmarkMilter(b *testing.B) {
	_, e := defaultEngine(b)
	for _, size := range []int{4 << 10, 1 << 20} {
		for _, network := range []string{"tcp", "unix"} {
			b.Run(fmt.Sprintf("%s/%dKiB", network, size>>10), func(b *testing.B) {
				addr := "inet:127.0.0.1:0"
				if network == "unix" {
					addr = "unix:" + b.TempDir() + "/m.sock"
				}
				ln, err := Listen(addr, 0o600, "")
				if err != nil {
					b.Fatal(err)
				}
				s := New(config.Milter{}.WithDefaults(), func() *policy.Engine { return e }, WithLogger(slog.New(slog.DiscardHandler)))
				testutil.Serve(b, func() error { return s.Serve(ln) }, s.Shutdown)
				m := simpleMessage()
				m.body = businessText(size)
				m.network, m.addr = network, ln.Addr().String()
				if network == "unix" {
					m.addr = ln.Addr().(*net.UnixAddr).Name
				}
				// One check outside the loop: the message passes.
				if r := m.send(b, ""); r.end.Type != gomilter.ActionAccept || len(r.mods) != 1 {
					b.Fatalf("benchmark message not passed: %v %q", r.end, modStrings(r.mods))
				}
				b.SetBytes(int64(len(m.wire())))
				b.ResetTimer()
				for b.Loop() {
					if _, err := m.trySend(""); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
