package milter

import (
	"net"
	"syscall"
)

// quickAckConn re-arms TCP_QUICKACK after a read: Linux leaves quick ACK
// mode on its own, so a single setsockopt is not enough. It skips the
// system call when the bytes read end with a whole packet that the MTA
// waits for a reply to: the MTA sends nothing more until then, and the
// reply carries the ACK (see frames).
type quickAckConn struct {
	*net.TCPConn
	raw syscall.RawConn
	f   frames
}

func newQuickAckConn(c *net.TCPConn) net.Conn {
	raw, err := c.SyscallConn()
	if err != nil {
		return c
	}
	// A new connection needs no system call: Linux starts it in quick
	// ACK mode at its first data and leaves that mode only once it sees
	// an exchange of requests and replies.
	return &quickAckConn{TCPConn: c, raw: raw}
}

func (c *quickAckConn) Read(p []byte) (int, error) {
	n, err := c.TCPConn.Read(p)
	if n > 0 && !c.f.feed(p[:n]) {
		c.quickAck()
	}
	return n, err
}

func (c *quickAckConn) quickAck() {
	_ = c.raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
