package milter

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/policy/action"

	"github.com/maildlp/maildlp/internal/testutil"
)

// countedServer serves eng on loopback with connections tuned as Listen
// tunes them and counted.
func countedServer(t *testing.T, eng engine) (*countListener, string) {
	t.Helper()
	ln, err := Listen("inet:0@127.0.0.1", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countListener{Listener: ln.(connListener).Listener, keep: true}
	serveOn(t, eng, cl)
	return cl, ln.Addr().String()
}

// packetCodes splits a write into milter packets and returns their codes;
// whole is false when the write does not end with a whole packet.
func packetCodes(b []byte) (codes string, whole bool) {
	for len(b) >= 5 {
		n := 4 + int(binary.BigEndian.Uint32(b))
		if n > len(b) {
			return codes, false
		}
		codes += string(b[4])
		b = b[n:]
	}
	return codes, len(b) == 0
}

// TestIssue12WorkPerMessage: per message sent as Postfix sends it, the
// session loop reads once per batch of packets the MTA sends before it
// waits, writes each reply in one system call (the modifications of a
// message together with its final reply), and sets three socket
// deadlines: the negotiation's, the idle one, and the write one.
func TestIssue12WorkPerMessage(t *testing.T) {
	v := action.Verdict{Action: action.Modify, SubjectPrefix: "[DLP]",
		AddHeaders: []action.Header{{Name: "X-CFilter", Value: "Encrypt"}}}
	cl, addr := countedServer(t, &fakeEngine{verdict: v})
	const n = 10
	for range n {
		if final, _, quit := rawSession(t, addr, testutil.BusinessText(4<<10), 10*time.Second); final != respAccept {
			t.Fatalf("final reply %q, want accept", final)
		} else {
			quit()
		}
	}
	if got := cl.reads.Load(); got != 5*n {
		t.Errorf("%d reads for %d messages, want %d (one per batch)", got, n, 5*n)
	}
	// A connection stalled for more than 1/64 of write_timeout (156 ms)
	// between two replies on a loaded machine moves its write deadline
	// once more.
	if got := cl.deadlines.Load(); got < 3*n || got > 3*n+3 {
		t.Errorf("%d deadline updates for %d messages, want %d", got, n, 3*n)
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if len(cl.written) != 4*n {
		t.Fatalf("%d writes for %d messages, want %d (one per reply)", len(cl.written), n, 4*n)
	}
	// Per connection: negotiation, MAIL, RCPT, end of message.
	want := []string{"O", "c", "c", "mhha"} // subject, X-CFilter, pass header, accept
	for i, w := range cl.written {
		codes, whole := packetCodes(w)
		if !whole || codes != want[i%4] {
			t.Fatalf("write %d: packets %q (whole %v), want %q in one write", i, codes, whole, want[i%4])
		}
	}
}

// TestIssue12ModificationsPastMaxHeld: modifications held back for the
// final reply leave at once past maxHeld bytes, whole packets each write.
func TestIssue12ModificationsPastMaxHeld(t *testing.T) {
	big := strings.Repeat("x", maxHeld/2+1)
	v := action.Verdict{Action: action.Modify,
		AddHeaders: []action.Header{{Name: "X-A", Value: big}, {Name: "X-B", Value: big}}}
	cl, addr := countedServer(t, &fakeEngine{verdict: v})
	final, _, quit := rawSession(t, addr, testutil.BusinessText(1<<10), 10*time.Second)
	quit()
	if final != respAccept {
		t.Fatalf("final reply %q, want accept", final)
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	var got []string
	for _, w := range cl.written[3:] {
		codes, whole := packetCodes(w)
		if !whole {
			t.Fatalf("a write ends inside a packet: %q", codes)
		}
		got = append(got, codes)
	}
	if strings.Join(got, " ") != "h hha" {
		t.Errorf("end-of-message writes %q, want [h hha]", got)
	}
}
