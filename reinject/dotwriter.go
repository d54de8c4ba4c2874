package reinject

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"sync"
	"time"
)

// writeMessage dot-stuffs parts, then what tail reads, and the final dot.
// A failed read of tail returns before the final dot: the downstream
// delivers nothing.
func writeMessage(w *dotWriter, tail io.Reader, parts [][]byte) error {
	for _, p := range parts {
		if err := w.write(p); err != nil {
			return err
		}
	}
	if tail != nil {
		buf := chunkPool.Get().(*[]byte)
		defer chunkPool.Put(buf)
		b := (*buf)[:cap(*buf)]
		for {
			n, err := tail.Read(b)
			if werr := w.write(b[:n]); werr != nil {
				return werr
			}
			// b is read into again: what refers to it goes out first.
			if werr := w.sync(); werr != nil {
				return werr
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
	}
	return w.close()
}

// dotWriter dot-stuffs a message whose line ends are all CRLF (the
// newline check guarantees it) and ends it with <CRLF>.<CRLF>. It looks
// only for line starts with a dot ("\n.") and passes the runs between
// them on whole: no work per line. With plain set it looks only at the
// first byte of each piece written: the DATA reader found no line of the
// received message starting with a dot, and each of the hop's own header
// fields is one piece.
//
// On a plain TCP connection the pieces are not copied: they are gathered
// and written with one writev per batch (the held message stays put until
// the downstream has replied). Otherwise (TLS, tests) they go through a
// pooled 64 KiB buffer.
type dotWriter struct {
	w     *bufio.Writer // nil when vec is used
	vec   *vecWriter
	bol   bool // at the beginning of a line
	plain bool
}

// newDotWriter writes to c, each write given to to complete.
func newDotWriter(c net.Conn, to time.Duration, plain bool) *dotWriter {
	d := &dotWriter{bol: true, plain: plain}
	if _, ok := c.(*net.TCPConn); ok {
		d.vec = vecPool.Get().(*vecWriter)
		d.vec.c, d.vec.to = c, to
		return d
	}
	d.w = writerPool.Get().(*bufio.Writer)
	d.w.Reset(deadlineWriter{c, to})
	return d
}

// free gives the writer's buffers back.
func (d *dotWriter) free() {
	if d.vec != nil {
		d.vec.reset()
		d.vec.c = nil
		vecPool.Put(d.vec)
		d.vec = nil
	}
	if d.w != nil {
		d.w.Reset(nil)
		writerPool.Put(d.w)
		d.w = nil
	}
}

var (
	lfDot   = []byte("\n.")
	dotByte = []byte(".")
)

func (d *dotWriter) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if d.bol && b[0] == '.' {
		if err := d.put(dotByte); err != nil {
			return err
		}
	}
	d.bol = b[len(b)-1] == '\n'
	for !d.plain {
		i := bytes.Index(b, lfDot)
		if i < 0 {
			break
		}
		// b[:i+1] ends a line; the next one starts with a dot.
		if err := d.put(b[:i+1]); err != nil {
			return err
		}
		if err := d.put(dotByte); err != nil {
			return err
		}
		b = b[i+1:]
	}
	return d.put(b)
}

func (d *dotWriter) put(b []byte) error {
	if d.vec != nil {
		return d.vec.add(b)
	}
	_, err := d.w.Write(b)
	return err
}

// sync sends what refers to the caller's buffer (vec only: the bufio
// writer has copied it).
func (d *dotWriter) sync() error {
	if d.vec != nil {
		return d.vec.flush()
	}
	return nil
}

var (
	endDot     = []byte(".\r\n")
	crlfEndDot = []byte("\r\n.\r\n")
)

func (d *dotWriter) close() error {
	end := endDot
	if !d.bol {
		end = crlfEndDot
	}
	if err := d.put(end); err != nil {
		return err
	}
	if d.vec != nil {
		return d.vec.flush()
	}
	return d.w.Flush()
}

// writerPool holds the buffered writers of the DATA stream: 64 KiB, a
// larger buffer than textproto's 4 KiB (one write per 64 KiB), and not
// allocated and cleared again for every message.
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

// deadlineWriter gives each write to the downstream timeouts.downstream_data
// to complete: the deadline is set once per system call, not per piece.
type deadlineWriter struct {
	c  net.Conn
	to time.Duration
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	d.c.SetWriteDeadline(time.Now().Add(d.to))
	return d.c.Write(p)
}

// vecBatch is how many bytes one writev sends at most (about): each
// batch gets timeouts.downstream_data to be written.
const vecBatch = 256 << 10

// vecWriter gathers pieces of the message and writes them with writev
// (net.Buffers on a TCP connection), in batches of about vecBatch bytes.
type vecWriter struct {
	c    net.Conn
	to   time.Duration
	bufs net.Buffers
	n    int
}

var vecPool = sync.Pool{New: func() any { return &vecWriter{bufs: make(net.Buffers, 0, 64)} }}

func (v *vecWriter) add(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	v.bufs = append(v.bufs, b)
	v.n += len(b)
	if v.n >= vecBatch {
		return v.flush()
	}
	return nil
}

func (v *vecWriter) flush() error {
	if v.n == 0 {
		return nil
	}
	v.c.SetWriteDeadline(time.Now().Add(v.to))
	bufs := v.bufs // WriteTo consumes its receiver; v.bufs keeps the array
	_, err := bufs.WriteTo(v.c)
	v.reset()
	return err
}

func (v *vecWriter) reset() {
	clear(v.bufs) // no reference to the message stays in the pool
	v.bufs, v.n = v.bufs[:0], 0
}
