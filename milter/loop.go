package milter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
	"unsafe"

	gomilter "github.com/d--j/go-milter"
)

// Milter command codes (SMFIC_*).
const (
	cmdAbort    = 'A'
	cmdBody     = 'B'
	cmdConnect  = 'C'
	cmdMacro    = 'D'
	cmdEOB      = 'E'
	cmdHelo     = 'H'
	cmdQuitNC   = 'K'
	cmdHeader   = 'L'
	cmdMail     = 'M'
	cmdEOH      = 'N'
	cmdOptNeg   = 'O'
	cmdQuit     = 'Q'
	cmdRcpt     = 'R'
	cmdData     = 'T'
	cmdUnknown  = 'U'
	negotiation = time.Second // the MTA's first packet, as libmilter
)

// conn is the session loop of one MTA connection. It reads packets with
// one buffer that lives as long as the connection (grown only for a packet
// larger than it, never past max_packet_bytes), decodes them in place,
// calls the session's callbacks with a Modifier that is the conn itself,
// and writes each group of responses (modifications and the final reply
// of a message) in one system call.
//
// Strings handed to callbacks for a header's name and value point into
// the read buffer and are valid only during the call (the session copies
// what it keeps); everything else is a real string.
type conn struct {
	srv  *Server
	nc   net.Conn // the socket
	max  uint32
	buf  []byte
	r, w int // unread bytes are buf[r:w]
	out  []byte

	version  uint32
	actions  gomilter.OptAction
	protocol gomilter.OptProtocol
	state    int       // modifier state: modNone, modProgress, modWrite
	rdSet    time.Time // read deadline on the socket
	wdSet    time.Time // write deadline on the socket
	macros   macroStore
	id       uint64
}

const (
	modNone = iota
	modProgress
	modWrite
)

// maxHeld bounds the modification packets held back for the final
// response; past it they are written at once.
const maxHeld = 64 << 10

// conns keeps finished connections' state, buffers included, for the
// next ones: the MTA opens a connection per message.
var conns = sync.Pool{New: func() any { return &conn{buf: make([]byte, 16<<10)} }}

var (
	// errCloseSession ends a session quietly.
	errCloseSession = errors.New("milter: session closed")
	// errBadPacket is the read error for a packet that ends the connection.
	errBadPacket = errors.New("milter: malformed packet from the MTA")
)

func newConn(s *Server, nc net.Conn) *conn {
	c := conns.Get().(*conn)
	c.srv, c.nc, c.max = s, nc, s.o.maxPacket()
	return c
}

// maxKeptBuf is the largest read buffer kept for the next connection:
// room for a 64 KiB body packet (MTAs send no larger ones), not for a
// rare large header field.
const maxKeptBuf = 128 << 10

// release resets c for the next connection; buffers grown past the
// usual sizes go.
func (c *conn) release() {
	buf, out, macros := c.buf, c.out[:0], c.macros
	if cap(buf) > maxKeptBuf {
		buf = make([]byte, 16<<10)
	}
	if cap(out) > maxHeld {
		out = nil
	}
	macros.reset()
	*c = conn{buf: buf[:cap(buf)], out: out, macros: macros}
	conns.Put(c)
}

// readPacket returns the next packet's command and data; data points
// into the read buffer until the next call. timeout bounds the wait for
// bytes from the socket (0: none). The declared length is checked against
// max_packet_bytes before any buffer is grown for it.
func (c *conn) readPacket(timeout time.Duration) (byte, []byte, error) {
	if err := c.fill(4, timeout); err != nil {
		return 0, nil, err
	}
	length := binary.BigEndian.Uint32(c.buf[c.r:])
	switch {
	case length > c.max:
		return 0, nil, fmt.Errorf("%w: %d bytes declared, more than max_packet_bytes (%d)", errBadPacket, length, c.max)
	case length == 0:
		return 0, nil, fmt.Errorf("%w: empty packet", errBadPacket)
	}
	n := 4 + int(length)
	if err := c.fill(n, timeout); err != nil {
		return 0, nil, err
	}
	p := c.buf[c.r : c.r+n]
	c.r += n
	return p[4], p[5:n:n], nil
}

// fill makes at least n unread bytes available, reading as much as the
// socket has (pipelined packets arrive many per read).
func (c *conn) fill(n int, timeout time.Duration) error {
	if c.w-c.r >= n {
		return nil
	}
	if len(c.buf)-c.r < n {
		if n > len(c.buf) {
			nb := make([]byte, max(n, 2*len(c.buf)))
			if uint32(len(nb)) > c.max+4 && n <= int(c.max)+4 {
				nb = nb[:int(c.max)+4]
			}
			c.w = copy(nb, c.buf[c.r:c.w])
			c.buf = nb
		} else {
			c.w = copy(c.buf, c.buf[c.r:c.w])
		}
		c.r = 0
	}
	if err := c.deadline(false, timeout); err != nil {
		return err
	}
	for c.w-c.r < n {
		k, err := c.nc.Read(c.buf[c.w:])
		c.w += k
		if err != nil {
			if errors.Is(err, io.EOF) && c.w-c.r > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// deadline puts now+timeout on the socket through set, unless the
// deadline there is at most 1/64 of timeout earlier than that: a deadline
// is a timer update in the runtime, and pipelined packets come within
// microseconds of each other. A wait may so end up to 1/64 of its
// timeout early (a minute of the default idle_timeout of an hour).
func (c *conn) deadline(write bool, timeout time.Duration) error {
	cur := &c.rdSet
	if write {
		cur = &c.wdSet
	}
	var want time.Time
	if timeout > 0 {
		want = time.Now().Add(timeout)
		if d := want.Sub(*cur); !cur.IsZero() && d >= 0 && d <= timeout/64 {
			return nil
		}
	} else if cur.IsZero() {
		return nil
	}
	*cur = want
	if write {
		return c.nc.SetWriteDeadline(want)
	}
	return c.nc.SetReadDeadline(want)
}

// serve runs the session loop until the MTA quits or the connection
// breaks, as libmilter and go-milter do: negotiate, then one callback
// per command.
func (c *conn) serve() {
	defer c.nc.Close()
	defer c.release()
	defer func() {
		// The callbacks recover what they must decide about; anything
		// else ends this connection (the MTA applies its default), not
		// the process.
		if r := recover(); r != nil {
			c.srv.o.metrics.Panic("milter")
			c.srv.log.Error("recovered panic in milter session", "panic", fmt.Sprint(r))
		}
	}()
	code, data, err := c.readPacket(negotiation)
	if err != nil {
		c.warnRead(err)
		return
	}
	if err := c.negotiate(code, data); err != nil {
		c.warn("milter negotiation failed", "err", err)
		return
	}
	if err := c.flush(); err != nil {
		c.warnWrite(err)
		return
	}
	c.id = c.srv.milters.Add(1)
	sess := c.srv.newSession(c.version, c.actions, c.protocol, gomilter.DataSize64K).(*session)
	defer func() {
		c.state = modNone
		sess.Cleanup(c)
	}()
	lastCode, lastOrder := byte(cmdOptNeg), 0
	idle := c.srv.o.cfg.IdleTimeout.D()
	for {
		code, data, err := c.readPacket(idle)
		if err != nil {
			c.warnRead(err)
			return
		}
		// As go-milter: an MTA that starts a new message without ABORT
		// (Sendmail after an early decision) gets one synthesised, and
		// repeated ABORTs (Postfix) count once.
		mc := code
		if code == cmdMacro && len(data) > 0 {
			mc = data[0]
		}
		if order := commandOrder(mc); order > 0 {
			if lastOrder > order && lastCode != cmdAbort {
				c.state = modNone
				if err := sess.Abort(c); err != nil {
					c.warnCmd(err)
					return
				}
				c.macros.delFrom(gomilter.StageHelo)
			}
			lastOrder = order
		} else if mc == cmdAbort && lastCode == cmdAbort {
			continue
		}
		lastCode = mc

		resp, err := c.command(sess, code, data)
		if err != nil {
			c.warnCmd(err)
			return
		}
		if resp == respAnswered {
			// Answered at the scan deadline while the engine ran.
			c.macros.delFrom(gomilter.StageMail)
			resp = nil
		}
		if resp != nil && !resp.Continue() && (code != cmdRcpt || resp == gomilter.RespDiscard) {
			c.macros.delFrom(gomilter.StageMail)
		}
		if resp != nil && !c.skipReply(code) {
			if err := c.send(resp); err != nil {
				c.warnWrite(err)
				return
			}
		}
		if len(c.out) > 0 {
			if err := c.flush(); err != nil {
				c.warnWrite(err)
				return
			}
		}
		if code == cmdQuit || (code == cmdQuitNC && c.srv.closing.Load()) {
			return
		}
	}
}

// commandOrder is the position of a message event in protocol order, 0
// for the others.
func commandOrder(code byte) int {
	switch code {
	case cmdConnect:
		return 1
	case cmdHelo:
		return 2
	case cmdMail:
		return 3
	case cmdRcpt:
		return 4
	case cmdData:
		return 5
	case cmdHeader:
		return 6
	case cmdEOH:
		return 7
	case cmdBody:
		return 8
	case cmdEOB:
		return 9
	}
	return 0
}

// command decodes one command and calls its callback.
func (c *conn) command(sess *session, code byte, data []byte) (*gomilter.Response, error) {
	c.state = modProgress
	switch code {
	case cmdOptNeg:
		return nil, errors.New("milter: negotiate: can only be called once in a connection")
	case cmdConnect:
		c.macros.delFrom(gomilter.StageHelo)
		host, rest, ok := cstring(data)
		if !ok || len(rest) == 0 {
			return nil, fmt.Errorf("%w: %q command with an unterminated string", errBadPacket, code)
		}
		fam, rest := rest[0], rest[1:]
		var port uint16
		var addr string
		if fam == 'L' || fam == '4' || fam == '6' {
			if len(rest) < 2 {
				return nil, fmt.Errorf("milter: conn: unexpected data size: %d", len(data))
			}
			port = binary.BigEndian.Uint16(rest)
			a, _, _ := cstring(rest[2:])
			addr = string(a)
		}
		var family string
		switch fam {
		case 'U':
			family = "unknown"
		case 'L':
			family = "unix"
		case '4':
			family = "tcp4"
			a, err := netip.ParseAddr(addr)
			if err != nil || a.Zone() != "" || !(a.Is4() || a.Is4In6()) {
				return nil, fmt.Errorf("milter: conn: unexpected ip4 address: %q", addr)
			}
		case '6':
			family = "tcp6"
			addr = strings.TrimPrefix(addr, "IPv6:")
			if len(addr) > 2 && addr[0] == '[' && addr[len(addr)-1] == ']' {
				addr = addr[1 : len(addr)-1]
			}
			a, err := netip.ParseAddr(addr)
			if err != nil || a.Zone() != "" {
				return nil, fmt.Errorf("milter: conn: unexpected ip6 address: %q", addr)
			}
			addr = a.Unmap().String()
		default:
			return nil, fmt.Errorf("milter: conn: unexpected protocol family: %c", fam)
		}
		return sess.Connect(string(host), family, port, addr, c)
	case cmdHelo:
		if len(data) == 0 {
			return nil, errors.New("milter: helo: empty packet")
		}
		c.macros.delFrom(gomilter.StageMail)
		name, _, _ := cstring(data)
		return sess.Helo(string(name), c)
	case cmdMail, cmdRcpt:
		addr, rest, ok := cstring(data)
		if !ok {
			return nil, fmt.Errorf("%w: %q command with an unterminated string", errBadPacket, code)
		}
		a, args := gomilter.RemoveAngle(string(addr)), esmtpArgs(rest)
		if code == cmdMail {
			c.macros.delFrom(gomilter.StageRcpt)
			return sess.MailFrom(a, args, c)
		}
		c.macros.delFrom(gomilter.StageData)
		return sess.RcptTo(a, args, c)
	case cmdData:
		c.macros.delFrom(gomilter.StageEOH)
		return sess.Data(c)
	case cmdHeader:
		name, value, ok := header(data)
		if !ok {
			return nil, errors.New("milter: header: malformed packet")
		}
		resp, err := sess.Header(unsafeString(name), unsafeString(value), c)
		c.macros.delFrom(gomilter.StageEndMarker)
		return resp, err
	case cmdEOH:
		c.macros.delFrom(gomilter.StageEOM)
		return sess.Headers(c)
	case cmdBody:
		resp, err := sess.BodyChunk(data, c)
		c.macros.delFrom(gomilter.StageEndMarker)
		return resp, err
	case cmdEOB:
		c.state = modWrite
		resp, err := sess.EndOfMessage(c)
		c.state = modNone
		if err == nil && resp != respAnswered && (resp == nil || resp.Continue()) {
			resp = gomilter.RespAccept
		}
		return resp, err
	case cmdUnknown:
		cmd, _, _ := cstring(data)
		resp, err := sess.Unknown(string(cmd), c)
		c.macros.delFrom(gomilter.StageEndMarker)
		return resp, err
	case cmdMacro:
		if len(data) == 0 {
			return nil, errors.New("milter: macro: empty packet")
		}
		stage, ok := macroStage(data[0])
		if !ok {
			c.warn("macros for an unknown command ignored", "command", string(rune(data[0])))
			return nil, nil
		}
		c.macros.set(stage, data[1:])
		return nil, nil
	case cmdAbort:
		c.state = modNone
		err := sess.Abort(c)
		c.macros.delFrom(gomilter.StageHelo)
		return nil, err
	case cmdQuitNC:
		c.state = modNone
		c.macros.delFrom(gomilter.StageConnect)
		return nil, sess.NewConnection(c)
	case cmdQuit:
		return nil, nil
	}
	c.warn("unknown milter command: connection closed", "command", string(rune(code)))
	return nil, errCloseSession
}

// skipReply reports whether the MTA asked for no reply to code.
func (c *conn) skipReply(code byte) bool {
	var f gomilter.OptProtocol
	switch code {
	case cmdConnect:
		f = gomilter.OptNoConnReply
	case cmdHelo:
		f = gomilter.OptNoHeloReply
	case cmdMail:
		f = gomilter.OptNoMailReply
	case cmdRcpt:
		f = gomilter.OptNoRcptReply
	case cmdData:
		f = gomilter.OptNoDataReply
	case cmdUnknown:
		f = gomilter.OptNoUnknownReply
	case cmdEOH:
		f = gomilter.OptNoEOHReply
	case cmdHeader:
		f = gomilter.OptNoHeaderReply
	case cmdBody:
		f = gomilter.OptNoBodyReply
	default:
		return false
	}
	return c.protocol&f != 0
}

// cstring splits a NUL-terminated string off b; ok is false (and s all
// of b) when b has no NUL.
func cstring(b []byte) (s, rest []byte, ok bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return b, nil, false
	}
	return b[:i], b[i+1:], true
}

// esmtpArgs joins the NUL-separated ESMTP arguments after an address
// with spaces (go-milter's form).
func esmtpArgs(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	s := []byte(string(b))
	for i, ch := range s {
		if ch == 0 {
			s[i] = ' '
		}
	}
	return unsafeString(s)
}

// header splits a header packet: name NUL value, the final NUL optional;
// any other NUL makes it malformed.
func header(b []byte) (name, value []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	if b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	name, value, ok = cstring(b)
	if !ok || bytes.IndexByte(value, 0) >= 0 {
		return nil, nil, false
	}
	return name, value, true
}

func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// macroStage maps the command a macro packet is for to its stage.
func macroStage(code byte) (gomilter.MacroStage, bool) {
	switch code {
	case cmdConnect:
		return gomilter.StageConnect, true
	case cmdHelo:
		return gomilter.StageHelo, true
	case cmdMail:
		return gomilter.StageMail, true
	case cmdRcpt:
		return gomilter.StageRcpt, true
	case cmdData:
		return gomilter.StageData, true
	case cmdEOH:
		return gomilter.StageEOH, true
	case cmdEOB:
		return gomilter.StageEOM, true
	case cmdUnknown, cmdHeader, cmdAbort, cmdBody:
		return gomilter.StageEndMarker, true
	}
	return 0, false
}

// warn logs a problem of the session loop (a broken connection, a
// malformed packet) as a warning of the milter front end.
func (c *conn) warn(msg string, args ...any) { c.srv.log.Warn(msg, args...) }

func quiet(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, errCloseSession) || errors.Is(err, net.ErrClosed)
}

func (c *conn) warnRead(err error) {
	if !quiet(err) {
		c.warn("reading a milter command failed", "err", err)
	}
}

func (c *conn) warnWrite(err error) {
	if !quiet(err) {
		c.warn("writing a milter reply failed", "err", err)
	}
}

func (c *conn) warnCmd(err error) {
	if !quiet(err) {
		c.warn("milter command failed", "err", err)
	}
}
