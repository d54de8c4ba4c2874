package reinject

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// reply is one SMTP reply as the downstream sent it: the code, each
// line's text after "ddd-" / "ddd " (enhanced status code included), and
// the lines as they came, which is what the upstream gets.
type reply struct {
	Code  int
	Lines []string
	raw   []byte // every line as received, each ending in CRLF
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.Code, strings.Join(r.Lines, " / ")) }

func (r reply) ok() bool { return r.Code/100 == 2 }

// relay is the reply as it goes upstream: the downstream's lines as they
// came, multi-line included, except that 421 becomes 451: the downstream
// closing its session does not close ours.
func (r reply) relay() []byte {
	if r.Code != 421 {
		return r.raw
	}
	b := bytes.Clone(r.raw)
	for i := 0; i+3 <= len(b); {
		if string(b[i:i+3]) == "421" {
			b[i+1] = '5'
		}
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return b
}

// replyCode is the code of a reply in wire form.
func replyCode(b []byte) int {
	if len(b) < 3 {
		return 0
	}
	n, _ := strconv.Atoi(string(b[:3]))
	return n
}

// maxReplyLines bounds the lines of one downstream reply.
const maxReplyLines = 256

// downstream is the hop's SMTP client for one transaction. It is built on
// net/textproto, the layer go-smtp's own client uses, because go-smtp's
// client cannot send a command line of our choosing: it rewrites BODY to
// 8BITMIME, drops DSN parameters, has no XFORWARD, keeps no raw reply
// lines and sets no deadline while DATA streams.
type downstream struct {
	raw    net.Conn // the TCP connection (closing it is safe from any goroutine)
	conn   net.Conn // raw, or TLS over it
	tp     *textproto.Conn
	addr   string
	ext    map[string]string
	tls    bool
	to     timeouts
	closed bool
}

type timeouts struct {
	connect, command, data, final time.Duration
}

// errNoTLS is a next hop that cannot give the TLS the configuration or the
// TLS chain rule asks for.
var errNoTLS = errors.New("reinject: next hop does not offer STARTTLS")

// hopError is a next hop that refused or failed before the transaction.
type hopError struct {
	Addr   string
	Reply  *reply // the refusing reply, if any
	Err    error
	Reason string
}

func (e *hopError) Error() string {
	if e.Reply != nil {
		return fmt.Sprintf("next hop %s: %s: %s", e.Addr, e.Reason, e.Reply)
	}
	return fmt.Sprintf("next hop %s: %s: %v", e.Addr, e.Reason, e.Err)
}

func (e *hopError) Unwrap() error { return e.Err }

// tlsNeed is what TLS the hop must get from one downstream.
type tlsNeed struct {
	config   *tls.Config // nil: do not start TLS
	required bool        // no TLS, no delivery
}

// dialDownstream connects, reads the greeting, says EHLO and starts TLS
// when asked to. Any failure is a *hopError; the connection is closed.
func dialDownstream(ctx context.Context, d *net.Dialer, addr, helo string, need tlsNeed, to timeouts) (*downstream, error) {
	cctx, cancel := context.WithTimeout(ctx, to.connect)
	defer cancel()
	conn, err := d.DialContext(cctx, "tcp", addr)
	if err != nil {
		return nil, &hopError{Addr: addr, Err: err, Reason: "connect"}
	}
	ds := &downstream{raw: conn, conn: conn, tp: newTextConn(conn), addr: addr, to: to}
	fail := func(reason string, r *reply, err error) (*downstream, error) {
		ds.close()
		return nil, &hopError{Addr: addr, Reply: r, Err: err, Reason: reason}
	}
	conn.SetDeadline(time.Now().Add(to.connect))
	g, err := ds.read()
	if err != nil {
		return fail("greeting", nil, err)
	}
	if g.Code != 220 {
		return fail("greeting", &g, nil)
	}
	if r, err := ds.hello(helo); err != nil {
		return fail("EHLO", r, err)
	}
	_, offered := ds.ext["STARTTLS"]
	if need.config != nil && offered {
		r, err := ds.cmd(to.command, "STARTTLS")
		if err != nil {
			return fail("STARTTLS", nil, err)
		}
		if r.Code != 220 {
			if need.required {
				return fail("STARTTLS", &r, errNoTLS)
			}
		} else {
			tc := tls.Client(conn, need.config)
			tc.SetDeadline(time.Now().Add(to.connect))
			if err := tc.HandshakeContext(ctx); err != nil {
				return fail("TLS handshake", nil, err)
			}
			ds.conn, ds.tp, ds.tls = tc, newTextConn(tc), true
			if r, err := ds.hello(helo); err != nil {
				return fail("EHLO after STARTTLS", r, err)
			}
		}
	}
	if need.required && !ds.tls {
		return fail("TLS", nil, errNoTLS)
	}
	return ds, nil
}

func (ds *downstream) hello(name string) (*reply, error) {
	r, err := ds.cmd(ds.to.command, "EHLO %s", name)
	if err != nil {
		return nil, err
	}
	if r.Code == 500 || r.Code == 502 {
		r, err = ds.cmd(ds.to.command, "HELO %s", name)
		if err != nil {
			return nil, err
		}
		ds.ext = map[string]string{}
		if r.Code != 250 {
			return &r, errors.New("HELO refused")
		}
		return nil, nil
	}
	if r.Code != 250 {
		return &r, errors.New("EHLO refused")
	}
	ds.ext = map[string]string{}
	for _, l := range r.Lines[1:] {
		k, v, _ := strings.Cut(l, " ")
		ds.ext[strings.ToUpper(k)] = v
	}
	return nil, nil
}

// read reads one reply, keeping its lines as they came. A line without
// a code, or longer than maxReplyLine, fails the connection.
func (ds *downstream) read() (reply, error) {
	var r reply
	for {
		// lineBound keeps the line within maxReplyLine.
		line, err := ds.tp.R.ReadBytes('\n')
		if err != nil {
			return reply{}, err
		}
		l := bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
		if len(l) < 3 || len(l) > 3 && l[3] != ' ' && l[3] != '-' {
			return reply{}, fmt.Errorf("reinject: malformed reply line %q", l)
		}
		code, err := strconv.Atoi(string(l[:3]))
		if err != nil || code < 100 || code > 599 {
			return reply{}, fmt.Errorf("reinject: malformed reply line %q", l)
		}
		if r.Lines == nil {
			r.Code = code
		} else if code != r.Code {
			// Every line has the same code (RFC 5321 section 4.2.1); the
			// hop acts on the first and clients read the last.
			return reply{}, fmt.Errorf("reinject: reply lines with codes %d and %d", r.Code, code)
		}
		text := ""
		if len(l) > 4 {
			text = string(l[4:])
		}
		r.Lines = append(r.Lines, text)
		r.raw = append(append(r.raw, l...), '\r', '\n')
		if len(l) == 3 || l[3] == ' ' {
			return r, nil
		}
		if len(r.Lines) >= maxReplyLines {
			return reply{}, fmt.Errorf("reinject: reply of more than %d lines", maxReplyLines)
		}
	}
}

// cmd sends one command line and reads its reply within timeout.
func (ds *downstream) cmd(timeout time.Duration, format string, args ...any) (reply, error) {
	ds.conn.SetDeadline(time.Now().Add(timeout))
	if err := ds.tp.PrintfLine(format, args...); err != nil {
		return reply{}, err
	}
	return ds.read()
}

// xforward passes on the attributes the downstream offers, in commands of
// at most 512 characters (Postfix XFORWARD_README).
func (ds *downstream) xforward(attrs []xattr) error {
	offer, ok := ds.ext["XFORWARD"]
	if !ok || len(attrs) == 0 {
		return nil
	}
	offered := map[string]bool{}
	for _, n := range strings.Fields(strings.ToUpper(offer)) {
		offered[n] = true
	}
	var line strings.Builder
	flush := func() error {
		if line.Len() == 0 {
			return nil
		}
		r, err := ds.cmd(ds.to.command, "XFORWARD%s", line.String())
		line.Reset()
		if err != nil {
			return err
		}
		if r.Code != 250 {
			return fmt.Errorf("XFORWARD refused: %s", r)
		}
		return nil
	}
	for _, a := range attrs {
		if !offered[a.Name] {
			continue
		}
		item := " " + a.Name + "=" + a.Raw
		if len("XFORWARD")+line.Len()+len(item) > 510 {
			if err := flush(); err != nil {
				return err
			}
		}
		line.WriteString(item)
	}
	return flush()
}

// data sends DATA and the message (already CRLF-clean): parts, then
// what tail reads (the part of the message in its spill file; nil: none).
// plain: no line of the message starts with a dot but maybe the first of
// a part (see dotWriter). It returns the downstream's reply to DATA when
// that is not 354, else its final reply.
func (ds *downstream) data(tail io.Reader, plain bool, parts ...[]byte) (reply, error) {
	r, err := ds.cmd(ds.to.command, "DATA")
	if err != nil || r.Code != 354 {
		return r, err
	}
	w := newDotWriter(ds.conn, ds.to.data, plain)
	err = writeMessage(w, tail, parts)
	w.free()
	if err != nil {
		return reply{}, err
	}
	ds.conn.SetDeadline(time.Now().Add(ds.to.final))
	return ds.read()
}

// abort ends the transaction without the final dot: RSET, QUIT, close.
func (ds *downstream) abort() {
	if ds == nil || ds.closed {
		return
	}
	ds.cmd(10*time.Second, "RSET")
	ds.quit()
}

func (ds *downstream) quit() {
	if ds == nil || ds.closed {
		return
	}
	ds.cmd(10*time.Second, "QUIT")
	ds.close()
}

func (ds *downstream) close() {
	if ds.closed {
		return
	}
	ds.closed = true
	ds.conn.Close()
}

// maxReplyLine bounds one reply line from the downstream (RFC 5321 says
// 512; Postfix and others stay well below this).
const maxReplyLine = 8 << 10

var errReplyTooLong = errors.New("reinject: downstream reply line too long")

// newTextConn is textproto over c with reply lines bounded.
func newTextConn(c net.Conn) *textproto.Conn {
	return textproto.NewConn(struct {
		io.Reader
		io.Writer
		io.Closer
	}{&lineBound{r: c, max: maxReplyLine}, c, c})
}

// lineBound fails a read once a line grows past max bytes.
type lineBound struct {
	r   io.Reader
	max int
	cur int
}

func (l *lineBound) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		l.cur++
		if b == '\n' {
			l.cur = 0
		} else if l.cur > l.max {
			return 0, errReplyTooLong
		}
	}
	return n, err
}
