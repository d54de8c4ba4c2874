//go:build !linux

package milter

import "net"

// quickAckConn exists on Linux only; elsewhere connections are unchanged.
type quickAckConn struct{ *net.TCPConn }

func newQuickAckConn(c *net.TCPConn) net.Conn { return c }
