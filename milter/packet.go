package milter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// packetLimitListener hands out connections whose milter packets are
// checked before go-milter reads them (see packetLimitConn).
type packetLimitListener struct {
	net.Listener
	max uint32
}

func (l packetLimitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &packetLimitConn{Conn: c, max: l.max}, nil
}

// packetLimitConn follows the packet framing of what is read from it (a
// 4-byte big-endian length, then that many bytes: a command byte and its
// data) and fails the read of a packet go-milter must not see, so that
// the connection ends instead:
//
//   - a length above max: go-milter allocates the declared length (up to
//     512 MiB) before the data arrives;
//   - a length of 0, and connect, MAIL and RCPT packets whose C strings
//     are not terminated: go-milter slices past their end and panics in
//     its reader goroutine, outside any recover, which ends the process.
//
// Connect, MAIL and RCPT packets are read whole to be checked (they are
// small); the others pass through.
type packetLimitConn struct {
	net.Conn
	max     uint32
	buf     []byte  // the packet being checked
	pending []byte  // bytes to hand out before passing through
	left    uint32  // payload bytes to pass through
	hdr     [5]byte // length and command (a field: a local escapes, one allocation per packet)
}

// errBadPacket is the read error for a packet that ends the connection.
var errBadPacket = errors.New("milter: malformed packet from the MTA")

func (c *packetLimitConn) Read(p []byte) (int, error) {
	if len(c.pending) == 0 && c.left == 0 {
		if err := c.next(); err != nil {
			return 0, err
		}
	}
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	if len(p) > int(c.left) {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= uint32(n)
	return n, err
}

// next reads the next packet's length and command and, for the commands
// that are checked, the whole packet.
func (c *packetLimitConn) next() error {
	hdr := c.hdr[:]
	if _, err := io.ReadFull(c.Conn, hdr[:4]); err != nil {
		return err
	}
	length := binary.BigEndian.Uint32(hdr[:4])
	switch {
	case length > c.max:
		return fmt.Errorf("%w: %d bytes declared, more than max_packet_bytes (%d)", errBadPacket, length, c.max)
	case length == 0:
		return fmt.Errorf("%w: empty packet", errBadPacket)
	}
	if _, err := io.ReadFull(c.Conn, hdr[4:]); err != nil {
		return err
	}
	code := hdr[4]
	if code != 'C' && code != 'M' && code != 'R' {
		c.buf = append(c.buf[:0], hdr...)
		c.pending, c.left = c.buf, length-1
		return nil
	}
	n := 5 + int(length-1)
	if cap(c.buf) < n {
		c.buf = make([]byte, n)
	}
	c.buf = c.buf[:n]
	copy(c.buf, hdr)
	if _, err := io.ReadFull(c.Conn, c.buf[5:]); err != nil {
		return err
	}
	if !wellFormed(code, c.buf[5:]) {
		return fmt.Errorf("%w: %q command with an unterminated string", errBadPacket, code)
	}
	c.pending, c.left = c.buf, 0
	return nil
}

// wellFormed checks what go-milter's parser assumes of a packet's data:
// connect has a NUL-terminated host name followed by a family byte; MAIL
// and RCPT have a NUL-terminated address.
func wellFormed(code byte, data []byte) bool {
	i := bytes.IndexByte(data, 0)
	if i < 0 {
		return false
	}
	return code != 'C' || len(data) > i+1
}
