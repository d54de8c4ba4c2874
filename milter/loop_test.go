package milter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/config"
)

// replayConn serves the same bytes to every read, forever, and takes
// every write.
type replayConn struct {
	net.Conn
	in  []byte
	off int
	out bytes.Buffer
}

func (c *replayConn) Read(p []byte) (int, error) {
	n := copy(p, c.in[c.off:])
	c.off = (c.off + n) % len(c.in)
	return n, nil
}
func (c *replayConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *replayConn) SetReadDeadline(time.Time) error  { return nil }
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }

func pkt(code byte, data ...string) []byte {
	d := strings.Join(data, "")
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(d)))
	return append(append(b, code), d...)
}

// TestIssue12LoopNoAllocPerPacket: decoding the packets that come many
// times per message (macros, header fields, body chunks) and answering
// them allocates nothing, and macro values asked for again are not
// copied again.
func TestIssue12LoopNoAllocPerPacket(t *testing.T) {
	var in []byte
	in = append(in, pkt('D', "L", "i\x00", "4XyZ1A2B3C\x00")...)
	in = append(in, pkt('L', "Subject\x00", " hello\x00")...)
	in = append(in, pkt('D', "B", "i\x00", "4XyZ1A2B3C\x00")...)
	in = append(in, pkt('B', strings.Repeat("body line\r\n", 300))...)
	rc := &replayConn{in: in}
	s := newServer(config.Milter{}.WithDefaults(), func() engine { return &fakeEngine{} })
	c := newConn(s, rc)
	sess := &session{srv: s}
	c.protocol = gomilter.OptNoHeaderReply
	step := func() {
		for range 4 {
			code, data, err := c.readPacket(time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.command(sess, code, data)
			if err != nil {
				t.Fatal(err)
			}
			if resp != nil && !c.skipReply(code) {
				if err := c.send(resp); err != nil {
					t.Fatal(err)
				}
			}
			if len(c.out) > 0 {
				if err := c.flush(); err != nil {
					t.Fatal(err)
				}
			}
			if code == 'D' && c.Get("i") != "4XyZ1A2B3C" {
				t.Fatalf("macro i = %q", c.Get("i"))
			}
		}
	}
	step()
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Errorf("%v allocations per round of 4 packets, want 0", n)
	}
	// Body chunks get a continue each (the test did not ask to skip them).
	if got := bytes.Count(rc.out.Bytes(), []byte{0, 0, 0, 1, 'c'}); got == 0 {
		t.Errorf("no continue written for body chunks")
	}
}

// TestIssue12LoopPacketBound: a declared length past max_packet_bytes
// ends the connection before any buffer is grown for it.
func TestIssue12LoopPacketBound(t *testing.T) {
	rc := &replayConn{in: binary.BigEndian.AppendUint32(nil, 1<<30)}
	s := newServer(config.Milter{}.WithDefaults(), func() engine { return &fakeEngine{} })
	c := newConn(s, rc)
	size := len(c.buf)
	_, _, err := c.readPacket(time.Second)
	if !errors.Is(err, errBadPacket) {
		t.Fatalf("err = %v, want errBadPacket", err)
	}
	if len(c.buf) != size {
		t.Errorf("buffer grew to %d bytes for a refused packet", len(c.buf))
	}
}

// TestIssue12MacroStore: the last value of a name wins, an odd list ends
// with an empty value, later stages are looked at first and cleared with
// their stage.
func TestIssue12MacroStore(t *testing.T) {
	var s macroStore
	s.set(gomilter.StageConnect, []byte("j\x00mx\x00{client_addr}\x001.2.3.4\x00j\x00mx2\x00"))
	s.set(gomilter.StageMail, []byte("i\x00Q1\x00odd"))
	for name, want := range map[string]string{"j": "mx2", "{client_addr}": "1.2.3.4", "i": "Q1", "odd": ""} {
		if got, ok := s.get(name); !ok || got != want {
			t.Errorf("%s = %q, %v; want %q", name, got, ok, want)
		}
	}
	s.set(gomilter.StageEOM, []byte("i\x00Q2\x00"))
	if got, _ := s.get("i"); got != "Q2" {
		t.Errorf("i = %q, want the end-of-message value Q2", got)
	}
	s.delFrom(gomilter.StageMail)
	if _, ok := s.get("i"); ok {
		t.Errorf("i still set after clearing the mail stage and above")
	}
	if got, _ := s.get("j"); got != "mx2" {
		t.Errorf("j = %q after clearing later stages", got)
	}
}
