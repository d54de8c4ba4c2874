package milter

import (
	"bufio"
	"encoding/binary"
	"net"
	"sync"
	"time"
)

// bufferedConn is an MTA connection tuned for go-milter's way of reading
// and writing packets, which costs system calls and timer updates per
// packet:
//
//   - Reads go through a buffer: go-milter reads each packet with two
//     unbuffered reads (length, then payload), and the MTA sends most
//     events back to back without waiting for a reply, so one read system
//     call now serves many packets. Large body packets bypass the buffer.
//     The buffer comes from a pool (the MTA opens a connection per
//     message) and goes back when the connection is closed.
//   - Deadlines are set on the socket only when a system call needs them:
//     go-milter sets a read deadline before every packet and clears it
//     after, and likewise for every write; each is a timer update in the
//     runtime. A packet already in the buffer needs no deadline.
//   - Writes send whole packets, and modification packets (add header,
//     quarantine, ...) wait for the response that ends the message, so
//     that the MTA gets them and the verdict in one write (see Write).
//
// Only the session goroutine reads, writes and sets deadlines (go-milter
// does all three from the goroutine that serves the connection); Close
// may come from another.
type bufferedConn struct {
	net.Conn
	mu sync.Mutex    // held by Read; Close takes the buffer after it
	r  *bufio.Reader // nil once closed

	rd, rdSet time.Time // read deadline asked for, and the one on the socket
	wd, wdSet time.Time // the same for writes

	w     []byte // packets not written yet
	small [128]byte
}

// maxHeld bounds the modification packets held back for the final
// response; past it they are written at once.
const maxHeld = 64 << 10

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 8<<10) }}

func newBufferedConn(c net.Conn) *bufferedConn {
	r := readerPool.Get().(*bufio.Reader)
	bc := &bufferedConn{Conn: c, r: r}
	r.Reset((*socketReader)(bc))
	return bc
}

func (c *bufferedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.r == nil {
		return 0, net.ErrClosed
	}
	return c.r.Read(p)
}

// socketReader is what the buffer reads from: the socket, with the read
// deadline last asked for.
type socketReader bufferedConn

func (s *socketReader) Read(p []byte) (int, error) {
	c := (*bufferedConn)(s)
	if !c.rd.Equal(c.rdSet) {
		if err := c.Conn.SetReadDeadline(c.rd); err != nil {
			return 0, err
		}
		c.rdSet = c.rd
	}
	return c.Conn.Read(p)
}

// SetReadDeadline records t for the next read from the socket.
func (c *bufferedConn) SetReadDeadline(t time.Time) error { c.rd = t; return nil }

// SetWriteDeadline records t for the next write to the socket.
func (c *bufferedConn) SetWriteDeadline(t time.Time) error { c.wd = t; return nil }

// SetDeadline records t for both.
func (c *bufferedConn) SetDeadline(t time.Time) error { c.rd, c.wd = t, t; return nil }

// Write sends whole milter packets in one system call. go-milter writes a
// packet as two writes, its 5-byte header (length, command) and then its
// data; with TCP_NODELAY each would leave as a segment of its own and the
// MTA would read the reply in two steps. Write holds back an incomplete
// packet until the rest of it comes (go-milter writes the rest at once,
// under the same write deadline). It also holds back modification
// packets, up to maxHeld bytes: the MTA answers none of them, and the
// end-of-message response always follows them, so they leave with it. A
// failed write of held packets is reported by the write that sends them.
func (c *bufferedConn) Write(p []byte) (int, error) {
	if len(c.w) == 0 && packetLen(p) == len(p) && !modification(p) {
		return c.write(p)
	}
	if c.w == nil {
		c.w = c.small[:0]
	}
	c.w = append(c.w, p...)
	end, last := 0, byte(0)
	for n := packetLen(c.w[end:]); n > 0 && end+n <= len(c.w); n = packetLen(c.w[end:]) {
		last = 0
		if n > 4 {
			last = c.w[end+4]
		}
		end += n
	}
	if end == 0 || (modCode(last) && end <= maxHeld) {
		return len(p), nil
	}
	_, err := c.write(c.w[:end])
	rest := copy(c.w, c.w[end:])
	c.w = c.w[:rest]
	if cap(c.w) > maxHeld {
		c.w = nil // a large packet: do not keep its buffer
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// write writes p to the socket with the write deadline last asked for.
func (c *bufferedConn) write(p []byte) (int, error) {
	if !c.wd.Equal(c.wdSet) {
		if err := c.Conn.SetWriteDeadline(c.wd); err != nil {
			return 0, err
		}
		c.wdSet = c.wd
	}
	return c.Conn.Write(p)
}

// packetLen is the length of the milter packet that starts b (4-byte
// length, then that many bytes), or 0 if b does not hold its header.
func packetLen(b []byte) int {
	if len(b) < 4 {
		return 0
	}
	return 4 + int(binary.BigEndian.Uint32(b))
}

// modification reports whether the packet p starts with is a message
// modification.
func modification(p []byte) bool { return len(p) > 4 && modCode(p[4]) }

// modCode reports whether a packet code from the milter is a message
// modification (SMFIR_ADDRCPT ... SMFIR_ADDRCPT_PAR), which the MTA does
// not answer and which is always followed by the end-of-message response.
func modCode(code byte) bool {
	switch code {
	case '+', '-', 'b', 'h', 'm', 'i', 'q', 'e', '2':
		return true
	}
	return false
}

// Close closes the connection, which ends a Read in progress, then gives
// the buffer back.
func (c *bufferedConn) Close() error {
	err := c.Conn.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.r != nil {
		c.r.Reset(nil)
		readerPool.Put(c.r)
		c.r = nil
	}
	return err
}
