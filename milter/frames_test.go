package milter

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// TestIssue12FramesAwaitReply: a read that ends exactly after a packet the
// MTA waits on needs no quick ACK; any other end does, however the
// stream is split into reads.
func TestIssue12FramesAwaitReply(t *testing.T) {
	pkt := func(code byte, data string) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(data)+1))
		return append(append(b, code), data...)
	}
	mail := bytes.Join([][]byte{pkt('D', "Mi\x00Q1\x00"), pkt('M', "<a@example.com>\x00")}, nil)
	body := bytes.Join([][]byte{pkt('L', "Subject\x00 x\x00"), pkt('N', ""), pkt('B', string(bytes.Repeat([]byte("x"), 300)))}, nil)
	eom := pkt('E', "")
	stream := bytes.Join([][]byte{mail, body, eom}, nil)
	awaits := map[int]bool{len(mail): true, len(stream): true}
	for split := 1; split <= len(stream); split++ {
		// Reads of split bytes, then the rest of the stream at each end of
		// a read that ends where a reply is due.
		var f frames
		for off := 0; off < len(stream); {
			end := min(off+split, len(stream))
			if off < len(mail) && end > len(mail) {
				end = len(mail) // the MTA waits for the MAIL reply
			}
			got := f.feed(stream[off:end])
			if want := awaits[end]; got != want {
				t.Fatalf("split %d: read ending at %d: awaits reply %v, want %v", split, end, got, want)
			}
			off = end
		}
	}
}

// FuzzFrames: feed never panics and a stream fed in two pieces gives the
// same answer as in one.
func FuzzFrames(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x01E"), 2)
	f.Add([]byte("\x00\x00\x00\x05Mabcd\x00\x00\x00\x01N"), 7)
	f.Fuzz(func(t *testing.T, b []byte, cut int) {
		var one, two frames
		want := one.feed(b)
		if cut < 0 || cut > len(b) {
			cut = len(b) / 2
		}
		two.feed(b[:cut])
		if got := two.feed(b[cut:]); cut < len(b) && got != want {
			t.Fatalf("split at %d: %v, whole: %v", cut, got, want)
		}
	})
}
