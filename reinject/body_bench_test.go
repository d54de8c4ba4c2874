package reinject

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"
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
				string(businessText(size)) + "\r\n"
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
