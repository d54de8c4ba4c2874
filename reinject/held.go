package reinject

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/maildlp/maildlp/internal/fsutil"
)

// chunkSize is the unit in which a received message is held.
const chunkSize = 64 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, chunkSize); return &b }}

// message is a received message: its first bytes in pooled chunks (no
// copying as it grows, no second copy at its largest, memory back to the
// pool after it), and past [limits] spill_bytes the rest in a temporary
// file without a name, so that a large message costs the hop disk, not
// memory. The spill never starts before the header's empty line has been
// held in memory: the header edits work on the chunks (a header larger
// than spill_bytes stays in memory, bounded by max_message_bytes).
//
// The session and a scan running on it each hold a reference: the chunks
// go back to the pool and the file is closed when both are done (a scan
// the session stopped waiting for may still be reading them).
type message struct {
	chunks []*[]byte
	mem    int64 // bytes in chunks
	size   int64 // bytes held: chunks, then the file
	memMax int64 // limits.spill_bytes
	dir    string
	sep    sepScan
	sp     *spill // the bytes after mem; nil: none
	toFile bool   // the last space() was the spill's
	err    error  // the spill file could not be created or written
	// plain: no line of the message starts with a dot (the DATA reader
	// saw none and no bare CR or LF), so it is sent on without stuffing.
	plain bool
	refs  atomic.Int32
}

// newMessage holds a message, its first memMax bytes (at least its
// header) in memory, the rest in a temporary file in dir ("": $TMPDIR).
// memMax <= 0: all in memory.
func newMessage(memMax int64, dir string) *message {
	m := &message{memMax: memMax, dir: dir}
	if memMax <= 0 {
		m.memMax = 1<<63 - 1
	}
	m.refs.Store(1)
	return m
}

// space returns room for at least 512 bytes at the end of the message:
// in a chunk, or in the spill's write buffer once the message is past
// spill_bytes and its header. It fails when the spill file cannot be
// created.
func (m *message) space() ([]byte, error) {
	m.toFile = m.sp != nil || (m.mem >= m.memMax && m.sep.found)
	if m.toFile {
		if m.sp == nil && m.err == nil {
			m.sp, m.err = newSpill(m.dir)
		}
		if m.err != nil {
			return nil, m.err
		}
		return m.sp.space(), nil
	}
	if n := len(m.chunks); n > 0 {
		last := *m.chunks[n-1]
		if cap(last)-len(last) >= 512 {
			return last[len(last):cap(last)], nil
		}
	}
	m.chunks = append(m.chunks, chunkPool.Get().(*[]byte))
	last := *m.chunks[len(m.chunks)-1]
	return last[len(last):cap(last)], nil
}

// grow adds the n bytes just read into space(). A failed write of the
// spill file is kept in err (see done).
func (m *message) grow(n int) {
	m.size += int64(n)
	if m.toFile {
		if err := m.sp.grow(n); err != nil && m.err == nil {
			m.err = err
		}
		return
	}
	last := m.chunks[len(m.chunks)-1]
	*last = (*last)[:len(*last)+n]
	m.mem += int64(n)
	if !m.sep.found {
		m.sep.scan((*last)[len(*last)-n:])
	}
}

// done ends the receiving: the spill's pending bytes go to the file. The
// error is the first failure to create or write it: the message is not
// held whole.
func (m *message) done() error {
	if m.sp != nil && m.err == nil {
		m.err = m.sp.finish()
	}
	return m.err
}

// split returns the message's header fields (those called one of names
// apart) and the body held in memory as slices of its chunks, without
// copying them (see splitChunks); the rest of the body is tail().
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

// tail reads the part of the message in the spill file (nil: none). Each
// call reads on its own: a scan still running cannot move its offset.
func (m *message) tail() io.Reader {
	if m == nil || m.sp == nil {
		return nil
	}
	return m.sp.section()
}

// reader reads the message (for the engine). It has a Len, so the engine
// allocates its copy once, at the right size.
func (m *message) reader() *messageReader {
	r := &messageReader{left: m.size}
	if m.sp != nil {
		r.file = m.sp.section()
	}
	for _, c := range m.chunks {
		r.chunks = append(r.chunks, *c)
	}
	return r
}

type messageReader struct {
	chunks [][]byte
	file   *io.SectionReader // after the chunks; nil: none
	left   int64
}

func (r *messageReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	if len(r.chunks) == 0 && r.file != nil {
		n, err := r.file.Read(p[:min(int64(len(p)), r.left)])
		r.left -= int64(n)
		if err == io.EOF && r.left > 0 {
			err = io.ErrUnexpectedEOF
		}
		if err == io.EOF {
			err = nil
		}
		return n, err
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

// hold takes one more reference to the message.
func (m *message) hold() { m.refs.Add(1) }

// release drops a reference; the last one returns the chunks to the pool
// and closes the spill file, and m must not be used after it.
func (m *message) release() {
	if m == nil || m.refs.Add(-1) > 0 {
		return
	}
	for _, c := range m.chunks {
		*c = (*c)[:0]
		chunkPool.Put(c)
	}
	m.chunks, m.size, m.mem = nil, 0, 0
	m.sp.close()
	m.sp = nil
}

// ErrSpill: the part of a message past [limits] spill_bytes could not be
// held (its temporary file could not be created or written); the message
// is neither scanned in part nor sent on, and the client is told to try
// again later.
var ErrSpill = errors.New("reinject: message could not be held")

func wrapSpill(err error) error { return fmt.Errorf("%w: spill file: %w", ErrSpill, err) }

// sepScan finds the empty line that ends a header ("\r\n" or "\n" alone
// on a line, as splitChunks sees it) in bytes given piece by piece.
type sepScan struct {
	state uint8 // sepLineStart, sepCR (a CR at a line's start), sepInLine
	found bool
}

const (
	sepLineStart = iota
	sepCR
	sepInLine
)

func (s *sepScan) scan(b []byte) {
	for len(b) > 0 && !s.found {
		switch s.state {
		case sepLineStart:
			switch b[0] {
			case '\n':
				s.found = true
				return
			case '\r':
				s.state = sepCR
			default:
				s.state = sepInLine
			}
			b = b[1:]
		case sepCR:
			if b[0] == '\n' {
				s.found = true
				return
			}
			s.state = sepInLine // b[0] is looked at again as part of the line
		default:
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				return
			}
			b = b[i+1:]
			s.state = sepLineStart
		}
	}
}

// spill is the part of a message past spill_bytes, in an unlinked
// temporary file. Bytes are read straight into one pooled write buffer,
// which goes to the file when full: one system call per chunk.
type spill struct {
	f   *os.File
	buf *[]byte
	n   int64 // bytes written to f
}

// newSpill creates the file in dir ("": os.TempDir) without a name, or
// unlinks it at once, so that nothing is left behind whatever happens to
// the process; the disk space goes with the last descriptor.
func newSpill(dir string) (*spill, error) {
	f, err := fsutil.TempUnnamed(dir)
	if err != nil {
		return nil, wrapSpill(err)
	}
	return &spill{f: f, buf: chunkPool.Get().(*[]byte)}, nil
}

func (s *spill) space() []byte {
	b := *s.buf
	return b[len(b):cap(b)]
}

func (s *spill) grow(n int) error {
	*s.buf = (*s.buf)[:len(*s.buf)+n]
	if cap(*s.buf)-len(*s.buf) >= 512 {
		return nil
	}
	return s.flush()
}

func (s *spill) flush() error {
	b := *s.buf
	if len(b) == 0 {
		return nil
	}
	k, err := s.f.Write(b)
	s.n += int64(k)
	*s.buf = b[:0]
	if err != nil {
		return wrapSpill(err)
	}
	return nil
}

// finish writes what is pending and gives the write buffer back.
func (s *spill) finish() error {
	err := s.flush()
	s.putBuf()
	return err
}

func (s *spill) putBuf() {
	if s.buf != nil {
		*s.buf = (*s.buf)[:0]
		chunkPool.Put(s.buf)
		s.buf = nil
	}
}

// section reads the file from its start, at offsets of its own (ReadAt).
func (s *spill) section() *io.SectionReader { return io.NewSectionReader(s.f, 0, s.n) }

func (s *spill) close() {
	if s == nil {
		return
	}
	s.putBuf()
	s.f.Close()
}
