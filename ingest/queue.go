package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrFull is returned by [Queue.Append] when the queue holds its maximum.
var ErrFull = errors.New("ingest: queue full")

// ErrTooLarge is returned for a record larger than [MaxRecord].
var ErrTooLarge = errors.New("ingest: record too large")

const (
	// MaxRecord bounds one record (an incident's JSON).
	MaxRecord = 4 << 20
	// segmentBytes is the size past which a new segment file is started;
	// whole segments are deleted once every record in them is stored.
	segmentBytes = 16 << 20
	headerBytes  = 8 // length, CRC-32C
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Pos is a position in the queue: a segment and a byte offset in it.
type Pos struct {
	Seg uint64
	Off int64
}

func (p Pos) less(q Pos) bool { return p.Seg < q.Seg || (p.Seg == q.Seg && p.Off < q.Off) }

// Entry is one record read from the queue and the position after it.
type Entry struct {
	Data []byte
	End  Pos
}

// Queue is a bounded, durable FIFO of records in a directory: segment
// files NNNNNNNNNNNNNNNNNNNN.seg of frames (4-byte length, 4-byte
// CRC-32C, data) and a cursor file naming the first record not yet
// acknowledged. One process owns a directory (an exclusive flock).
type Queue struct {
	dir string
	max int64
	// segBytes is the size past which a new segment starts.
	segBytes int64
	log      *slog.Logger
	lock     *os.File

	mu      sync.Mutex
	sizes   map[uint64]int64 // segment -> bytes written
	tail    *os.File
	tailSeg uint64
	dirty   bool
	ack     Pos   // first record not acknowledged
	held    int64 // bytes from ack to the end
	closed  bool

	ready chan struct{} // signalled on append

	rmu     sync.Mutex // reader state, used by one consumer
	rf      *os.File
	rfSeg   uint64
	corrupt int64

	stop, done chan struct{}
}

// OpenQueue opens (creating) the queue in dir, bounded to max bytes,
// and fsyncs appended records every interval.
func OpenQueue(dir string, max int64, interval time.Duration, log *slog.Logger) (*Queue, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("ingest: create queue directory: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("ingest: open queue lock: %w", err)
	}
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lf.Close()
		return nil, fmt.Errorf("ingest: queue %s is in use by another process: %w", dir, err)
	}
	q := &Queue{dir: dir, max: max, segBytes: segmentBytes, log: log, lock: lf, sizes: map[uint64]int64{}, ready: make(chan struct{}, 1)}
	if err := q.load(); err != nil {
		q.unlock()
		return nil, err
	}
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	q.stop, q.done = make(chan struct{}), make(chan struct{})
	go q.syncLoop(interval)
	return q, nil
}

func (q *Queue) unlock() {
	syscall.Flock(int(q.lock.Fd()), syscall.LOCK_UN)
	q.lock.Close()
}

func (q *Queue) segPath(seg uint64) string {
	return filepath.Join(q.dir, fmt.Sprintf("%020d.seg", seg))
}

// load reads the directory: segments, cursor, and cuts a torn frame off
// the last segment (a crash in the middle of a write).
func (q *Queue) load() error {
	names, err := filepath.Glob(filepath.Join(q.dir, "*.seg"))
	if err != nil {
		return err
	}
	var segs []uint64
	for _, n := range names {
		seg, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(n), ".seg"), 10, 64)
		if err != nil {
			continue
		}
		fi, err := os.Stat(n)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		q.sizes[seg] = fi.Size()
		segs = append(segs, seg)
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i] < segs[j] })
	q.ack = q.readCursor()
	if len(segs) > 0 && q.ack.Seg < segs[0] {
		q.ack = Pos{Seg: segs[0]}
	}
	// Segments wholly before the cursor were stored; a crash came before
	// their deletion.
	for _, s := range segs {
		if s < q.ack.Seg {
			os.Remove(q.segPath(s))
			delete(q.sizes, s)
		}
	}
	if len(segs) == 0 {
		q.tailSeg = max(q.ack.Seg, 1)
		q.ack = Pos{Seg: q.tailSeg}
	} else {
		q.tailSeg = segs[len(segs)-1]
		if q.ack.Seg > q.tailSeg {
			q.tailSeg = q.ack.Seg
		}
		if err := q.repairTail(); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(q.segPath(q.tailSeg), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("ingest: open segment: %w", err)
	}
	q.tail = f
	if _, ok := q.sizes[q.tailSeg]; !ok {
		q.sizes[q.tailSeg] = 0
	}
	if q.ack.Seg == q.tailSeg && q.ack.Off > q.sizes[q.tailSeg] {
		q.ack.Off = q.sizes[q.tailSeg]
	}
	q.recount()
	return nil
}

// repairTail truncates the last segment after its last whole frame.
func (q *Queue) repairTail() error {
	path := q.segPath(q.tailSeg)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("ingest: %w", err)
	}
	defer f.Close()
	size := q.sizes[q.tailSeg]
	var off int64
	for off < size {
		n, err := frameAt(f, off, size)
		if err != nil {
			break
		}
		off += n
	}
	if off < size {
		q.log.Warn("incident queue: cut a partial record off the last segment", "segment", path, "bytes", size-off)
		if err := f.Truncate(off); err != nil {
			return fmt.Errorf("ingest: repair segment: %w", err)
		}
		q.sizes[q.tailSeg] = off
	}
	return nil
}

// frameAt checks the frame at off and returns its whole length.
func frameAt(f *os.File, off, end int64) (int64, error) {
	var h [headerBytes]byte
	if end-off < headerBytes {
		return 0, io.ErrUnexpectedEOF
	}
	if _, err := f.ReadAt(h[:], off); err != nil {
		return 0, err
	}
	n := int64(binary.BigEndian.Uint32(h[:4]))
	if n > MaxRecord || end-off-headerBytes < n {
		return 0, io.ErrUnexpectedEOF
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, off+headerBytes); err != nil {
		return 0, err
	}
	if crc32.Checksum(buf, crcTable) != binary.BigEndian.Uint32(h[4:]) {
		return 0, errors.New("checksum mismatch")
	}
	return headerBytes + n, nil
}

func (q *Queue) readCursor() Pos {
	b, err := os.ReadFile(filepath.Join(q.dir, "cursor"))
	if err != nil {
		return Pos{}
	}
	var p Pos
	if _, err := fmt.Sscanf(string(b), "%d %d", &p.Seg, &p.Off); err != nil || p.Off < 0 {
		// A cursor lost to a crash: replay from the first segment; the
		// store skips what it has.
		return Pos{}
	}
	return p
}

// Append adds one record. It never blocks on anything but the local
// write(2); the record is fsynced within the flush interval.
func (q *Queue) Append(data []byte) error {
	if len(data) > MaxRecord {
		return ErrTooLarge
	}
	frame := make([]byte, headerBytes+len(data))
	binary.BigEndian.PutUint32(frame[:4], uint32(len(data)))
	binary.BigEndian.PutUint32(frame[4:8], crc32.Checksum(data, crcTable))
	copy(frame[headerBytes:], data)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errors.New("ingest: queue closed")
	}
	if q.held+int64(len(frame)) > q.max {
		return ErrFull
	}
	if q.sizes[q.tailSeg] >= q.segBytes {
		if err := q.rotate(); err != nil {
			return err
		}
	}
	if _, err := q.tail.Write(frame); err != nil {
		// A short write leaves a torn frame: cut it so that the next
		// record starts on a frame boundary.
		q.tail.Truncate(q.sizes[q.tailSeg])
		return fmt.Errorf("ingest: append: %w", err)
	}
	q.sizes[q.tailSeg] += int64(len(frame))
	q.held += int64(len(frame))
	q.dirty = true
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return nil
}

// rotate closes the tail segment (fsynced) and starts the next one.
func (q *Queue) rotate() error {
	if err := q.tail.Sync(); err != nil {
		return fmt.Errorf("ingest: sync segment: %w", err)
	}
	q.tail.Close()
	q.dirty = false
	next := q.tailSeg + 1
	f, err := os.OpenFile(q.segPath(next), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		// Keep appending to the old segment rather than lose records.
		f2, err2 := os.OpenFile(q.segPath(q.tailSeg), os.O_WRONLY|os.O_APPEND, 0o640)
		if err2 == nil {
			q.tail = f2
		}
		return fmt.Errorf("ingest: new segment: %w", err)
	}
	q.tail, q.tailSeg = f, next
	q.sizes[next] = 0
	syncDir(q.dir)
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Sync fsyncs the records appended since the last sync.
func (q *Queue) Sync() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.dirty || q.tail == nil {
		return nil
	}
	q.dirty = false
	return q.tail.Sync()
}

func (q *Queue) syncLoop(interval time.Duration) {
	defer close(q.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-q.stop:
			return
		case <-t.C:
			if err := q.Sync(); err != nil {
				q.log.Error("incident queue: sync", "error", err)
			}
		}
	}
}

// Ready is signalled after an append.
func (q *Queue) Ready() <-chan struct{} { return q.ready }

// Start is the position of the first record not acknowledged.
func (q *Queue) Start() Pos {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ack
}

// Bytes is what the queue holds on disk past the acknowledged position.
func (q *Queue) Bytes() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.held
}

// Corrupt counts the records skipped because their checksum failed.
func (q *Queue) Corrupt() int64 {
	q.rmu.Lock()
	defer q.rmu.Unlock()
	return q.corrupt
}

// Read returns up to n records from position from on, in order. It is
// for one consumer at a time.
func (q *Queue) Read(from Pos, n int) ([]Entry, error) {
	q.rmu.Lock()
	defer q.rmu.Unlock()
	var out []Entry
	for len(out) < n {
		q.mu.Lock()
		end, known := q.sizes[from.Seg]
		last := from.Seg >= q.tailSeg
		q.mu.Unlock()
		if !known || from.Off >= end {
			if last {
				return out, nil
			}
			from = Pos{Seg: from.Seg + 1}
			continue
		}
		if q.rf == nil || q.rfSeg != from.Seg {
			if q.rf != nil {
				q.rf.Close()
				q.rf = nil
			}
			f, err := os.Open(q.segPath(from.Seg))
			if err != nil {
				return out, fmt.Errorf("ingest: open segment: %w", err)
			}
			q.rf, q.rfSeg = f, from.Seg
		}
		if end-from.Off < headerBytes {
			// Only a failed append whose cut failed too leaves this.
			q.skipSegment(&from, end, "torn frame header")
			continue
		}
		var h [headerBytes]byte
		if _, err := q.rf.ReadAt(h[:], from.Off); err != nil {
			return out, fmt.Errorf("ingest: read segment: %w", err)
		}
		ln := int64(binary.BigEndian.Uint32(h[:4]))
		if ln > MaxRecord || from.Off+headerBytes+ln > end {
			q.skipSegment(&from, end, "bad length")
			continue
		}
		data := make([]byte, ln)
		if _, err := q.rf.ReadAt(data, from.Off+headerBytes); err != nil {
			return out, fmt.Errorf("ingest: read segment: %w", err)
		}
		if crc32.Checksum(data, crcTable) != binary.BigEndian.Uint32(h[4:]) {
			q.skipSegment(&from, end, "checksum mismatch")
			continue
		}
		from.Off += headerBytes + ln
		out = append(out, Entry{Data: data, End: from})
	}
	return out, nil
}

// skipSegment gives up on the rest of a damaged segment: without a valid
// length the next frame cannot be found. It is logged and counted.
func (q *Queue) skipSegment(p *Pos, end int64, why string) {
	q.corrupt++
	q.log.Error("incident queue: damaged segment, skipping its rest", "segment", q.segPath(p.Seg), "offset", p.Off, "bytes", end-p.Off, "reason", why)
	p.Off = end
}

// Ack records that every record before p is stored: the cursor moves
// there and wholly consumed segments are deleted.
func (q *Queue) Ack(p Pos) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.ack.less(p) {
		return nil
	}
	tmp := filepath.Join(q.dir, "cursor.tmp")
	if err := os.WriteFile(tmp, []byte(fmt.Sprintf("%d %d\n", p.Seg, p.Off)), 0o640); err != nil {
		return fmt.Errorf("ingest: write cursor: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(q.dir, "cursor")); err != nil {
		return fmt.Errorf("ingest: write cursor: %w", err)
	}
	// The cursor is not fsynced: losing it replays records the store
	// already has, which it skips.
	for s := range q.sizes {
		if s < p.Seg && s != q.tailSeg {
			os.Remove(q.segPath(s))
			delete(q.sizes, s)
		}
	}
	q.ack = p
	q.recount()
	return nil
}

// recount sets held from the segment sizes and the cursor.
func (q *Queue) recount() {
	q.held = -q.ack.Off
	for s, n := range q.sizes {
		if s >= q.ack.Seg {
			q.held += n
		}
	}

}

// Close fsyncs and closes the queue and releases the directory.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	q.mu.Unlock()
	close(q.stop)
	<-q.done
	q.mu.Lock()
	err := q.tail.Sync()
	q.tail.Close()
	q.mu.Unlock()
	q.rmu.Lock()
	if q.rf != nil {
		q.rf.Close()
		q.rf = nil
	}
	q.rmu.Unlock()
	q.unlock()
	return err
}
