package reinject

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/internal/testutil"
)

// BenchmarkHopBody is the hop's own work on a message's body, without
// sockets or engine: the DATA reader (dot-unstuffing, end of data, line
// length, bare CR/LF), holding the message, the header split, the
// engine's read of it, and the dot-stuffed write downstream.
//
//	go test -run '^$' -bench HopBody -benchmem ./reinject
func BenchmarkHopBody(b *testing.B) {
	for _, size := range []int{4 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			msg := "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\nSubject: report\r\n\r\n" +
				string(testutil.BusinessText(size)) + "\r\n"
			wire := []byte(dotStuff(msg) + ".\r\n")
			cfg := reflectCfg("127.0.0.1:25")
			ss := &session{s: &Server{cfg: cfg}, eng: &fakeEngine{}}
			src := bytes.NewReader(wire)
			br := bufio.NewReaderSize(src, int(cfg.MaxLineLength)+16)
			bw := bufio.NewWriterSize(io.Discard, 64<<10)
			engBuf := make([]byte, len(msg)+512)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				src.Reset(wire)
				br.Reset(src)
				dr := newDotReader(br, nil, int(cfg.MaxLineLength), int64(cfg.MaxMessageBytes), time.Minute, time.Minute)
				m, err := ss.receive(dr)
				if err != nil {
					b.Fatal(err)
				}
				r := m.reader()
				if _, err := io.ReadFull(r, engBuf[:r.Len()]); err != nil {
					b.Fatal(err)
				}
				h := m.split("X-Filter-Loop", "Subject")
				bw.Reset(io.Discard)
				if err := writeMessage(&dotWriter{w: bw, bol: true, plain: m.plain}, m.tail(), h.parts(nil)); err != nil {
					b.Fatal(err)
				}
				m.release()
			}
		})
	}
}

// BenchmarkHopSend sends a held 1 MiB message downstream over loopback
// TCP (DATA, the stuffed message, the final reply) to a sink that only
// looks for the end of the data: the hop's write path and its system
// calls.
//
//	go test -run '^$' -bench HopSend -benchmem ./reinject
func BenchmarkHopSend(b *testing.B) {
	ln := testutil.Listen(b)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReaderSize(c, 256<<10)
		var last [5]byte
		for {
			if _, err := br.ReadSlice('\n'); err != nil { // DATA
				return
			}
			io.WriteString(c, "354 go\r\n")
			for string(last[:]) != "\r\n.\r\n" {
				p, err := br.Peek(max(1, br.Buffered()))
				if err != nil {
					return
				}
				if len(p) >= 5 {
					copy(last[:], p[len(p)-5:])
				} else {
					copy(last[:], append(last[len(p):], p...))
				}
				br.Discard(len(p))
			}
			last = [5]byte{}
			io.WriteString(c, "250 ok\r\n")
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ds := &downstream{raw: c, conn: c, tp: newTextConn(c), to: timeouts{command: time.Minute, data: time.Minute, final: time.Minute}}
	msg := "From: Alice <alice@example.com>\r\nSubject: report\r\n\r\n" + string(testutil.BusinessText(1<<20)) + "\r\n"
	m := newMessage(0, "")
	for off := 0; off < len(msg); {
		buf, _ := m.space()
		n := copy(buf, msg[off:])
		m.grow(n)
		off += n
	}
	m.done()
	m.plain = true
	defer m.release()
	h := m.split("Subject")
	extra := [][]byte{fieldLine("X-Filter-Loop", "Reflected")}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := ds.data(nil, m.plain, h.parts(extra)...)
		if err != nil || r.Code != 250 {
			b.Fatalf("reply %v, %v", r, err)
		}
	}
}

// BenchmarkHopConnPerMessage sends 4 KiB messages through the hop with
// the default policy, one connection each, as an MTA does: the
// per-connection costs (buffers, greeting, EHLO, QUIT) included.
//
//	go test -run '^$' -bench HopConnPerMessage -benchmem ./reinject
func BenchmarkHopConnPerMessage(b *testing.B) {
	eng := defaultEngine(b)
	mta := newFakeMTA(b, func(f *fakeMTA) { f.discard = true })
	_, addr := startHop(b, eng, reflectCfg(mta.addr()), WithLogger(slog.New(slog.DiscardHandler)))
	msg := "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.net>\r\nSubject: report\r\n\r\n" +
		string(testutil.BusinessText(4<<10)) + "\r\n"
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		up := dialUp(b, addr)
		up.hello()
		if got := up.sendMessage("alice@example.com", []string{"bob@example.net"}, msg); !strings.HasPrefix(got, "250 ") {
			b.Fatalf("reply %q", got)
		}
		up.cmd("QUIT")
		up.c.Close()
	}
}
