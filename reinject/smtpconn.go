package reinject

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/maildlp/maildlp/policy/action"
)

// smtpConn is the wire of one inbound connection: a line reader bounded
// by max_line_length, and a reply writer that holds replies back while
// the client has more pipelined commands in flight (RFC 2920), so a
// pipelined group gets its replies in one write.
type smtpConn struct {
	raw     net.Conn // the accepted connection
	tr      net.Conn // raw, or the TLS connection after STARTTLS
	br      *bufio.Reader
	bw      *bufio.Writer
	maxLine int
	writeTO time.Duration
	tls     *tls.ConnectionState
	err     error // the first write error; every later write is dropped
}

var (
	errLineTooLong = errors.New("reinject: command line too long")
	errBadLine     = errors.New("reinject: NUL or bare CR in command line")
)

func newSMTPConn(c net.Conn, maxLine int, writeTO time.Duration) *smtpConn {
	br, _ := readerPool.Get().(*bufio.Reader)
	if br == nil || br.Size() != maxLine+16 {
		br = bufio.NewReaderSize(c, maxLine+16)
	}
	br.Reset(c)
	bw := writerPool4K.Get().(*bufio.Writer)
	bw.Reset(c)
	return &smtpConn{
		raw: c, tr: c,
		br:      br,
		bw:      bw,
		maxLine: maxLine,
		writeTO: writeTO,
	}
}

// The connections' buffers are pooled: with one connection per message,
// as MTAs send, a 64 KiB line reader allocated and cleared for each was
// the hop's largest allocation.
var (
	readerPool   sync.Pool
	writerPool4K = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4<<10) }}
)

// free gives the buffers back once the connection is done with.
func (c *smtpConn) free() {
	c.br.Reset(nil)
	readerPool.Put(c.br)
	c.bw.Reset(nil)
	writerPool4K.Put(c.bw)
	c.br, c.bw = nil, nil
}

// readLine reads one command line before deadline dl and returns it
// without its line end (CRLF, or a bare LF as most servers accept). A line
// longer than max_line_length is errLineTooLong: the connection cannot be
// kept in step after it. Replies held back are flushed first when no
// complete command is waiting.
func (c *smtpConn) readLine(dl time.Time) (string, error) {
	if !c.lineBuffered() {
		if err := c.flush(); err != nil {
			return "", err
		}
	}
	c.tr.SetReadDeadline(dl)
	line, err := c.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) || len(line) > c.maxLine+2 {
		return "", errLineTooLong
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF // an unterminated last line is not run
		}
		return "", err
	}
	line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
	if bytes.IndexByte(line, 0) >= 0 || bytes.IndexByte(line, '\r') >= 0 {
		return string(line), errBadLine
	}
	return string(line), nil
}

// lineBuffered reports whether a whole command line is already read.
func (c *smtpConn) lineBuffered() bool {
	b, _ := c.br.Peek(c.br.Buffered())
	return bytes.IndexByte(b, '\n') >= 0
}

// writeRaw queues b, which ends with CRLF: a reply the downstream sent,
// relayed as it came.
func (c *smtpConn) writeRaw(b []byte) {
	if c.err != nil {
		return
	}
	c.tr.SetWriteDeadline(time.Now().Add(c.writeTO))
	_, c.err = c.bw.Write(b)
}

// writeLines queues a reply of the hop's own that carries no enhanced
// status code (greeting, EHLO).
func (c *smtpConn) writeLines(code int, lines ...string) {
	var b []byte
	for i, l := range lines {
		b = strconv.AppendInt(b, int64(code), 10)
		if i < len(lines)-1 {
			b = append(b, '-')
		} else {
			b = append(b, ' ')
		}
		b = append(b, l...)
		b = append(b, '\r', '\n')
	}
	c.writeRaw(b)
}

// writeWire queues a rendered reply (policy/action).
func (c *smtpConn) writeWire(w action.Wire) {
	c.writeRaw(append([]byte(w.String()), '\r', '\n'))
}

// flush sends the replies held back.
func (c *smtpConn) flush() error {
	if c.err != nil {
		return c.err
	}
	if c.bw.Buffered() == 0 {
		return nil
	}
	c.tr.SetWriteDeadline(time.Now().Add(c.writeTO))
	c.err = c.bw.Flush()
	return c.err
}

// startTLS runs the server handshake on the accepted connection. Whatever
// the client sent after STARTTLS in plaintext is dropped with the old
// reader (command injection, CVE-2011-0411).
func (c *smtpConn) startTLS(cfg *tls.Config, timeout time.Duration) error {
	tc := tls.Server(c.raw, cfg)
	c.raw.SetDeadline(time.Now().Add(timeout))
	if err := tc.Handshake(); err != nil {
		return err
	}
	c.raw.SetDeadline(time.Time{})
	cs := tc.ConnectionState()
	c.tr, c.tls = tc, &cs
	c.br.Reset(tc)
	c.bw.Reset(tc)
	return nil
}
