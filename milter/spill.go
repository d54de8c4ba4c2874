package milter

import (
	"fmt"
	"io"
	"os"

	"github.com/maildlp/maildlp/internal/fsutil"
)

// spill holds the part of a message past limits.spill_bytes in an
// unlinked temporary file: a large message then costs the front end disk,
// not memory, while the MTA sends it. Writes go through one pooled block,
// so that small header writes do not each cost a system call.
type spill struct {
	f   *os.File
	buf *[]byte // pending bytes, written when full and at end of message
	n   int64   // bytes in the file and buf
	err error   // the first write error: the message cannot be scanned
}

// newSpill opens a file without a name in dir ("": os.TempDir), so that
// nothing is left behind whatever happens to the process.
func newSpill(dir string) (*spill, error) {
	f, err := fsutil.TempUnnamed(dir)
	if err != nil {
		return nil, fmt.Errorf("message spill file: %w", err)
	}
	return &spill{f: f}, nil
}

// spillWrite appends p to the file through the pooled buffer; a write
// error is kept in s.err and the rest is dropped (the message is then
// not scanned: scan.failed).
func spillWrite[T []byte | string](s *spill, p T) {
	for len(p) > 0 && s.err == nil {
		if s.buf == nil {
			s.buf = blockPool.Get().(*[]byte)
			*s.buf = (*s.buf)[:0]
		}
		b := *s.buf
		c := min(len(p), cap(b)-len(b))
		*s.buf = append(b, p[:c]...)
		s.n += int64(c)
		p = p[c:]
		if len(*s.buf) == cap(*s.buf) {
			s.flush()
		}
	}
}

func (s *spill) flush() {
	if s.buf == nil || len(*s.buf) == 0 || s.err != nil {
		return
	}
	if _, err := s.f.Write(*s.buf); err != nil {
		s.err = fmt.Errorf("message spill file: %w", err)
	}
	*s.buf = (*s.buf)[:0]
}

// reader flushes what is pending and returns the file from its start.
func (s *spill) reader() (io.Reader, error) {
	s.flush()
	s.putBuf()
	if s.err != nil {
		return nil, s.err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("message spill file: %w", err)
	}
	return io.LimitReader(s.f, s.n), nil
}

func (s *spill) putBuf() {
	if s.buf != nil {
		release([]*[]byte{s.buf})
		s.buf = nil
	}
}

// close releases the file (the disk space goes with its last descriptor).
func (s *spill) close() {
	if s == nil {
		return
	}
	s.putBuf()
	s.f.Close()
}
