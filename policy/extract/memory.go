package extract

import (
	"fmt"
	"io"
)

// The memory a scan holds is counted, not guessed: every buffer the
// extractor fills from message content (a decompressed member, a PDF
// stream, a tar member) is taken from a per-scan budget, MaxScanMemory,
// and given back when the content has been read. A buffer grows by what
// the decoder really produced, never by a size the input declares: a
// 14 KB archive whose headers claim 200 MiB per member costs what its
// members really hold.

// firstChunk is the capacity a decompression buffer starts with when the
// compressed size suggests no smaller one.
const firstChunk = 8 << 10

// hold takes n bytes from the scan's memory budget. When the budget is
// exhausted it records the content at loc as too large and returns false.
func (e *extractor) hold(n int, loc, typ string) bool {
	if e.held+int64(n) > e.lim.MaxScanMemory {
		e.unscannable(loc, TooLarge, fmt.Sprintf("needs more than %d bytes of buffers at once (max_scan_memory)", e.lim.MaxScanMemory), typ)
		return false
	}
	e.held += int64(n)
	return true
}

// release gives back n bytes taken by hold.
func (e *extractor) release(n int) {
	e.held = max(e.held-int64(n), 0)
}

// errMemory is returned by readAll after hold recorded the limit.
var errMemory = fmt.Errorf("%w: max_scan_memory", ErrLimit)

// readAll reads r to its end, at most limit bytes (it returns limit+1
// bytes when r has more, for the caller to report). The buffer starts at
// start bytes and doubles while r keeps producing; each size is held from
// the budget, and the returned buffer's capacity stays held until the
// caller releases it. Work is counted per byte produced.
func (e *extractor) readAll(r io.Reader, limit int64, start int, loc, typ string) ([]byte, error) {
	size := int(min(int64(max(start, 512)), limit+1))
	if !e.hold(size, loc, typ) {
		return nil, errMemory
	}
	b := make([]byte, 0, size)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		e.m.produced(n)
		if !e.m.step(n + 1) {
			return b, nil // the caller sees the deadline through alive
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) < cap(b) {
			continue
		}
		if int64(len(b)) > limit {
			return b, nil
		}
		grow := int(min(int64(2*cap(b)), limit+1))
		if !e.hold(grow, loc, typ) {
			e.release(cap(b))
			return nil, errMemory
		}
		nb := make([]byte, len(b), grow)
		copy(nb, b)
		e.release(cap(b))
		b = nb
	}
}
