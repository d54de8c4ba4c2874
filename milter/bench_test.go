package milter

import (
	"fmt"
	"log/slog"
	"net"
	"testing"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy"
)

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
				m.body = testutil.BusinessText(size)
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
