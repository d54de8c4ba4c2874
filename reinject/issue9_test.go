package reinject

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

// rawReply reads one reply from u exactly as it came on the wire, CRLFs
// included.
func (u *upstream) rawReply() string {
	u.t.Helper()
	var b strings.Builder
	for {
		l, err := u.br.ReadString('\n')
		b.WriteString(l)
		if err != nil {
			return b.String() + "ERR " + err.Error()
		}
		if len(l) < 4 || l[3] != '-' {
			return b.String()
		}
	}
}

// TestIssue9HopRelaysRepliesVerbatim: the downstream's replies to MAIL,
// RCPT and the final dot reach the client byte for byte, multi-line
// replies, odd spacing and lines without an enhanced code included.
func TestIssue9HopRelaysRepliesVerbatim(t *testing.T) {
	replies := map[string]string{
		"MAIL": "250-2.1.0 sender  ok\r\n250-\r\n250 2.1.0 at fake.test (three lines)",
		"RCPT": "250-first line without code\r\n250 2.1.5  two spaces, then the last line",
	}
	mta := newFakeMTA(t, func(f *fakeMTA) {
		f.reply = func(cmd string) string {
			verb, _, _ := strings.Cut(cmd, " ")
			if verb == "MAIL" || verb == "RCPT" {
				return replies[verb]
			}
			return ""
		}
	})
	_, addr := startHop(t, &fakeEngine{}, reflectCfg(mta.addr()))
	up := dialUp(t, addr)
	up.hello()
	up.send("MAIL FROM:<a@example.com>\r\n")
	if got, want := up.rawReply(), replies["MAIL"]+"\r\n"; got != want {
		t.Fatalf("MAIL reply = %q, want %q", got, want)
	}
	up.send("RCPT TO:<b@example.com>\r\n")
	if got, want := up.rawReply(), replies["RCPT"]+"\r\n"; got != want {
		t.Fatalf("RCPT reply = %q, want %q", got, want)
	}
	up.expect("DATA", "354")
	up.send(testMsg + ".\r\n")
	if got := up.rawReply(); got != "250 2.0.0 Ok: queued as FAKE1\r\n" {
		t.Fatalf("final reply = %q", got)
	}
}

// TestIssue9HopRelaysFinalReplyVerbatim: a multi-line reply to the final
// dot reaches the client byte for byte.
func TestIssue9HopRelaysFinalReplyVerbatim(t *testing.T) {
	final := "250-2.0.0 Ok: queued as ABC123\r\n250-\r\n250 2.0.0  see you"
	ds := newScriptedMTA(t, final)
	_, addr := startHop(t, &fakeEngine{}, reflectCfg(ds))
	up := dialUp(t, addr)
	up.hello()
	up.expect("MAIL FROM:<a@example.com>", "250")
	up.expect("RCPT TO:<b@example.com>", "250")
	up.expect("DATA", "354")
	up.send(testMsg + ".\r\n")
	if got := up.rawReply(); got != final+"\r\n" {
		t.Fatalf("final reply = %q, want %q", got, final+"\r\n")
	}
}

// newScriptedMTA is a downstream that answers every command with 250 (354
// to DATA) and the end of the data with final, as given.
func newScriptedMTA(t *testing.T, final string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(20 * time.Second))
				br := bufio.NewReader(c)
				io.WriteString(c, "220 scripted.test ESMTP\r\n")
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					switch verb, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " "); strings.ToUpper(verb) {
					case "EHLO":
						io.WriteString(c, "250-scripted.test\r\n250 8BITMIME\r\n")
					case "DATA":
						io.WriteString(c, "354 go on\r\n")
						for {
							l, err := br.ReadString('\n')
							if err != nil {
								return
							}
							if l == ".\r\n" {
								break
							}
						}
						io.WriteString(c, final+"\r\n")
					case "QUIT":
						io.WriteString(c, "221 bye\r\n")
						return
					default:
						io.WriteString(c, "250 ok\r\n")
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestIssue9HopBlockReplyIsTheRenderer: the hop's refusal for a block
// verdict is byte for byte action.Verdict.Refusal, whatever the policy's
// text holds (non-ASCII, line breaks, no incident id), and with SMTPUTF8
// the UTF-8 is kept.
func TestIssue9HopBlockReplyIsTheRenderer(t *testing.T) {
	v := action.Verdict{Action: action.Block, IncidentID: "INC42",
		Reply: action.Reply{Code: 554, Enhanced: "5.7.1", Text: "Refusé: données sensibles\nsecond line\x01"}}
	eng := &fakeEngine{decide: func(policy.Envelope, []byte) action.Verdict { return v }}
	mta := newFakeMTA(t, func(f *fakeMTA) { f.ehlo = append(f.ehlo, "SMTPUTF8") })
	_, addr := startHop(t, eng, reflectCfg(mta.addr()))
	for _, utf8 := range []bool{false, true} {
		up := dialUp(t, addr)
		up.hello()
		mail := "MAIL FROM:<a@example.com>"
		if utf8 {
			mail += " SMTPUTF8"
		}
		up.expect(mail, "250")
		up.expect("RCPT TO:<b@example.com>", "250")
		up.expect("DATA", "354")
		up.send(testMsg + ".\r\n")
		want := v.Refusal(action.Block, utf8).String() + "\r\n"
		if got := up.rawReply(); got != want {
			t.Errorf("smtputf8=%v: reply = %q, want %q", utf8, got, want)
		}
		if !utf8 && !strings.Contains(want, "Refus?: donn?es") {
			t.Errorf("non-ASCII not replaced without SMTPUTF8: %q", want)
		}
	}
	if n := len(mta.messages()); n != 0 {
		t.Fatalf("delivered %d", n)
	}
}

// envelopeEngine refuses at MAIL or RCPT by an envelope-only policy.
type envelopeEngine struct {
	fakeEngine
	mail, rcpt *action.Verdict
}

func (e *envelopeEngine) CheckEnvelope(policy.Envelope) (action.Verdict, bool) {
	if e.mail == nil {
		return action.Verdict{}, false
	}
	return *e.mail, true
}

func (e *envelopeEngine) CheckRecipient(policy.Envelope, string) (action.Verdict, bool) {
	if e.rcpt == nil {
		return action.Verdict{}, false
	}
	return *e.rcpt, true
}

// TestIssue9HopEarlyRefusalIsTheRenderer: an envelope policy's refusal at
// MAIL or RCPT reads like the refusal after DATA ("Message refused by
// policy", incident id appended), rendered by the same code.
func TestIssue9HopEarlyRefusalIsTheRenderer(t *testing.T) {
	block := action.Verdict{Action: action.Block, IncidentID: "INC7"}
	defer1 := action.Verdict{Action: action.TempFail, Reply: action.Reply{Text: "slow down"}}
	mta := newFakeMTA(t, nil)
	eng := &envelopeEngine{rcpt: &block}
	_, addr := startHop(t, eng, reflectCfg(mta.addr()))
	up := dialUp(t, addr)
	up.hello()
	up.expect("MAIL FROM:<a@example.com>", "250")
	up.send("RCPT TO:<b@example.com>\r\n")
	want := block.Refusal(action.Block, false).String() + "\r\n"
	if got := up.rawReply(); got != want {
		t.Fatalf("RCPT refusal = %q, want %q", got, want)
	}
	if want != "550 5.7.1 Message refused by policy (incident INC7)\r\n" {
		t.Fatalf("renderer changed: %q", want)
	}

	eng2 := &envelopeEngine{mail: &defer1}
	_, addr2 := startHop(t, eng2, reflectCfg(mta.addr()))
	up2 := dialUp(t, addr2)
	up2.hello()
	up2.send("MAIL FROM:<a@example.com>\r\n")
	if got, want := up2.rawReply(), defer1.Refusal(action.TempFail, false).String()+"\r\n"; got != want {
		t.Fatalf("MAIL refusal = %q, want %q", got, want)
	}
}

// TestIssue9HopPipelining: a client that pipelines MAIL, RCPTs and DATA
// in one write gets one reply per command, in order, and the message is
// relayed; pipelined RSET and NOOP after a refused RCPT keep their place.
func TestIssue9HopPipelining(t *testing.T) {
	mta := newFakeMTA(t, func(f *fakeMTA) {
		f.reply = func(cmd string) string {
			if strings.HasPrefix(cmd, "RCPT TO:<nobody@") {
				return "550 5.1.1 nobody: unknown"
			}
			return ""
		}
	})
	_, addr := startHop(t, &fakeEngine{}, reflectCfg(mta.addr()))
	up := dialUp(t, addr)
	up.hello()
	up.send("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<nobody@example.com>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n")
	for i, want := range []string{"250 2.1.0 Ok", "250 2.1.5 Ok", "550 5.1.1 nobody: unknown", "250 2.1.5 Ok", "354 "} {
		if got := up.read(); !strings.HasPrefix(got, want) {
			t.Fatalf("reply %d = %q, want %q", i, got, want)
		}
	}
	up.send(testMsg + ".\r\nNOOP\r\nMAIL FROM:<d@example.com>\r\nRSET\r\nNOOP\r\n")
	for i, want := range []string{"250 2.0.0 Ok: queued as FAKE1", "250 2.0.0 Ok", "250 2.1.0 Ok", "250 2.0.0 Ok", "250 2.0.0 Ok"} {
		if got := up.read(); got != want {
			t.Fatalf("reply %d after the data = %q, want %q", i, got, want)
		}
	}
	msgs := mta.messages()
	if len(msgs) != 1 || len(msgs[0].Rcpts) != 2 {
		t.Fatalf("delivered %+v, want one message to two recipients", msgs)
	}
}

// TestIssue9HopCommandLineLimit: a command line of max_line_length is
// read; one byte more gets 500 5.4.0 and the connection ends, so the
// rest of the line is never run as a command.
func TestIssue9HopCommandLineLimit(t *testing.T) {
	mta := newFakeMTA(t, nil)
	cfg := reflectCfg(mta.addr())
	cfg.MaxLineLength = 1000
	_, addr := startHop(t, &fakeEngine{}, cfg)
	up := dialUp(t, addr)
	up.hello()
	at := "NOOP " + strings.Repeat("x", 1000-5)
	up.expect(at, "250 2.0.0")
	up.send("NOOP " + strings.Repeat("x", 1000-5+1) + "QUIT\r\n")
	want := action.Render(action.CommandTooLong, action.CommandTooLong, "", false).String() + "\r\n"
	if got := up.rawReply(); got != want {
		t.Fatalf("over the limit: %q, want %q", got, want)
	}
	if got := up.read(); !strings.HasPrefix(got, "ERR ") {
		t.Fatalf("connection still open: %q", got)
	}
}

// TestIssue9HopBareLFInData: a bare LF in DATA gets the canned refusal,
// nothing is relayed and the session stays in step.
func TestIssue9HopBareLFInData(t *testing.T) {
	mta := newFakeMTA(t, nil)
	_, addr := startHop(t, &fakeEngine{}, reflectCfg(mta.addr()))
	up := dialUp(t, addr)
	up.hello()
	up.expect("MAIL FROM:<a@example.com>", "250")
	up.expect("RCPT TO:<b@example.com>", "250")
	up.expect("DATA", "354")
	up.send("Subject: x\n\nbody\r\n.\r\n")
	want := action.Render(action.BareNewline, action.BareNewline, "", false).String() + "\r\n"
	if got := up.rawReply(); got != want {
		t.Fatalf("reply = %q, want %q", got, want)
	}
	up.expect("NOOP", "250")
	if n := len(mta.messages()); n != 0 {
		t.Fatalf("delivered %d", n)
	}
	for _, c := range mta.commands() {
		if c == "DATA" {
			t.Fatal("downstream saw DATA")
		}
	}
}

// TestIssue9HopCommandTimeout: a client that sends nothing within
// timeouts.command gets 421 and the connection ends.
func TestIssue9HopCommandTimeout(t *testing.T) {
	mta := newFakeMTA(t, nil)
	cfg := reflectCfg(mta.addr())
	cfg.Timeouts.Command = config.Duration(200 * time.Millisecond)
	_, addr := startHop(t, &fakeEngine{}, cfg)
	up := dialUp(t, addr)
	up.hello()
	up.expect("MAIL FROM:<a@example.com>", "250") // in a transaction: the idle bound does not apply
	if got := up.read(); !strings.HasPrefix(got, "421 4.4.2 ") {
		t.Fatalf("after the command timeout: %q", got)
	}
	if got := up.read(); !strings.HasPrefix(got, "ERR ") {
		t.Fatalf("connection still open: %q", got)
	}
}

// referenceUnstuff is the DATA state machine one byte at a time, without
// blocks, limits or line-end searches: the oracle for the DATA reader. It
// returns the message, the bytes after the end line, whether the end line
// was found and whether a bare CR or LF was seen.
func referenceUnstuff(in []byte) (msg, rest []byte, end, bare bool) {
	state, rawCR := dBeginLine, false
	for i, ch := range in {
		if (rawCR && ch != '\n') || (!rawCR && ch == '\n') {
			bare = true
		}
		rawCR = ch == '\r'
		prev := state
		state = nextDataState(prev, ch)
		switch {
		case prev == dBeginLine && ch == '.':
		case prev == dDot && ch == '\r':
		case prev == dDotCR && ch == '\n':
			return msg, in[i+1:], true, bare
		case prev == dDotCR:
			msg = append(msg, '\r', ch)
		default:
			msg = append(msg, ch)
		}
	}
	return msg, nil, false, bare
}

// FuzzDotReader: the DATA reader returns what the reference unstuffing
// returns, whatever the read sizes, leaves the bytes after the end line
// unread, and notes bare CR/LF as the reference does.
func FuzzDotReader(f *testing.F) {
	for _, s := range smuggling {
		f.Add([]byte("a"+s.seq+"b\r\n.\r\nNOOP\r\n"), uint8(7))
	}
	f.Add([]byte("x\r\n.\rX\r\n..\r\n.\r\nQUIT\r\n"), uint8(1))
	f.Add([]byte(".\r\n"), uint8(0))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		want, rest, end, bare := referenceUnstuff(in)
		if e, ok := endOfData(in); ok != end || ok && len(in)-e != len(rest) {
			t.Fatalf("reference end = %v (rest %q), RFC 5321 end = %v at %d", end, rest, ok, e)
		}
		// Small reads, and (high bit) reads of many lines at once.
		size, rd, bs := 16, int(step)%13+1, int(step)%9+2
		if step&0x80 != 0 {
			size, rd, bs = 4096, 4096, int(step)%64*64+2
		}
		br := bufio.NewReaderSize(&chunkReader{b: in, n: rd}, size)
		d := newDotReader(br, nil, 1<<20, 1<<30, 0, 0)
		var got []byte
		buf := make([]byte, bs)
		var err error
		for {
			var n int
			n, err = d.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				break
			}
		}
		if end != (err == io.EOF) {
			t.Fatalf("end found = %v, err = %v", end, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("read %q, reference %q", got, want)
		}
		if end {
			left, _ := io.ReadAll(br)
			if !bytes.Equal(left, rest) {
				t.Fatalf("left %q after the end, want %q", left, rest)
			}
			if d.bare != bare {
				t.Fatalf("bare = %v, reference %v", d.bare, bare)
			}
			// Without dots noted (and without bare CR/LF) the message
			// is sent on unstuffed: no line of it may start with a dot.
			if !d.dots && !d.bare && (bytes.HasPrefix(got, []byte(".")) || bytes.Contains(got, []byte("\n."))) {
				t.Fatalf("no dot noted, but %q has a line starting with one", got)
			}
		}
	})
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[k:]
	return k, nil
}

// FuzzParsePathArgs: a MAIL or RCPT argument the parser accepts has a
// bracketed path and space-free parameters, and the command the hop
// sends downstream (path and parameters as parsed) parses to the same.
func FuzzParsePathArgs(f *testing.F) {
	f.Add("FROM:<a@b> SIZE=1 BODY=8BITMIME", true)
	f.Add(`TO:<"x> y"@z> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;x+40z`, false)
	f.Add("FROM:<@route,@r2:a@b> SMTPUTF8", true)
	f.Add("to: c@d", false)
	f.Add("FROM:<>", true)
	f.Fuzz(func(t *testing.T, args string, mail bool) {
		prefix := "TO:"
		if mail {
			prefix = "FROM:"
		}
		verb, rest := parseCommand(args)
		if verb != strings.ToUpper(verb) || strings.HasPrefix(rest, " ") {
			t.Fatalf("parseCommand(%q) = %q, %q", args, verb, rest)
		}
		pa, err := parsePathArgs(args, prefix)
		if err != nil {
			var se *errSyntax
			if !errors.As(err, &se) || se.code < 500 || se.code > 599 {
				t.Fatalf("error %v is not a 5xx syntax reply", err)
			}
			return
		}
		if !strings.HasPrefix(pa.Path, "<") || !strings.HasSuffix(pa.Path, ">") {
			t.Fatalf("path %q without brackets", pa.Path)
		}
		for _, c := range []byte(pa.Addr) {
			if c < ' ' || c == 0x7f {
				t.Fatalf("control character in address %q", pa.Addr)
			}
		}
		for _, p := range pa.Params {
			if p == "" || strings.ContainsAny(p, " \t") {
				t.Fatalf("param %q", p)
			}
		}
		again, err := parsePathArgs(prefix+pa.Path+joinParams(pa.Params), prefix)
		if err != nil || again.Path != pa.Path || again.Addr != pa.Addr || strings.Join(again.Params, " ") != strings.Join(pa.Params, " ") {
			t.Fatalf("re-parse of %q: %+v, %v; first %+v", args, again, err, pa)
		}
	})
}

// countingConn counts the writes on a connection.
type countingConn struct {
	net.Conn
	writes atomic.Int32
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestIssue9HopPipelinedRepliesInOneWrite: the replies to a pipelined
// group go out together once no command is left to read (RFC 2920).
func TestIssue9HopPipelinedRepliesInOneWrite(t *testing.T) {
	s := New(reflectCfg("127.0.0.1:1"), func() Evaluator { return &fakeEngine{} }, WithLogger(testLogger(t)))
	client, server := net.Pipe()
	defer client.Close()
	client.SetDeadline(time.Now().Add(10 * time.Second))
	cc := &countingConn{Conn: server}
	done := make(chan struct{})
	go func() {
		s.serveConn(cc, false)
		close(done)
	}()
	up := &upstream{t: t, c: client, br: bufio.NewReader(client)}
	if g := up.read(); !strings.HasPrefix(g, "220 ") {
		t.Fatalf("greeting %q", g)
	}
	go io.WriteString(client, "EHLO x\r\nNOOP\r\nNOOP\r\nQUIT\r\n")
	for _, want := range []string{"250-Hello x", "250 2.0.0 Ok", "250 2.0.0 Ok", "221 2.0.0 Bye"} {
		if got := up.read(); !strings.HasPrefix(got, want) {
			t.Fatalf("reply %q, want %q", got, want)
		}
	}
	<-done
	if n := cc.writes.Load(); n != 2 {
		t.Errorf("%d writes, want 2: the greeting, then the four replies at once", n)
	}
}

// TestIssue9HopSMTPUTF8PassedOn: SMTPUTF8 on MAIL reaches a downstream
// that offers it; one that does not gets no MAIL, and the client the
// canned 553 5.6.7 (the hop does not downgrade).
func TestIssue9HopSMTPUTF8PassedOn(t *testing.T) {
	with := newFakeMTA(t, func(f *fakeMTA) { f.ehlo = append(f.ehlo, "SMTPUTF8") })
	_, addr := startHop(t, &fakeEngine{}, reflectCfg(with.addr()))
	up := dialUp(t, addr)
	up.hello()
	up.expect("MAIL FROM:<ä@example.com> SMTPUTF8", "250")
	up.expect("RCPT TO:<b@example.com>", "250")
	up.expect("DATA", "354")
	up.send(testMsg + ".\r\n")
	if got := up.read(); !strings.HasPrefix(got, "250 ") {
		t.Fatalf("final = %q", got)
	}
	if m := with.messages(); len(m) != 1 || m[0].Mail != "MAIL FROM:<ä@example.com> SMTPUTF8" {
		t.Fatalf("downstream got %+v", m)
	}
	if got := up.cmd("MAIL FROM:<ä@example.com>"); !strings.HasPrefix(got, "553 5.6.7") {
		t.Errorf("non-ASCII address without SMTPUTF8: %q", got)
	}

	without := newFakeMTA(t, nil)
	_, addr2 := startHop(t, &fakeEngine{}, reflectCfg(without.addr()))
	up2 := dialUp(t, addr2)
	up2.hello()
	up2.send("MAIL FROM:<a@example.com> SMTPUTF8\r\n")
	want := action.Render(action.HopNoSMTPUTF8, action.HopNoSMTPUTF8, "", true).String() + "\r\n"
	if got := up2.rawReply(); got != want {
		t.Fatalf("reply = %q, want %q", got, want)
	}
	for _, c := range without.commands() {
		if strings.HasPrefix(c, "MAIL") {
			t.Fatalf("MAIL sent to a downstream without SMTPUTF8: %q", c)
		}
	}
}
