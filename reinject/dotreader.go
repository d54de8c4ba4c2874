package reinject

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"time"
)

// Errors of the DATA reader; the session turns each into its reply.
var (
	errDataLineTooLong = errors.New("reinject: DATA line longer than max_line_length")
	errDataTooLarge    = errors.New("reinject: message larger than max_message_bytes")
)

// The states of the end-of-data search (RFC 5321 section 4.1.1.4): only
// <CR><LF>.<CR><LF> ends the data, so no bare-CR/LF sequence can.
const (
	dBeginLine = iota
	dDot
	dDotCR
	dCR
	dData
	dEOF
)

// nextDataState is the end-of-data state machine, one byte at a time.
func nextDataState(s int, b byte) int {
	switch s {
	case dBeginLine:
		switch b {
		case '.':
			return dDot
		case '\r':
			return dCR
		}
		return dData
	case dDot:
		if b == '\r' {
			return dDotCR
		}
		return dData
	case dDotCR, dCR:
		// A CR after a CR may be the CR of a CRLF ("x<CR><CR><LF>" ends a
		// line): every other implementation sees a line end there.
		switch {
		case b == '\n' && s == dDotCR:
			return dEOF
		case b == '\n':
			return dBeginLine
		case b == '\r':
			return dCR
		}
		return dData
	case dData:
		if b == '\r' {
			return dCR
		}
		return dData
	}
	return s
}

// dotReader reads the DATA of one transaction from the connection:
// dot-unstuffed, ending at <CR><LF>.<CR><LF>, bounded by max_message_bytes
// and max_line_length, under the DATA deadlines (the whole transfer, and
// the longest pause), with bare CR and bare LF noted on the raw bytes
// (dot-unstuffing drops some: <CR><LF>.<CR>x arrives as <CR><LF><CR>x).
// It reads in blocks: between line ends only the search for the next CR
// or LF looks at the bytes. After a limit is reached, drain reads on to
// the end of the data, so the bytes after it are commands again.
type dotReader struct {
	br       *bufio.Reader
	conn     net.Conn // for the deadlines; nil: none
	maxLine  int
	maxSize  int64
	dataTO   time.Duration
	idleTO   time.Duration
	start    time.Time
	state    int
	rawCR    bool  // the last byte was a CR
	n        int64 // bytes returned
	line     int   // length of the current line so far
	err      error // sticky: a limit or the connection's error
	done     bool  // the end line was read
	draining bool  // limits off: reading to the end to stay in step
	bare     bool  // a bare CR or LF was seen
	// dots: a line other than the end line started with a dot. Without
	// it and without bare CR/LF, no line of the unstuffed message starts
	// with a dot, and sending it on needs no stuffing (see dotWriter).
	dots bool
	// examined counts the bytes the line-end searches looked at (cost
	// tests: it must stay linear in the data).
	examined int64
}

func newDotReader(br *bufio.Reader, conn net.Conn, maxLine int, maxSize int64, dataTO, idleTO time.Duration) *dotReader {
	return &dotReader{br: br, conn: conn, maxLine: maxLine, maxSize: maxSize, dataTO: dataTO, idleTO: idleTO,
		start: time.Now(), state: dBeginLine}
}

func (d *dotReader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.done {
		return 0, io.EOF
	}
	if len(p) < 2 {
		return 0, io.ErrShortBuffer // a held CR may need two bytes
	}
	if d.conn != nil {
		dl := time.Now().Add(d.idleTO)
		if end := d.start.Add(d.dataTO); end.Before(dl) {
			dl = end
		}
		d.conn.SetReadDeadline(dl)
	}
	if d.br.Buffered() == 0 {
		if _, err := d.br.Peek(1); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			d.err = err
			return 0, err
		}
	}
	// One read takes at most len(p) bytes: what it can return, so that the
	// searches for line ends look no further than that.
	buf, _ := d.br.Peek(min(d.br.Buffered(), len(p)))
	n, i := 0, 0
	lf := -1
	fastFrom := 0 // the whole-lines path is not tried before this index
	var err error
	for i < len(buf) && len(p)-n >= 2 {
		if d.state == dBeginLine && !d.rawCR && i >= fastFrom {
			// At a line start: whole plain lines are copied in one go.
			k, clean := d.plainLines(buf[i:min(len(buf), i+len(p)-n)])
			if !clean {
				fastFrom = i + k // a bare CR in there: all of it goes byte by byte
				continue
			}
			copy(p[n:], buf[i:i+k])
			n, i = n+k, i+k
			fastFrom = i + 1 // the line it stopped at goes byte by byte
			continue
		}
		if d.state == dData && !d.rawCR {
			// Mid-line, only CR or LF changes anything: copy up to it.
			j := nextBreak(buf, i, &lf, &d.examined) - i
			j = min(j, len(p)-n)
			if j > 0 {
				copy(p[n:], buf[i:i+j])
				n, i, d.line = n+j, i+j, d.line+j
				if d.line > d.maxLine && !d.draining {
					err = errDataLineTooLong
					break
				}
				continue
			}
		}
		ch := buf[i]
		i++
		if (d.rawCR && ch != '\n') || (!d.rawCR && ch == '\n') {
			d.bare = true
		}
		d.rawCR = ch == '\r'
		if ch == '\n' {
			d.line = 0
		} else if d.line++; d.line > d.maxLine && !d.draining {
			err = errDataLineTooLong
			break
		}
		prev := d.state
		d.state = nextDataState(prev, ch)
		if (prev == dDot && ch != '\r') || (prev == dDotCR && ch != '\n') {
			d.dots = true
		}
		switch {
		case prev == dBeginLine && ch == '.':
			// A stuffing dot, or the start of the end line: dropped.
		case prev == dDot && ch == '\r':
			// Held: the end line, unless something but LF follows.
		case prev == dDotCR && ch == '\n':
			d.done = true
		case prev == dDotCR:
			p[n], p[n+1] = '\r', ch // the held CR was data
			n += 2
		default:
			p[n] = ch
			n++
		}
		if d.done {
			break
		}
	}
	d.br.Discard(i)
	d.n += int64(n)
	if err == nil && d.n > d.maxSize && !d.draining {
		err = errDataTooLarge
	}
	if err != nil {
		d.err = err
		return 0, err
	}
	if d.done && n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// plainLines is the length of the run of whole lines at the start of b
// that the byte-by-byte path would copy unchanged: lines ending in CRLF,
// not starting with a dot (stuffing, the end line), within
// max_line_length, without a bare CR. It looks for each LF (one search
// per line) and counts the CRs of the run at once: as many CRs as lines,
// each line's CR just before its LF, leaves no CR for inside a line.
// clean is false when the run had a bare CR: then nothing is taken, and
// the caller reads the k bytes looked at byte by byte. Each byte is
// looked at at most twice here.
func (d *dotReader) plainLines(b []byte) (k int, clean bool) {
	lines := 0
	for k < len(b) && b[k] != '.' {
		j := bytes.IndexByte(b[k:], '\n')
		if j < 0 {
			d.examined += int64(len(b) - k)
			break
		}
		d.examined += int64(j + 1)
		if j == 0 || b[k+j-1] != '\r' || (j > d.maxLine && !d.draining) {
			break
		}
		lines++
		k += j + 1
	}
	d.examined += int64(k)
	if bytes.Count(b[:k], cr) != lines {
		return k, false
	}
	return k, true
}

var cr = []byte{'\r'}

// drain reads to the end of the data, whatever stopped the reader before,
// unless the connection failed (then it is closed, never read again).
// It reports whether the connection is in step.
func (d *dotReader) drain() bool {
	if d.done {
		return true
	}
	if d.err != nil && !errors.Is(d.err, errDataLineTooLong) && !errors.Is(d.err, errDataTooLarge) {
		return false
	}
	d.draining = true
	d.err = nil
	var buf [32 << 10]byte
	for {
		if _, err := d.Read(buf[:]); err != nil {
			return err == io.EOF
		}
	}
}

// nextBreak is the index of the first CR or LF in buf at or after i, or
// len(buf). lf caches the index of the next LF (-1: not searched yet) for
// the calls on one buffer, so that a line of many bare CRs is not searched
// to its end again at each one: every byte is looked at a bounded number
// of times. examined, when not nil, counts the bytes looked at.
func nextBreak(buf []byte, i int, lf *int, examined *int64) int {
	if *lf < i {
		*lf = len(buf)
		if j := bytes.IndexByte(buf[i:], '\n'); j >= 0 {
			*lf = i + j
		}
		if examined != nil {
			*examined += int64(min(*lf+1, len(buf)) - i)
		}
	}
	j := bytes.IndexByte(buf[i:*lf], '\r')
	if j < 0 {
		j = *lf - i
	}
	if examined != nil {
		*examined += int64(min(j+1, *lf-i))
	}
	return i + j
}

// indexCRLF is the index of the first CR or LF in b, or -1.
func indexCRLF(b []byte) int {
	n := bytes.IndexByte(b, '\n')
	lim := b
	if n >= 0 {
		lim = b[:n]
	}
	if r := bytes.IndexByte(lim, '\r'); r >= 0 {
		return r
	}
	return n
}
