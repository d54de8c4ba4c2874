package app

import (
	"net"
	"sync"

	"github.com/maildlp/maildlp/metrics"
)

// connTracker counts the open MTA connections of one front end (the
// sessions-in-flight gauge) and can close the ones still open when the
// shutdown timeout has passed, whatever the front end does.
type connTracker struct {
	frontend string
	metrics  *metrics.Metrics

	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

func newConnTracker(frontend string, m *metrics.Metrics) *connTracker {
	return &connTracker{frontend: frontend, metrics: m, conns: map[*trackedConn]struct{}{}}
}

// listen wraps ln so that every accepted connection is tracked.
func (t *connTracker) listen(ln net.Listener) net.Listener { return &trackedListener{ln, t} }

// closeAll closes every connection still open and returns how many.
func (t *connTracker) closeAll() int {
	t.mu.Lock()
	open := make([]*trackedConn, 0, len(t.conns))
	for c := range t.conns {
		open = append(open, c)
	}
	t.mu.Unlock()
	for _, c := range open {
		c.Close()
	}
	return len(open)
}

type trackedListener struct {
	net.Listener
	t *connTracker
}

func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	// TCP connections have TCP_NODELAY already (Go's default; Nagle plus
	// delayed ACK would cost the MTA ~40 ms per reply): no system call.
	tc := &trackedConn{Conn: c, t: l.t}
	l.t.mu.Lock()
	l.t.conns[tc] = struct{}{}
	l.t.mu.Unlock()
	l.t.metrics.SessionStarted(l.t.frontend)
	return tc, nil
}

type trackedConn struct {
	net.Conn
	t    *connTracker
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.t.mu.Lock()
		delete(c.t.conns, c)
		c.t.mu.Unlock()
		c.t.metrics.SessionEnded(c.t.frontend)
	})
	return c.Conn.Close()
}
