package reinject

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// cmdConn is the net.Conn handed to go-smtp for one inbound connection. It
// is a thin command interceptor: go-smtp parses and answers the SMTP
// protocol, and cmdConn only
//
//   - answers the commands go-smtp has no hook for (XFORWARD, HELP,
//     STARTTLS, and BDAT, which is refused because CHUNKING is not offered),
//   - rewrites the EHLO keyword list to what the hop passes on faithfully,
//   - records the raw MAIL and RCPT lines so that their parameters reach
//     the downstream exactly as the client sent them,
//   - and keeps the per-phase read deadlines, including while DATA
//     streams (go-smtp sets none there).
//
// It hands go-smtp at most one command line per Read, so go-smtp never
// buffers ahead of the command it is handling; in DATA it hands over bytes
// up to the end-of-data line and no further, following the same state
// machine as go-smtp's data reader. All methods but Close run on go-smtp's
// connection goroutine.
type cmdConn struct {
	raw net.Conn // the accepted connection
	tr  net.Conn // raw, or the TLS connection after STARTTLS
	br  *bufio.Reader
	srv *Server
	st  *connState

	pending   []byte // rest of the command line go-smtp has not read yet
	data      bool   // between the 354 reply and the end-of-data line
	dstate    int    // go-smtp's data reader state
	rawCR     bool   // the last DATA byte was a CR
	dataStart time.Time
	needEHLO  bool // STARTTLS done, no EHLO since
	lastVerb  string
	// idleSince is when the connection last left a mail transaction (or
	// was accepted); wasTx whether it was in one at the last command.
	idleSince time.Time
	wasTx     bool
	// xfwd: this client's XFORWARD is believed (xforward_from); others are
	// not offered it and are refused it.
	xfwd bool
	dead error // once set, every Read fails with it

	wmu  sync.Mutex
	wbuf []byte

	closeOnce sync.Once
	onClose   func()
}

// connState is what the session and the interceptor share.
type connState struct {
	mu       sync.Mutex
	tls      *tls.ConnectionState
	xforward []xattr // as received, in order; reset after each transaction
	lastLine string  // the last MAIL or RCPT line handed to go-smtp
	inTx     bool
	// bareNewline: the DATA being received has a bare CR or LF. It is
	// noted on the raw bytes because go-smtp's dot-unstuffing drops some
	// (<CR><LF>.<CR>x arrives as <CR><LF>x).
	bareNewline bool
	// okReply is the next hop's own success reply to the MAIL or RCPT
	// being answered, in wire form. go-smtp writes a fixed 250 text for a
	// command the session accepted; the interceptor puts this in its place
	// so the upstream sees the downstream's reply verbatim.
	okReply []byte
}

// xattr is one XFORWARD attribute: Raw is the xtext value as received,
// Value the decoded one.
type xattr struct {
	Name, Raw, Value string
}

var xforwardNames = []string{"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE"}

// go-smtp's data reader states (data.go).
const (
	dBeginLine = iota
	dDot
	dDotCR
	dCR
	dData
	dEOF
)

func newCmdConn(c net.Conn, srv *Server, onClose func()) *cmdConn {
	return &cmdConn{
		raw:     c,
		tr:      c,
		br:      bufio.NewReaderSize(c, int(srv.cfg.MaxLineLength)+16),
		srv:     srv,
		st:      &connState{},
		onClose: onClose,

		idleSince: time.Now(),
		xfwd:      srv.xforwardTrusted(c.RemoteAddr()),
	}
}

// commandDeadline is when the wait for the next command line ends: the
// command timeout, and outside a transaction no later than timeouts.idle
// after the connection became idle (NOOP, RSET and the like do not count
// as activity).
func (c *cmdConn) commandDeadline(now time.Time) time.Time {
	dl := now.Add(c.srv.cfg.Timeouts.Command.D())
	tx := c.st.transaction()
	if c.wasTx && !tx {
		c.idleSince = now
	}
	c.wasTx = tx
	if idle := c.srv.cfg.Timeouts.Idle.D(); idle > 0 && !tx {
		if end := c.idleSince.Add(idle); end.Before(dl) {
			dl = end
		}
	}
	return dl
}

var errLineTooLong = errors.New("reinject: command line too long")

func (c *cmdConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	if c.dead != nil {
		return 0, c.dead
	}
	if c.data {
		return c.readData(p)
	}
	for {
		c.tr.SetReadDeadline(c.commandDeadline(time.Now()))
		line, err := c.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			c.reply("500 5.4.0 Too long line, closing connection")
			c.dead = io.EOF
			return 0, errLineTooLong
		}
		if err != nil {
			if len(line) > 0 && err == io.EOF {
				// An unterminated last line: hand it over; the next Read ends.
				c.pending = append(c.pending[:0], line...)
				c.dead = io.EOF
				n := copy(p, c.pending)
				c.pending = c.pending[n:]
				return n, nil
			}
			c.dead = err
			return 0, err
		}
		text := strings.TrimRight(string(line), "\r\n")
		verb, args, _ := strings.Cut(text, " ")
		verb = strings.ToUpper(verb)
		if strings.HasPrefix(strings.ToUpper(text), "STARTTLS") {
			verb = "STARTTLS" // as go-smtp parses it
		}
		if c.needEHLO {
			switch verb {
			case "EHLO", "HELO", "QUIT", "NOOP", "RSET":
			default:
				c.reply("503 5.5.1 Send EHLO first after STARTTLS")
				continue
			}
		}
		switch verb {
		case "XFORWARD":
			if !*c.srv.cfg.XForward {
				break // go-smtp answers 500 unrecognized
			}
			if !c.xfwd {
				// Postfix's answer to a client outside
				// smtpd_authorized_xforward_hosts.
				c.reply("550 5.7.0 Error: insufficient authorization")
				continue
			}
			c.reply(c.xforward(args))
			continue
		case "HELP":
			c.reply("214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS XFORWARD")
			continue
		case "STARTTLS":
			if c.srv.tlsServer == nil {
				break // go-smtp answers 502 TLS not supported
			}
			if err := c.startTLS(args); err != nil {
				c.dead = io.EOF
				return 0, io.EOF
			}
			continue
		case "BDAT":
			// CHUNKING is not offered; the chunk that follows would be read
			// as commands, so the connection ends here.
			c.reply("554 5.5.1 BDAT not supported (CHUNKING is not offered), closing connection")
			c.dead = io.EOF
			return 0, io.EOF
		case "EHLO", "HELO":
			c.needEHLO = false
		case "MAIL", "RCPT":
			c.st.mu.Lock()
			c.st.lastLine = text
			c.st.mu.Unlock()
		}
		c.lastVerb = verb
		c.pending = append(c.pending[:0], line...)
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
}

// readData hands over DATA bytes up to and including the end-of-data line.
func (c *cmdConn) readData(p []byte) (int, error) {
	now := time.Now()
	dl := now.Add(c.srv.cfg.Timeouts.DataIdle.D())
	if end := c.dataStart.Add(c.srv.cfg.Timeouts.Data.D()); end.Before(dl) {
		dl = end
	}
	c.tr.SetReadDeadline(dl)
	if c.br.Buffered() == 0 {
		if _, err := c.br.Peek(1); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			c.dead = err
			return 0, err
		}
	}
	buf, _ := c.br.Peek(min(len(p), c.br.Buffered()))
	take := len(buf)
	bare := false
	lf := -1
	for i := 0; i < len(buf); i++ {
		if c.dstate == dData && !c.rawCR {
			// Mid-line, only CR or LF changes anything: skip to the next.
			j := nextBreak(buf, i, &lf, nil)
			if j == len(buf) {
				break
			}
			i = j
		}
		b := buf[i]
		if (c.rawCR && b != '\n') || (!c.rawCR && b == '\n') {
			bare = true
		}
		c.rawCR = b == '\r'
		c.dstate = nextDataState(c.dstate, b)
		if c.dstate == dEOF {
			take = i + 1
			c.data = false
			break
		}
	}
	if bare {
		c.st.mu.Lock()
		c.st.bareNewline = true
		c.st.mu.Unlock()
	}
	n := copy(p, buf[:take])
	c.br.Discard(n)
	return n, nil
}

// nextDataState is go-smtp's data reader state machine (data.go): only
// <CR><LF>.<CR><LF> ends the data.
func nextDataState(s int, b byte) int {
	switch s {
	case dBeginLine:
		switch b {
		case '.':
			return dDot
		case '\r':
			return dCR
		}
		return dData
	case dDot:
		if b == '\r' {
			return dDotCR
		}
		return dData
	case dDotCR:
		if b == '\n' {
			return dEOF
		}
		return dData
	case dCR:
		if b == '\n' {
			return dBeginLine
		}
		return dData
	case dData:
		if b == '\r' {
			return dCR
		}
		return dData
	}
	return s
}

// Write filters go-smtp's replies: it notes the start of DATA and rewrites
// the EHLO keywords. go-smtp flushes one reply line per write.
func (c *cmdConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = append(c.wbuf, p...)
	var out []byte
	for {
		i := bytes.IndexByte(c.wbuf, '\n')
		if i < 0 {
			break
		}
		line := c.wbuf[:i+1]
		out = c.filterReply(out, line)
		c.wbuf = c.wbuf[i+1:]
	}
	if len(out) == 0 {
		return len(p), nil
	}
	c.tr.SetWriteDeadline(time.Now().Add(c.srv.cfg.Timeouts.Write.D()))
	if _, err := c.tr.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *cmdConn) filterReply(out, line []byte) []byte {
	if bytes.HasPrefix(line, []byte("354")) {
		c.data = true
		c.dstate = dBeginLine
		c.rawCR = false
		c.dataStart = time.Now()
		c.st.mu.Lock()
		c.st.bareNewline = false
		c.st.mu.Unlock()
	}
	if c.lastVerb == "EHLO" && (bytes.HasPrefix(line, []byte("250-SIZE ")) || bytes.HasPrefix(line, []byte("250 SIZE "))) {
		// go-smtp refuses a message of exactly its MaxMessageBytes, so it
		// is set one higher and the hop checks the limit itself.
		return append(out, fmt.Sprintf("%s %d\r\n", line[:8], c.srv.cfg.MaxMessageBytes)...)
	}
	if c.lastVerb == "EHLO" && bytes.HasPrefix(line, []byte("250-CHUNKING")) {
		// CHUNKING is always offered by go-smtp and cannot be turned off;
		// BDAT is refused above, so it is not offered. What the hop adds
		// takes its place (never the last line of the reply).
		if c.srv.tlsServer != nil && c.st.tlsState() == nil {
			out = append(out, "250-STARTTLS\r\n"...)
		}
		if c.xfwd {
			out = append(out, "250-XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE\r\n"...)
		}
		return append(out, "250-HELP\r\n"...)
	}
	if (c.lastVerb == "MAIL" || c.lastVerb == "RCPT") && bytes.HasPrefix(line, []byte("250 ")) {
		c.st.mu.Lock()
		ok := c.st.okReply
		c.st.okReply = nil
		c.st.mu.Unlock()
		if ok != nil {
			return append(out, ok...)
		}
	}
	return append(out, line...)
}

// reply writes one reply of the interceptor's own (lines joined by \n).
func (c *cmdConn) reply(s string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.tr.SetWriteDeadline(time.Now().Add(c.srv.cfg.Timeouts.Write.D()))
	io.WriteString(c.tr, s+"\r\n")
}

func (c *cmdConn) startTLS(args string) error {
	if c.st.tlsState() != nil {
		c.reply("502 5.5.1 Already running in TLS")
		return nil
	}
	if strings.TrimSpace(args) != "" {
		c.reply("501 5.5.4 Syntax: STARTTLS")
		return nil
	}
	if c.st.transaction() {
		c.reply("503 5.5.1 STARTTLS not allowed during a mail transaction")
		return nil
	}
	c.reply("220 2.0.0 Ready to start TLS")
	// Whatever the client sent after STARTTLS in plaintext is dropped
	// (command injection, CVE-2011-0411).
	tc := tls.Server(c.raw, c.srv.tlsServer)
	c.raw.SetDeadline(time.Now().Add(c.srv.cfg.Timeouts.Command.D()))
	if err := tc.Handshake(); err != nil {
		c.srv.log.Info("inbound TLS handshake failed", "client", c.raw.RemoteAddr().String(), "err", err)
		return err
	}
	c.raw.SetDeadline(time.Time{})
	cs := tc.ConnectionState()
	c.tr = tc
	c.br.Reset(tc)
	c.st.mu.Lock()
	c.st.tls = &cs
	c.st.mu.Unlock()
	c.needEHLO = true
	return nil
}

// xforward answers one XFORWARD command (Postfix XFORWARD_README).
func (c *cmdConn) xforward(args string) string {
	if c.st.transaction() {
		return "503 5.5.1 Error: MAIL transaction in progress"
	}
	fields := strings.Fields(args)
	if len(fields) == 0 {
		return "501 5.5.4 Syntax: XFORWARD attribute=value..."
	}
	var got []xattr
	for _, f := range fields {
		name, raw, ok := strings.Cut(f, "=")
		name = strings.ToUpper(name)
		if !ok || !knownXForward(name) {
			return "501 5.5.4 Bad XFORWARD attribute name: " + sanitizeEcho(name)
		}
		val, err := decodeXtext(raw)
		if err != nil || len(val) > 255 {
			return "501 5.5.4 Bad XFORWARD attribute value for " + name
		}
		got = append(got, xattr{Name: name, Raw: raw, Value: val})
	}
	c.st.mu.Lock()
	for _, a := range got {
		c.st.setXForward(a)
	}
	c.st.mu.Unlock()
	return "250 2.0.0 Ok"
}

func knownXForward(name string) bool {
	for _, n := range xforwardNames {
		if n == name {
			return true
		}
	}
	return false
}

// sanitizeEcho keeps an echoed token short and printable.
func sanitizeEcho(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 32 {
			break
		}
		if r > ' ' && r < 0x7f {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// decodeXtext decodes RFC 3461 xtext ("+" followed by two upper-case hex
// digits encodes one byte).
func decodeXtext(s string) (string, error) {
	if !strings.Contains(s, "+") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '+' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("xtext %q: incomplete hexchar", s)
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", fmt.Errorf("xtext %q: bad hexchar", s)
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (s *connState) setXForward(a xattr) {
	for i := range s.xforward {
		if s.xforward[i].Name == a.Name {
			s.xforward[i] = a
			return
		}
	}
	s.xforward = append(s.xforward, a)
}

func (s *connState) tlsState() *tls.ConnectionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tls
}

func (s *connState) transaction() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inTx
}

func (c *cmdConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		// Closing the accepted connection also ends a TLS session on it;
		// c.tr is not read here because STARTTLS may be replacing it.
		err = c.raw.Close()
		if c.onClose != nil {
			c.onClose()
		}
	})
	return err
}

func (c *cmdConn) LocalAddr() net.Addr  { return c.raw.LocalAddr() }
func (c *cmdConn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// Deadlines are the interceptor's business; go-smtp's are ignored (its
// ReadTimeout and WriteTimeout are left at zero).
func (c *cmdConn) SetDeadline(time.Time) error      { return nil }
func (c *cmdConn) SetReadDeadline(time.Time) error  { return nil }
func (c *cmdConn) SetWriteDeadline(time.Time) error { return nil }

// body is the DATA of the current transaction as the session reads it:
// taken by the interceptor straight from the connection, dot-unstuffed,
// ending at <CR><LF>.<CR><LF> (the state machine of go-smtp's data reader,
// so no bare-CR/LF sequence ends it), bounded by max_message_bytes and
// max_line_length, under the DATA deadlines, with bare CR/LF noted. It
// replaces go-smtp's data reader, which takes one byte per call and cost
// the hop about 40% of its CPU on large messages; once body has reached
// the end (or drained to it), go-smtp's own reader is handed an empty
// message (".\r\n"), so go-smtp never sees the data and cannot end it
// anywhere else.
type body struct {
	c        *cmdConn
	n        int64 // bytes returned
	line     int   // length of the current line so far
	err      error
	draining bool // limits off: reading to the end to stay in step
	// examined counts the bytes the line-end searches looked at (cost
	// tests: it must stay linear in the data).
	examined int64
}

func (c *cmdConn) body() *body { return &body{c: c} }

func (b *body) Read(p []byte) (int, error) {
	c := b.c
	if c.dead != nil {
		return 0, c.dead
	}
	if b.err != nil {
		return 0, b.err
	}
	if !c.data {
		b.err = io.EOF
		return 0, io.EOF
	}
	if len(p) < 2 {
		return 0, io.ErrShortBuffer // a held CR may need two bytes
	}
	dl := time.Now().Add(c.srv.cfg.Timeouts.DataIdle.D())
	if end := c.dataStart.Add(c.srv.cfg.Timeouts.Data.D()); end.Before(dl) {
		dl = end
	}
	c.tr.SetReadDeadline(dl)
	if c.br.Buffered() == 0 {
		if _, err := c.br.Peek(1); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			c.dead = err
			return 0, err
		}
	}
	// One read takes at most len(p) bytes: what it can return, so that the
	// searches for line ends look no further than that.
	buf, _ := c.br.Peek(min(c.br.Buffered(), len(p)))
	maxLine := int(c.srv.cfg.MaxLineLength)
	n, i := 0, 0
	bare, end := false, false
	lf := -1
	for i < len(buf) && len(p)-n >= 2 {
		if c.dstate == dData && !c.rawCR {
			// Mid-line, only CR or LF changes anything: copy up to it.
			j := nextBreak(buf, i, &lf, &b.examined) - i
			j = min(j, len(p)-n)
			if j > 0 {
				copy(p[n:], buf[i:i+j])
				n, i, b.line = n+j, i+j, b.line+j
				if b.line > maxLine && !b.draining {
					b.err = smtp.ErrTooLongLine
					break
				}
				continue
			}
		}
		ch := buf[i]
		i++
		if (c.rawCR && ch != '\n') || (!c.rawCR && ch == '\n') {
			bare = true
		}
		c.rawCR = ch == '\r'
		if ch == '\n' {
			b.line = 0
		} else if b.line++; b.line > maxLine && !b.draining {
			b.err = smtp.ErrTooLongLine
			break
		}
		prev := c.dstate
		c.dstate = nextDataState(prev, ch)
		switch {
		case prev == dBeginLine && ch == '.':
			// A stuffing dot, or the start of the end line: dropped.
		case prev == dDot && ch == '\r':
			// Held: the end line, unless something but LF follows.
		case prev == dDotCR && ch == '\n':
			end = true
		case prev == dDotCR:
			p[n], p[n+1] = '\r', ch // the held CR was data
			n += 2
		default:
			p[n] = ch
			n++
		}
		if end {
			break
		}
	}
	c.br.Discard(i)
	if bare {
		c.st.mu.Lock()
		c.st.bareNewline = true
		c.st.mu.Unlock()
	}
	if end {
		c.data = false
		c.pending = append(c.pending[:0], ".\r\n"...) // go-smtp's reader: an empty message
	}
	b.n += int64(n)
	if b.err == nil && b.n > int64(c.srv.cfg.MaxMessageBytes) && !b.draining {
		b.err = smtp.ErrDataTooLarge
	}
	if b.err != nil {
		return 0, b.err
	}
	return n, nil
}

// drain reads to the end of the data, so that the next bytes are commands
// again, whatever stopped the reader before.
func (b *body) drain() {
	if b.c.dead != nil || !b.c.data {
		return
	}
	b.draining = true
	b.err = nil
	var buf [32 << 10]byte
	for {
		if _, err := b.Read(buf[:]); err != nil {
			return
		}
	}
}

// nextBreak is the index of the first CR or LF in buf at or after i, or
// len(buf). lf caches the index of the next LF (-1: not searched yet) for
// the calls on one buffer, so that a line of many bare CRs is not searched
// to its end again at each one: every byte is looked at a bounded number
// of times. examined, when not nil, counts the bytes looked at.
func nextBreak(buf []byte, i int, lf *int, examined *int64) int {
	if *lf < i {
		*lf = len(buf)
		if j := bytes.IndexByte(buf[i:], '\n'); j >= 0 {
			*lf = i + j
		}
		if examined != nil {
			*examined += int64(min(*lf+1, len(buf)) - i)
		}
	}
	j := bytes.IndexByte(buf[i:*lf], '\r')
	if j < 0 {
		j = *lf - i
	}
	if examined != nil {
		*examined += int64(min(j+1, *lf-i))
	}
	return i + j
}

// indexCRLF is the index of the first CR or LF in b, or -1.
func indexCRLF(b []byte) int {
	n := bytes.IndexByte(b, '\n')
	lim := b
	if n >= 0 {
		lim = b[:n]
	}
	if r := bytes.IndexByte(lim, '\r'); r >= 0 {
		return r
	}
	return n
}
