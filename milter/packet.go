package milter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// packetLimitListener hands out connections whose milter packets are
// checked against a maximum length before go-milter reads them. go-milter
// reads a packet's 4-byte length and then allocates that many bytes (up
// to 512 MiB) before the data arrives: a peer that declares large packets
// would make the process allocate what it declares.
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
// 4-byte big-endian length, then that many bytes) and fails the read of a
// length above max, or of 0, so that the connection ends instead.
type packetLimitConn struct {
	net.Conn
	max  uint32
	hdr  [4]byte
	nhdr int    // header bytes read so far
	out  int    // header bytes handed to the reader
	left uint32 // payload bytes of the current packet not read yet
}

func (c *packetLimitConn) Read(p []byte) (int, error) {
	if c.left == 0 && c.out == 4 {
		c.nhdr, c.out = 0, 0 // the next packet
	}
	if c.nhdr < 4 {
		// Read the whole header before handing out any of it.
		n, err := io.ReadAtLeast(c.Conn, c.hdr[c.nhdr:], 4-c.nhdr)
		c.nhdr += n
		if err != nil {
			return 0, err
		}
		c.left = binary.BigEndian.Uint32(c.hdr[:])
		if c.left > c.max {
			return 0, fmt.Errorf("milter: packet of %d bytes declared, more than max_packet_bytes (%d)", c.left, c.max)
		}
		if c.left == 0 {
			// Every packet has at least its command byte; go-milter would
			// index the empty packet and panic outside any recover.
			return 0, errors.New("milter: empty packet")
		}
	}
	if c.out < 4 {
		n := copy(p, c.hdr[c.out:])
		c.out += n
		return n, nil
	}
	if len(p) > int(c.left) {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= uint32(n)
	return n, err
}
