package reinject

import (
	"bufio"
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
)

// endOfData is the oracle of RFC 5321 section 4.1.1.4, independent of the
// reader's state machine: the data ends at the first <CRLF>.<CRLF>, the
// CRLF after DATA counting as the first CRLF.
func endOfData(in []byte) (int, bool) {
	i := bytes.Index(append([]byte("\r\n"), in...), []byte("\r\n.\r\n"))
	if i < 0 {
		return 0, false
	}
	return i + 3, true // bytes of in up to and including the end line
}

// TestReviewDotReaderCRCRLFEnd: a CR before the CRLF of a line ("x\r\r\n")
// leaves that CRLF a line end, so a "." line after it ends the data, as
// for every SMTP implementation in front of the hop. Missing it makes the
// hop wait for more data (and read the client's next commands as text)
// while the client waits for the reply to its dot.
func TestReviewDotReaderCRCRLFEnd(t *testing.T) {
	for _, in := range []string{
		"before\r\r\n.\r\nNOOP\r\n",
		"a\r\n.\r\r\n.\r\nNOOP\r\n",
		"a\r\r\r\n.\r\nNOOP\r\n",
		"\r\r\n.\r\nNOOP\r\n",
		"a\r\n.\r\r\r\n.\r\nNOOP\r\n",
	} {
		end, ok := endOfData([]byte(in))
		if !ok {
			t.Fatalf("oracle: no end in %q", in)
		}
		br := bufio.NewReaderSize(strings.NewReader(in), 16)
		d := newDotReader(br, nil, 1000, 1<<20, 0, 0)
		if _, err := io.ReadAll(d); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		rest, _ := io.ReadAll(br)
		if string(rest) != in[end:] {
			t.Errorf("%q: left %q after the data, want %q", in, rest, in[end:])
		}
	}
}

// TestReviewHopCRCRLFEnd: over a socket, a message whose last line ends in
// a bare CR is answered at once: refused under bare_newline = "reject",
// relayed (the CR made CRLF, the next line unstuffed) under "normalise".
func TestReviewHopCRCRLFEnd(t *testing.T) {
	for _, mode := range []string{"reject", "normalise"} {
		t.Run(mode, func(t *testing.T) {
			mta := newFakeMTA(t, nil)
			cfg := reflectCfg(mta.addr())
			cfg.BareNewline = config.BareNewline(mode)
			cfg.Timeouts.DataIdle = config.Duration(3 * time.Second)
			_, addr := startHop(t, &fakeEngine{}, cfg)
			up := dialUp(t, addr)
			up.hello()
			got := up.sendMessage("a@example.com", []string{"b@example.com"}, "Subject: x\r\n\r\nbefore\r\r\n..dot\r\nlast\r\r\n")
			if mode == "reject" {
				if !strings.HasPrefix(got, "550 5.5.2") {
					t.Fatalf("reply %q, want 550 5.5.2", got)
				}
				up.expect("NOOP", "250")
				return
			}
			if !strings.HasPrefix(got, "250 ") {
				t.Fatalf("reply %q, want 250", got)
			}
			msgs := mta.messages()
			if len(msgs) != 1 {
				t.Fatalf("delivered %d, want 1", len(msgs))
			}
			if want := "Subject: x\r\n\r\nbefore\r\n\r\n.dot\r\nlast\r\n\r\n"; !strings.HasSuffix(string(msgs[0].Data), want) {
				t.Fatalf("delivered %q, want suffix %q", msgs[0].Data, want)
			}
			up.expect("NOOP", "250")
		})
	}
}

// TestReviewNormaliseHoldsNoMoreThanMax: under bare_newline = "normalise"
// each bare LF becomes two bytes, so a message within max_message_bytes
// on the wire can double. The hop stops holding it once the normalised
// message passes the limit, instead of holding twice the limit first.
func TestReviewNormaliseHoldsNoMoreThanMax(t *testing.T) {
	const max = 4 << 20
	cfg := config.Reinject{MaxMessageBytes: max, BareNewline: config.BareNewlineNormalise}.WithDefaults()
	ss := &session{s: &Server{cfg: cfg}}
	in := strings.Repeat("\n", max-1) + "\r\n.\r\n"
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC() // empties the chunk pool: every chunk held is allocated
	runtime.ReadMemStats(&before)
	br := bufio.NewReaderSize(strings.NewReader(in), 64<<10)
	_, err := ss.receive(newDotReader(br, nil, int(cfg.MaxLineLength), max, 0, 0))
	runtime.ReadMemStats(&after)
	if err != errDataTooLarge {
		t.Fatalf("err = %v, want errDataTooLarge", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > max*3/2 {
		t.Fatalf("allocated %d bytes for a limit of %d", got, max)
	}
}

// TestReviewDownstreamMixedCodes: every line of a reply carries the same
// code (RFC 5321 section 4.2.1). The hop acts on the first line's code
// while the upstream (Postfix among others) reads the last, so a
// downstream reply "250-... / 550 ..." would be a recipient the hop
// counts as accepted and the upstream as refused. Such a reply is
// malformed: the upstream gets the hop's 4xx, on one code.
func TestReviewDownstreamMixedCodes(t *testing.T) {
	mta := newFakeMTA(t, func(f *fakeMTA) {
		f.reply = func(cmd string) string {
			if strings.Contains(cmd, "<mixed@example.com>") {
				return "250-2.1.5 Ok\r\n550 5.1.1 User unknown"
			}
			return ""
		}
	})
	_, addr := startHop(t, &fakeEngine{}, reflectCfg(mta.addr()))
	up := dialUp(t, addr)
	up.hello()
	up.expect("MAIL FROM:<a@example.com>", "250")
	got := up.cmd("RCPT TO:<mixed@example.com>")
	lines := strings.Split(got, "\n")
	for _, l := range lines {
		if l[:3] != lines[0][:3] {
			t.Fatalf("reply with mixed codes relayed: %q", got)
		}
	}
	if !strings.HasPrefix(got, "4") {
		t.Fatalf("reply %q, want the hop's 4xx", got)
	}
}

// TestReviewHopMaxErrors: a client that only errs is disconnected after
// max_errors of the hop's own error replies (421), while recipients the
// next hop refuses do not count against it.
func TestReviewHopMaxErrors(t *testing.T) {
	mta := newFakeMTA(t, func(f *fakeMTA) {
		f.reply = func(cmd string) string {
			if strings.HasPrefix(cmd, "RCPT") && strings.Contains(cmd, "nouser") {
				return "550 5.1.1 User unknown"
			}
			return ""
		}
	})
	cfg := reflectCfg(mta.addr())
	cfg.MaxErrors = 3
	_, addr := startHop(t, &fakeEngine{}, cfg)

	up := dialUp(t, addr)
	up.hello()
	up.expect("MAIL FROM:<a@example.com>", "250")
	for i := 0; i < 5; i++ {
		up.expect("RCPT TO:<nouser@example.com>", "550 5.1.1")
	}
	up.expect("RCPT TO:<b@example.com>", "250")
	up.expect("RSET", "250")

	up.expect("BOGUS", "5")
	up.expect("DATA x", "5")
	up.expect("MAIL FROM:<", "501")
	if got := up.read(); !strings.HasPrefix(got, "421 4.7.0") {
		t.Fatalf("after the third error: %q, want 421", got)
	}
	if got := up.read(); !strings.HasPrefix(got, "ERR") {
		t.Fatalf("connection still open after 421: %q", got)
	}
}
