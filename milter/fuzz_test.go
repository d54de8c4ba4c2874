package milter

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/metrics"
	"github.com/maildlp/maildlp/policy/action"
)

// FuzzSession sends MTA input (a header field and a body) through a real
// milter session and checks that the engine reads exactly the message
// the MTA sent and that the session answers; a message with a NUL byte is
// refused unscanned.
func FuzzSession(f *testing.F) {
	f.Add("Subject", " hello", []byte("body\r\n"))
	f.Add("X-Folded", " a\n\tb\r\n c", []byte(""))
	f.Add("Subject", "", []byte("\r\n.\r\n\x00\xff"))
	f.Add("To", "  \t", []byte("line without end"))

	var once sync.Once
	var addr string
	eng := &fakeEngine{}
	f.Fuzz(func(t *testing.T, name, value string, body []byte) {
		once.Do(func() {
			ln, err := Listen("inet:127.0.0.1:0", 0, "")
			if err != nil {
				t.Fatal(err)
			}
			s := newServer(config.Milter{}.WithDefaults(), func() engine { return eng })
			go s.Serve(ln)
			addr = ln.Addr().String()
		})
		// The milter protocol carries names and values as C strings, and
		// a header name has no colon, space or control character.
		if name == "" || strings.ContainsAny(name, ":\x00") || strings.ContainsRune(value, 0) ||
			strings.HasSuffix(value, "\n") || strings.HasSuffix(value, "\r") || len(body) > 200<<10 {
			return
		}
		for _, r := range []byte(name) {
			if r <= ' ' || r >= 0x7f {
				return
			}
		}
		m := mta{from: "a@example.com", rcpts: []string{"b@example.org"}, headers: [][2]string{{name, value}}, body: body}
		calls, _, _ := eng.snapshot()
		r, err := m.trySend(addr)
		if err != nil {
			t.Fatalf("session: %v", err)
		}
		if bytes.IndexByte(body, 0) >= 0 {
			// A NUL byte is refused for good, unscanned.
			if r.end == nil || r.end.SMTPCode != 550 || !strings.Contains(r.end.SMTPReply, "5.6.0") {
				t.Fatalf("final action = %v, want 550 5.6.0 for a NUL byte", r.end)
			}
			if now, _, _ := eng.snapshot(); now != calls {
				t.Fatalf("engine ran on a message with a NUL byte")
			}
			return
		}
		if r.end == nil || r.end.Type != gomilter.ActionAccept {
			t.Fatalf("final action = %v, want accept", r.end)
		}
		norm := strings.ReplaceAll(strings.ReplaceAll(value, "\r\n", "\n"), "\n", "\r\n")
		want := name + ":" + norm + "\r\n\r\n" + string(body)
		if _, got, _ := eng.snapshot(); string(got) != want {
			t.Fatalf("engine read %q, want %q", got, want)
		}
	})
}

// FuzzReply checks the adapter from a rendered reply to go-milter's
// response: whatever a policy text holds, the reply the MTA sends (after
// Postfix's milter8 undoes go-milter's '%' doubling) is byte for byte
// the one the reinjection hop writes, [action.Wire.String].
func FuzzReply(f *testing.F) {
	f.Add(550, "5.7.1", "refused\nsecond line", true, "INC-1")
	f.Add(451, "", "100% %s %n", false, "")
	f.Add(250, "2.0.0", "\r\n\r\n", true, "x")
	f.Add(0, "5.07.1", strings.Repeat("long ", 400), false, "id")
	f.Add(550, "5.7.1", strings.Repeat("%", 2000)+"\n\n5.7.2 x é", true, "")
	f.Fuzz(func(t *testing.T, code int, enh, text string, permanent bool, incident string) {
		def := action.PolicyTempFail
		if permanent {
			def = action.PolicyBlock
		}
		for _, utf8 := range []bool{false, true} {
			w := action.Render(action.Reply{Code: code, Enhanced: enh, Text: text}, def, incident, utf8)
			if got, want := mtaReply(t, response(w)), w.String(); got != want {
				t.Fatalf("the MTA sends %q, the hop %q", got, want)
			}
		}
	})
}

// mtaReply is the reply Postfix sends for a milter reply-code response:
// the text with "%%" turned back into "%" (milter8.c).
func mtaReply(t *testing.T, resp *gomilter.Response) string {
	t.Helper()
	msg := resp.Response()
	if msg.Code != 'y' {
		t.Fatalf("response %v is no reply code", resp)
	}
	return postfixReply(strings.TrimSuffix(string(msg.Data), "\x00"))
}

// FuzzWire sends raw bytes to the milter socket, as a broken or hostile
// peer could. The session loop (loop.go) decodes every packet in place
// from its read buffer: the server must answer or close the connection,
// without a panic (the loop would recover it and close the connection,
// which hides a decoding bug: the test counts them) and without leaving
// the connection hanging.
func FuzzWire(f *testing.F) {
	optneg := []byte{0, 0, 0, 13, 'O', 0, 0, 0, 6, 0, 0, 0x01, 0xff, 0, 0x1f, 0xff, 0xff}
	f.Add(optneg)
	f.Add(append(append([]byte{}, optneg...), 0, 0, 0, 1, 'C'))
	f.Add(append(append([]byte{}, optneg...), 0, 0, 0, 2, 'D', 'C'))
	f.Add(append(append([]byte{}, optneg...), 0, 0, 0, 3, 'L', 'a', 0))
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 'O'})

	var once sync.Once
	var addr string
	m := metrics.New()
	f.Fuzz(func(t *testing.T, in []byte) {
		once.Do(func() {
			ln, err := Listen("inet:127.0.0.1:0", 0, "")
			if err != nil {
				t.Fatal(err)
			}
			s := newServer(config.Milter{}.WithDefaults(), func() engine { return &fakeEngine{} },
				WithLogger(slog.New(slog.DiscardHandler)), WithMetrics(m))
			go s.Serve(ln)
			addr = ln.Addr().String()
		})
		before := m.Value("maildlp_panics_total", "milter")
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write(in)
		c.(*net.TCPConn).CloseWrite()
		// A close with unread input arrives as a reset: only a timeout
		// means the server left the connection hanging.
		var ne net.Error
		if _, err := io.Copy(io.Discard, c); errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the server neither answered nor closed: %v", err)
		}
		if n := m.Value("maildlp_panics_total", "milter"); n != before {
			t.Fatalf("the session loop panicked on %q", in)
		}
	})
}
