package reinject

import (
	"errors"
	"io"
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
