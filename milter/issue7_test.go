package milter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy/action"
)

func forgedPassHeaders(n int) mta {
	m := simpleMessage()
	for i := range n {
		m.headers = append(m.headers, [2]string{"X-Filter-Loop", fmt.Sprintf(" forged %d", i)})
	}
	return m
}

// TestIssue7PassHeaderFlood: up to max_incoming forged pass headers are
// deleted (one change-header request each); one more and the message is
// refused before it is scanned, with no modification sent at all, or
// deferred when on_too_many is tempfail.
func TestIssue7PassHeaderFlood(t *testing.T) {
	for _, tt := range []struct {
		name     string
		cfg      config.PassHeader
		n        int
		wantCode uint16
		wantMods int
	}{
		{"at the default limit", config.PassHeader{}, config.DefaultPassHeaderMaxIncoming, 0, config.DefaultPassHeaderMaxIncoming + 1},
		{"one past the default limit", config.PassHeader{}, config.DefaultPassHeaderMaxIncoming + 1, 550, 0},
		{"a flood", config.PassHeader{}, 2000, 550, 0},
		{"configured limit", config.PassHeader{MaxIncoming: 2}, 3, 550, 0},
		{"tempfail", config.PassHeader{MaxIncoming: 2, OnTooMany: "tempfail"}, 3, 451, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			eng := &fakeEngine{}
			_, addr := startServer(t, eng, WithRecorder(rec), WithPassHeader(tt.cfg))
			r := forgedPassHeaders(tt.n).send(t, addr)
			if len(r.mods) != tt.wantMods {
				t.Errorf("%d modifications, want %d", len(r.mods), tt.wantMods)
			}
			if tt.wantCode == 0 {
				if r.end.Type != gomilter.ActionAccept {
					t.Errorf("end of message = %+v, want accept", r.end)
				}
				return
			}
			if r.end.SMTPCode != tt.wantCode || !strings.Contains(r.end.SMTPReply, "too many X-Filter-Loop") {
				t.Errorf("end of message = %d %q, want %d naming the header", r.end.SMTPCode, r.end.SMTPReply, tt.wantCode)
			}
			ds := waitDecisions(t, rec, 1)
			if !errors.Is(ds[0].Err, ErrPassHeaders) {
				t.Errorf("decision error = %v, want ErrPassHeaders", ds[0].Err)
			}
			if calls, _, _ := eng.snapshot(); calls != 0 {
				t.Errorf("engine called %d times for a refused message, want 0", calls)
			}
		})
	}
}

// TestIssue7PassHeaderKept: when the MTA does not grant the change-header
// action, a forged pass header cannot be removed: the message gets the
// on_error outcome instead of being delivered with it beside ours. A
// message without one is delivered as usual.
func TestIssue7PassHeaderKept(t *testing.T) {
	rec := &recorder{}
	_, addr := startServer(t, &fakeEngine{verdict: action.Verdict{Action: action.Pass}}, WithRecorder(rec))
	noChange := gomilter.WithActions(gomilter.OptAddHeader | gomilter.OptQuarantine)

	r, err := forgedPassHeaders(1).trySendWith(addr, noChange)
	if err != nil {
		t.Fatal(err)
	}
	if r.end.SMTPCode != 451 || len(r.mods) != 0 {
		t.Errorf("forged header, no change-header action: %q %+v, want 451 and no modification", modStrings(r.mods), r.end)
	}
	if ds := waitDecisions(t, rec, 1); !errors.Is(ds[0].Err, ErrPassHeaderKept) {
		t.Errorf("decision error = %v, want ErrPassHeaderKept", ds[0].Err)
	}

	r, err = simpleMessage().trySendWith(addr, noChange)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{`AddHeader "X-Filter-Loop" " Reflected"`}; r.end.Type != gomilter.ActionAccept || !equalStrings(modStrings(r.mods), want) {
		t.Errorf("clean message, no change-header action: %q %+v, want accept with %q", modStrings(r.mods), r.end, want)
	}
}

// rawNegotiate opens a TCP connection to a milter at addr (from local, when
// set) and does the option negotiation by hand, as an MTA would, leaving
// the connection idle after it. ok is false when the milter closed the
// connection instead of answering.
func rawNegotiate(t *testing.T, addr, local string) (c net.Conn, ok bool) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %q: %v", addr, local, err)
	}
	t.Cleanup(func() { c.Close() })
	pkt := make([]byte, 4+1+12)
	binary.BigEndian.PutUint32(pkt, 13)
	pkt[4] = 'O'
	binary.BigEndian.PutUint32(pkt[5:], 6)
	binary.BigEndian.PutUint32(pkt[9:], uint32(gomilter.AllClientSupportedActionMasks))
	binary.BigEndian.PutUint32(pkt[13:], 0)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(pkt); err != nil {
		return c, false
	}
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return c, false
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(c, body); err != nil || len(body) == 0 || body[0] != 'O' {
		t.Fatalf("negotiation reply %q, %v; want an O packet", body, err)
	}
	return c, true
}

// TestIssue7MilterIdleTimeout: a negotiated connection on which the MTA
// sends nothing is closed after idle_timeout, and its session slot is
// released.
func TestIssue7MilterIdleTimeout(t *testing.T) {
	s, addr := startServer(t, &fakeEngine{}, withConfig(config.Milter{IdleTimeout: config.Duration(300 * time.Millisecond)}))
	c, ok := rawNegotiate(t, addr, "")
	if !ok {
		t.Fatal("negotiation failed")
	}
	testutil.WaitFor(t, "one session", func() bool { return s.Sessions() == 1 })
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(make([]byte, 1))
	if n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("idle connection: read %d bytes, %v after %s; want it closed by the milter", n, err, time.Since(start))
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("closed after %s, before idle_timeout", d)
	}
	testutil.WaitFor(t, "no session", func() bool { return s.Sessions() == 0 })

	// The default is not "wait forever".
	if d := (config.Milter{}).WithDefaults().IdleTimeout.D(); d <= 0 {
		t.Errorf("default idle timeout %s, want > 0", d)
	}
}

// TestIssue7MilterAllow: a TCP client outside milter.allow is disconnected
// before negotiation; one inside is served.
func TestIssue7MilterAllow(t *testing.T) {
	s, addr := startServer(t, &fakeEngine{}, withConfig(config.Milter{Allow: config.MustNetworks("127.0.0.2")}))
	c, ok := rawNegotiate(t, addr, "127.0.0.1")
	if ok {
		t.Fatalf("client 127.0.0.1 outside allow = [127.0.0.2] was served")
	}
	c.Close()
	if n := s.Sessions(); n != 0 {
		t.Errorf("%d sessions after a refused client, want 0", n)
	}
	if _, ok := rawNegotiate(t, addr, "127.0.0.2"); !ok {
		t.Fatalf("client 127.0.0.2 inside allow was refused")
	}

	// By default only the local host may connect.
	def, _ := startServer(t, &fakeEngine{})
	for ip, want := range map[string]bool{"127.0.0.1": true, "::1": true, "192.0.2.1": false, "::ffff:127.0.0.1": true} {
		if got := def.allowed(&net.TCPAddr{IP: net.ParseIP(ip)}); got != want {
			t.Errorf("default allowed(%s) = %v, want %v", ip, got, want)
		}
	}
}
