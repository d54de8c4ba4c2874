package extract

import (
	"fmt"
	"io"
	"sync"
	"unsafe"
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
	// backing is the array b lives in: a spare one may be larger than b,
	// whose capacity is what is held from the budget.
	backing := e.takeSpare(size)
	b := backing[:0:size]
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
		e.release(cap(b))
		if grow <= cap(backing) {
			b = backing[:len(b):grow] // the spare is large enough: no copy
			continue
		}
		// A larger spare, or a new array; the old one is a spare now.
		nbacking := e.takeSpare(grow)
		nb := nbacking[:len(b):grow]
		copy(nb, b)
		e.keep(backing)
		b, backing = nb, nbacking
	}
}

// Decompression buffers are reused: a buffer a reader is done with
// (recycle) is a spare that a later readAll fills, within the scan and,
// through sparePool, in the next scan, instead of allocating, zeroing and
// collecting a new one for every member. Only the capacity readAll asked
// for is held from the budget, so limits are reached exactly as with new
// buffers; the memory really used is at most that of the buffers held
// before. A buffer is recycled only where the text read from it has been
// copied out (every reader builds its text in buffers of its own).

// maxSpare is the largest buffer kept for reuse after a scan, and
// maxSpares how many buffers are kept: a document member read while its
// archive member is being read needs a buffer of its own.
const (
	maxSpare  = 4 << 20
	maxSpares = 4
)

// spares are the buffers a scan can reuse.
type spares struct {
	free [maxSpares][]byte // empty slices, nil where there is none
	lent [maxSpares][]byte // whole arrays readAll is filling, to recycle whole
}

// sparePool keeps the spares of a finished scan for the next.
var sparePool sync.Pool

// poisonRecycled, set by a test, overwrites every recycled buffer, so that
// text still referring to one would show.
var poisonRecycled bool

// takeSpare returns an empty buffer of at least size bytes of capacity:
// the smallest spare large enough, else a new one.
func (e *extractor) takeSpare(size int) []byte {
	if e.spares == nil {
		e.spares, _ = sparePool.Get().(*spares)
		if e.spares == nil {
			e.spares = &spares{}
		}
	}
	sp := e.spares
	best := -1
	for i, b := range sp.free {
		if cap(b) >= size && (best < 0 || cap(b) < cap(sp.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return make([]byte, 0, size)
	}
	b := sp.free[best]
	sp.free[best] = nil
	for i := range sp.lent {
		if sp.lent[i] == nil {
			sp.lent[i] = b
			break
		}
	}
	return b
}

// recycle releases b, a buffer readAll returned, from the budget and keeps
// it as a spare in place of a smaller one. The caller must not use b, nor
// anything that refers to it, after.
func (e *extractor) recycle(b []byte) {
	e.release(cap(b))
	e.keep(b)
}

// keep makes b, or the whole spare it was cut from, a spare in place of a
// smaller one.
func (e *extractor) keep(b []byte) {
	if cap(b) == 0 || e.spares == nil {
		return
	}
	sp := e.spares
	full := b[:cap(b)]
	for i, l := range sp.lent {
		if l != nil && unsafe.SliceData(l) == unsafe.SliceData(b) {
			full = l[:cap(l)] // the whole spare b was cut from
			sp.lent[i] = nil
			break
		}
	}
	if poisonRecycled {
		for i := range full {
			full[i] = 0xA5
		}
	}
	small := 0
	for i, f := range sp.free {
		if cap(f) < cap(sp.free[small]) {
			small = i
		}
	}
	if cap(full) > cap(sp.free[small]) {
		sp.free[small] = full[:0]
	}
}

// putSpare gives the scan's spares to the next scan.
func (e *extractor) putSpare() {
	sp := e.spares
	if sp == nil {
		return
	}
	e.spares = nil
	sp.lent = [maxSpares][]byte{}
	for i, f := range sp.free {
		if cap(f) > maxSpare {
			sp.free[i] = nil
		}
	}
	sparePool.Put(sp)
}
