package milter

import (
	"bytes"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"

	"github.com/maildlp/maildlp/internal/testutil"
)

// postfixSession is the bytes Postfix 3.7 sends for one message over one
// milter connection, in the batches it writes them (each batch waits for
// the reply to its last packet): negotiation; connect, HELO and MAIL;
// RCPT; DATA, the header, end of header, the body and end of message;
// then QUIT. Body packets are at most 64 KiB.
func postfixSession(body []byte) [][]byte {
	pkt := func(b *bytes.Buffer, code byte, data ...string) {
		n := 1
		for _, d := range data {
			n += len(d)
		}
		binary.Write(b, binary.BigEndian, uint32(n))
		b.WriteByte(code)
		for _, d := range data {
			b.WriteString(d)
		}
	}
	macro := func(b *bytes.Buffer, stage byte, kv ...string) {
		s := string(stage)
		for _, x := range kv {
			s += x + "\x00"
		}
		pkt(b, 'D', s)
	}
	var neg, mail, rcpt, eom, quit bytes.Buffer
	pkt(&neg, 'O', "\x00\x00\x00\x06", "\x00\x00\x01\xff", "\x00\x1f\xff\xff")
	macro(&mail, 'C', "j", "mx.example.com", "{daemon_name}", "smtpd", "{client_addr}", "192.0.2.10", "{client_name}", "client.example.net")
	pkt(&mail, 'C', "client.example.net\x00", "4", "\x30\x39", "192.0.2.10\x00")
	pkt(&mail, 'H', "client.example.net\x00")
	macro(&mail, 'M', "i", "4XyZ1A2B3C", "{mail_addr}", "alice@example.com")
	pkt(&mail, 'M', "<alice@example.com>\x00")
	macro(&rcpt, 'R', "{rcpt_addr}", "bob@example.org")
	pkt(&rcpt, 'R', "<bob@example.org>\x00")
	macro(&eom, 'T', "i", "4XyZ1A2B3C")
	pkt(&eom, 'T')
	for _, h := range [][2]string{{"From", " Alice <alice@example.com>"}, {"To", " bob@example.org"},
		{"Subject", " Order status report"}, {"Message-ID", " <b1@example.com>"}, {"MIME-Version", " 1.0"},
		{"Content-Type", " text/plain; charset=us-ascii"}} {
		pkt(&eom, 'L', h[0]+"\x00", h[1]+"\x00")
	}
	macro(&eom, 'N', "i", "4XyZ1A2B3C")
	pkt(&eom, 'N')
	for b := body; len(b) > 0; {
		n := min(len(b), 65535)
		pkt(&eom, 'B', string(b[:n]))
		b = b[n:]
	}
	macro(&eom, 'E', "i", "4XyZ1A2B3C")
	pkt(&eom, 'E')
	pkt(&quit, 'Q')
	return [][]byte{neg.Bytes(), mail.Bytes(), rcpt.Bytes(), eom.Bytes(), quit.Bytes()}
}

// readReplies reads milter packets from c until one with a final code
// (not a modification or progress).
func readReplies(c net.Conn, buf []byte) (byte, error) {
	for {
		if _, err := io.ReadFull(c, buf[:5]); err != nil {
			return 0, err
		}
		n := binary.BigEndian.Uint32(buf[:4])
		if _, err := io.CopyN(io.Discard, c, int64(n-1)); err != nil {
			return 0, err
		}
		if code := buf[4]; !modCode(code) && code != 'p' {
			return code, nil
		}
	}
}

// countConn counts what reaches the server's socket, and keeps what is
// written when writes is set.
type countConn struct {
	net.Conn
	l *countListener
}

func (c countConn) Read(p []byte) (int, error) { c.l.reads.Add(1); return c.Conn.Read(p) }
func (c countConn) Write(p []byte) (int, error) {
	c.l.writes.Add(1)
	if c.l.keep {
		c.l.mu.Lock()
		c.l.written = append(c.l.written, append([]byte(nil), p...))
		c.l.mu.Unlock()
	}
	return c.Conn.Write(p)
}
func (c countConn) SetReadDeadline(t time.Time) error {
	c.l.deadlines.Add(1)
	return c.Conn.SetReadDeadline(t)
}
func (c countConn) SetWriteDeadline(t time.Time) error {
	c.l.deadlines.Add(1)
	return c.Conn.SetWriteDeadline(t)
}
func (c countConn) SetDeadline(t time.Time) error {
	c.l.deadlines.Add(2)
	return c.Conn.SetDeadline(t)
}

// countListener tunes connections as connListener does and counts what
// their session loops ask of the socket.
type countListener struct {
	net.Listener
	reads, writes, deadlines atomic.Int64

	keep    bool // keep what is written
	mu      sync.Mutex
	written [][]byte
}

func (l *countListener) Accept() (net.Conn, error) {
	c, err := connListener{l.Listener}.Accept()
	if err != nil {
		return nil, err
	}
	return countConn{c, l}, nil
}

func (l *countListener) reset() {
	l.reads.Store(0)
	l.writes.Store(0)
	l.deadlines.Store(0)
	l.mu.Lock()
	l.written = nil
	l.mu.Unlock()
}

// BenchmarkIssue12Pipelined sends 4 KiB messages the way Postfix does
// (packets batched up to each reply, one connection per message) to a
// milter on the default policy, and reports the work of the protocol path
// per message: read and write system calls and deadline updates on the
// server's socket, goroutines started (each a scheduler hand-off), besides
// -benchmem's allocations (both sides; the client allocates only its
// connection).
//
//	go test -run '^$' -bench Issue12Pipelined -benchmem ./milter
func BenchmarkIssue12Pipelined(b *testing.B) {
	_, e := defaultEngine(b)
	ln, err := Listen("inet:0@127.0.0.1", 0, "")
	if err != nil {
		b.Fatal(err)
	}
	cl := &countListener{Listener: ln.(connListener).Listener} // tuned as connListener does, counted
	s := newServer(config.Milter{}.WithDefaults(), func() engine { return e }, WithLogger(slog.New(slog.DiscardHandler)))
	go s.Serve(cl)
	b.Cleanup(func() { s.Shutdown(b.Context()) })
	batches := postfixSession(testutil.BusinessText(4 << 10))
	want := []byte{'O', 'c', 'c', 'a'}
	buf := make([]byte, 5)
	send := func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		for i, batch := range batches[:4] {
			if _, err := c.Write(batch); err != nil {
				b.Fatal(err)
			}
			code, err := readReplies(c, buf)
			if err != nil || code != want[i] {
				b.Fatalf("batch %d: reply %q, %v; want %q", i, code, err, want[i])
			}
		}
		c.Write(batches[4])
		io.Copy(io.Discard, c) // the server closes after QUIT
	}
	send()
	cl.reset()
	g0 := goroutinesCreated()
	b.ResetTimer()
	for b.Loop() {
		send()
	}
	n := float64(b.N)
	b.ReportMetric(float64(goroutinesCreated()-g0)/n, "goroutines/msg")
	b.ReportMetric(float64(cl.reads.Load())/n, "reads/msg")
	b.ReportMetric(float64(cl.writes.Load())/n, "writes/msg")
	b.ReportMetric(float64(cl.deadlines.Load())/n, "deadlines/msg")
}

// goroutinesCreated is the number of goroutines the process has started.
func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// modCode reports whether a packet code from the milter is a message
// modification, which the MTA does not answer.
func modCode(code byte) bool {
	switch code {
	case actAddRcpt, actDelRcpt, actReplBody, actAddHeader, actChgHeader, actInsHeader, actQuarant, actChgFrom, actAddRcptP:
		return true
	}
	return false
}
