package reinject

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

// errBareNewline is a bare CR or bare LF in DATA under bare_newline = "reject".
var errBareNewline = errors.New("reinject: bare CR or LF in message data")

// newlineReader checks line ends in DATA as it streams. With reject set it
// fails at the first CR not followed by LF or LF not preceded by CR; else
// it rewrites each to CRLF. Either way nothing but CRLF ends a line in what
// it returns, so no bare-CR/LF sequence (<LF>.<LF>, <CR>.<CR>,
// <CR><LF>.<CR>, ...) can become a message boundary downstream.
type newlineReader struct {
	r      io.Reader
	reject bool
	cr     bool   // the last byte read was a CR not yet known to be bare
	buf    []byte // read buffer
	out    []byte // normalised bytes, returned up to off
	off    int
	err    error
}

func newNewlineReader(r io.Reader, reject bool) *newlineReader {
	return &newlineReader{r: r, reject: reject, buf: make([]byte, 32<<10)}
}

func (n *newlineReader) Read(p []byte) (int, error) {
	if n.reject {
		return n.readReject(p)
	}
	for len(n.out) == n.off {
		if n.err != nil {
			return 0, n.err
		}
		k, err := n.r.Read(n.buf[:min(len(n.buf), max(len(p), 512))])
		if err != nil {
			n.err = err
			if err == io.EOF && n.cr {
				// A CR at the very end: the DATA reader ends on CRLF.CRLF,
				// so this cannot happen with it, but a reader may.
				if n.reject {
					n.err = errBareNewline
				} else {
					n.out = append(n.out, '\n')
				}
				n.cr = false
			}
		}
		if e := n.scan(n.buf[:k]); e != nil {
			n.err = e
			n.out, n.off = n.out[:0], 0
			return 0, e
		}
	}
	c := copy(p, n.out[n.off:])
	n.off += c
	if n.off == len(n.out) {
		// Reuse the whole buffer: reslicing past what was returned would
		// shrink its capacity and reallocate it on nearly every read.
		n.out, n.off = n.out[:0], 0
	}
	return c, nil
}

// readReject reads straight into p and checks it.
func (n *newlineReader) readReject(p []byte) (int, error) {
	if n.err != nil {
		return 0, n.err
	}
	k, err := n.r.Read(p)
	if !cleanLineEnds(p[:k], &n.cr) {
		n.err = errBareNewline
		return 0, n.err
	}
	if err == io.EOF && n.cr {
		n.err = errBareNewline
		return 0, n.err
	}
	if err != nil {
		n.err = err
	}
	return k, err
}

// cleanLineEnds reports whether every CR in b is followed by LF and every
// LF preceded by CR; cr carries a trailing CR from one call to the next.
func cleanLineEnds(b []byte, cr *bool) bool {
	for len(b) > 0 {
		if *cr {
			if b[0] != '\n' {
				return false
			}
			*cr = false
			b = b[1:]
			continue
		}
		i := indexCRLF(b)
		if i < 0 {
			return true
		}
		if b[i] == '\n' {
			return false
		}
		*cr = true
		b = b[i+1:]
	}
	return true
}

func (n *newlineReader) scan(b []byte) error {
	for _, c := range b {
		switch {
		case n.cr && c == '\n':
			n.out = append(n.out, '\n')
			n.cr = false
			continue
		case n.cr:
			n.out = append(n.out, '\n') // bare CR -> CRLF
		case c == '\n':
			n.out = append(n.out, '\r', '\n') // bare LF -> CRLF
			n.cr = false
			continue
		}
		n.out = append(n.out, c)
		n.cr = c == '\r'
	}
	return nil
}

// chunkSize is the unit in which a received message is held.
const chunkSize = 64 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, chunkSize); return &b }}

// message is a received message held in pooled chunks: no copying as it
// grows, no second copy at its largest, memory back to the pool after it.
// The session and a scan running on it each hold a reference: the chunks
// go back to the pool when both are done (a scan the session stopped
// waiting for may still be reading them).
type message struct {
	chunks []*[]byte
	size   int64
	refs   atomic.Int32
}

func newMessage() *message {
	m := &message{}
	m.refs.Store(1)
	return m
}

// space returns room for at least 512 bytes at the end of the message.
func (m *message) space() []byte {
	if n := len(m.chunks); n > 0 {
		last := *m.chunks[n-1]
		if cap(last)-len(last) >= 512 {
			return last[len(last):cap(last)]
		}
	}
	m.chunks = append(m.chunks, chunkPool.Get().(*[]byte))
	last := *m.chunks[len(m.chunks)-1]
	return last[len(last):cap(last)]
}

// grow adds the n bytes just read into space().
func (m *message) grow(n int) {
	last := m.chunks[len(m.chunks)-1]
	*last = (*last)[:len(*last)+n]
	m.size += int64(n)
}

// split returns the message's header fields (those called one of names
// apart) and body as slices of its chunks, without copying them (see
// splitChunks).
func (m *message) split(names ...string) header {
	if m == nil {
		return splitChunks(nil, names...)
	}
	chunks := make([][]byte, len(m.chunks))
	for i, c := range m.chunks {
		chunks[i] = *c
	}
	return splitChunks(chunks, names...)
}

// reader reads the message (for the engine). It has a Len, so the engine
// allocates its copy once, at the right size.
func (m *message) reader() *messageReader {
	r := &messageReader{left: m.size}
	for _, c := range m.chunks {
		r.chunks = append(r.chunks, *c)
	}
	return r
}

type messageReader struct {
	chunks [][]byte
	left   int64
}

func (r *messageReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && len(r.chunks) > 0 {
		c := copy(p[n:], r.chunks[0])
		n += c
		r.chunks[0] = r.chunks[0][c:]
		if len(r.chunks[0]) == 0 {
			r.chunks = r.chunks[1:]
		}
	}
	r.left -= int64(n)
	return n, nil
}

// Len is the number of unread bytes.
func (r *messageReader) Len() int { return int(r.left) }

// hold takes one more reference to the chunks.
func (m *message) hold() { m.refs.Add(1) }

// release drops a reference; the last one returns the chunks to the pool,
// and m must not be used after it.
func (m *message) release() {
	if m == nil || m.refs.Add(-1) > 0 {
		return
	}
	for _, c := range m.chunks {
		*c = (*c)[:0]
		chunkPool.Put(c)
	}
	m.chunks, m.size = nil, 0
}
