package milter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

// blockSize is the size of the pooled blocks that hold a message.
const blockSize = 32 << 10

var blockPool = sync.Pool{New: func() any { b := make([]byte, 0, blockSize); return &b }}

// scan is one message: header fields and body chunks are held in pooled
// blocks while the MTA sends them, and the engine evaluates them at end of
// message. The engine reads the whole message into memory before it
// parses it, so holding it here first costs no memory beyond the engine's
// own max_message_bytes: past max_message_bytes (plus one byte, so that
// the engine sees the message is too large) the rest is counted and
// dropped. The engine then gets the message in one piece, knows its size
// up front, and is never waited for while the MTA sends; the MTA is never
// blocked by the engine. The blocks go back to the pool as the engine
// reads them.
type scan struct {
	blocks []*[]byte // held message bytes; owned by the engine once started
	mem    int64     // bytes in blocks
	memMax int64     // limits.spill_bytes: past it, bytes go to sp
	dir    string    // limits.spill_dir
	sp     *spill    // the rest of the message; owned by the engine once started
	held   int64     // bytes held (blocks and sp)
	max    int64     // hold at most this many
	total  int64     // bytes of the message received from the MTA

	spillErr error // the spill file could not be created

	// nul: the message holds a NUL byte, which mail text may not carry
	// (RFC 5322 section 3.5, RFC 2045 sections 2.7 and 2.8).
	nul bool

	cancel   context.CancelFunc
	done     chan struct{} // closed when Evaluate has returned; nil before EOM
	admitted atomic.Bool   // the scan got its slot and started
	verdict  action.Verdict
	stack    []byte // of a recovered panic
}

// newScan holds a message for eng, up to eng's max_message_bytes + 1,
// the first spill_bytes of it in memory.
func newScan(eng engine) *scan {
	sc := &scan{max: maxMessageBytes(eng) + 1, memMax: config.DefaultSpillBytes}
	if c := eng.Config(); c != nil {
		if c.Limits.SpillBytes > 0 {
			sc.memMax = int64(c.Limits.SpillBytes)
		}
		sc.dir = c.Limits.SpillDir
	}
	return sc
}

// room is how many of n more bytes are held (the rest is counted and
// dropped past max).
func (sc *scan) room(n int) int {
	if sc.done != nil {
		return 0
	}
	return int(min(int64(n), sc.max-sc.held))
}

// write holds message bytes, or counts and drops them past the limit.
func (sc *scan) write(p []byte) {
	if !sc.nul && bytes.IndexByte(p, 0) >= 0 {
		sc.nul = true
	}
	hold(sc, p)
}

func (sc *scan) writeString(s string) {
	if !sc.nul && strings.IndexByte(s, 0) >= 0 {
		sc.nul = true
	}
	hold(sc, s)
}

// hold is the rest of write for bytes and strings alike (header fields
// arrive as strings, body chunks as bytes), without converting either.
func hold[T []byte | string](sc *scan, p T) {
	sc.total += int64(len(p))
	p = p[:sc.room(len(p))]
	sc.held += int64(len(p))
	for len(p) > 0 && sc.mem < sc.memMax {
		b := sc.tail()
		n := int(min(int64(min(len(p), cap(*b)-len(*b))), sc.memMax-sc.mem))
		*b = append(*b, p[:n]...)
		sc.mem += int64(n)
		p = p[n:]
	}
	if len(p) > 0 && sc.spill() != nil {
		spillWrite(sc.sp, p)
	}
}

// spill is the message's spill file, created at its first use; nil (and
// spillErr set) when it cannot be created.
func (sc *scan) spill() *spill {
	if sc.sp == nil && sc.spillErr == nil {
		sc.sp, sc.spillErr = newSpill(sc.dir)
	}
	return sc.sp
}

// failed is why the message could not be held whole: the spill file
// could not be created or written. The message is then not scanned.
func (sc *scan) failed() error {
	if sc.spillErr != nil {
		return sc.spillErr
	}
	if sc.sp != nil {
		return sc.sp.err
	}
	return nil
}

// tail is the last block with room, taken from the pool when needed.
func (sc *scan) tail() *[]byte {
	if n := len(sc.blocks); n > 0 {
		if b := sc.blocks[n-1]; len(*b) < cap(*b) {
			return b
		}
	}
	b := blockPool.Get().(*[]byte)
	*b = (*b)[:0]
	sc.blocks = append(sc.blocks, b)
	return b
}

// errTimeout reports that the verdict did not come within the deadline;
// errNoSlot that the scan did not even get a slot (max_concurrent_scans)
// within it.
var (
	errTimeout = errors.New("timeout")
	errNoSlot  = errors.New("no scan slot")
)

// start runs eng.Evaluate on the held message in a goroutine tracked by wg,
// once it has a slot of slots. From here on the blocks belong to that
// goroutine, and the slot is given back only when Evaluate has returned:
// a scan the session stopped waiting for still holds it.
func (sc *scan) start(eng engine, env policy.Envelope, wg *sync.WaitGroup, slots *policy.Slots) {
	ctx, r := sc.begin()
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(sc.done)
		if err := slots.Acquire(ctx); err != nil {
			r.release()
			sc.verdict = action.Verdict{Err: fmt.Errorf("%w: %w", ErrOverload, err)}
			return
		}
		defer slots.Release()
		sc.evaluate(ctx, eng, env, r)
	}()
}

// begin hands the held message over to a reader for the engine.
func (sc *scan) begin() (context.Context, *bodyReader) {
	ctx, cancel := context.WithCancel(context.Background())
	sc.cancel = cancel
	sc.done = make(chan struct{})
	r := &bodyReader{blocks: sc.blocks, left: sc.held, sp: sc.sp}
	sc.blocks, sc.sp = nil, nil
	return ctx, r
}

// evaluate runs the engine on r with a slot held; a panic becomes the
// verdict's error.
func (sc *scan) evaluate(ctx context.Context, eng engine, env policy.Envelope, r *bodyReader) {
	defer r.release()
	sc.admitted.Store(true)
	defer func() {
		if rec := recover(); rec != nil {
			sc.stack = debug.Stack()
			sc.verdict = action.Verdict{Err: fmt.Errorf("%w: panic: %v", ErrEngine, rec)}
		}
	}()
	sc.verdict = eng.Evaluate(ctx, policy.Message{Envelope: env, Body: r})
}

// finish starts the engine on the held message and waits for the verdict,
// sending PROGRESS to the MTA every progress interval. After timeout it
// cancels the scan and returns errTimeout (errNoSlot when the scan was
// still waiting for a slot); a failed PROGRESS write (the MTA is gone)
// returns that error.
//
// A message held in memory (at most spill_bytes) is scanned in the
// calling goroutine when a slot is free right now (see inline); late then
// gives the answer the MTA gets at timeout, and errAnswered says it was
// sent. Any other message, or one that would wait for a slot, is scanned
// in a goroutine of its own while this one waits.
func (sc *scan) finish(m gomilter.Modifier, eng engine, env policy.Envelope, wg *sync.WaitGroup, slots *policy.Slots, timeout, progress time.Duration, late func() *gomilter.Response) (action.Verdict, error) {
	if a, ok := m.(answerer); ok && sc.sp == nil && slots.TryAcquire() {
		return sc.inline(a, eng, env, slots, timeout, progress, late)
	}
	sc.start(eng, env, wg, slots)
	// Most verdicts come before the first PROGRESS is due: no timers then.
	select {
	case <-sc.done:
		sc.cancel()
		return sc.verdict, nil
	default:
	}
	var tick <-chan time.Time
	if progress > 0 && m.Version() >= 6 {
		t := time.NewTicker(progress)
		defer t.Stop()
		tick = t.C
	}
	var expire <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expire = t.C
	}
	for {
		select {
		case <-sc.done:
			sc.cancel()
			return sc.verdict, nil
		case <-tick:
			if err := m.Progress(); err != nil {
				sc.abort()
				return action.Verdict{}, err
			}
		case <-expire:
			sc.abort()
			if !sc.admitted.Load() {
				return action.Verdict{}, errNoSlot
			}
			return action.Verdict{}, errTimeout
		}
	}
}

// abort cancels the scan: a running engine sees a cancelled context and
// returns; its goroutine is tracked by the server. A message that never
// reached the engine gives its blocks back.
func (sc *scan) abort() {
	if sc.done == nil {
		release(sc.blocks)
		sc.blocks = nil
		sc.sp.close()
		sc.sp = nil
		sc.done = make(chan struct{})
		close(sc.done)
		return
	}
	sc.cancel()
}

func release(blocks []*[]byte) {
	for _, b := range blocks {
		*b = (*b)[:0]
		blockPool.Put(b)
	}
}

// bodyReader reads the held message, its blocks and then its spill file,
// and gives each block back to the pool once it has been read.
type bodyReader struct {
	blocks []*[]byte
	off    int   // read offset in blocks[0]
	left   int64 // unread bytes
	sp     *spill
	file   io.Reader // sp from its start, once the blocks are read
}

func (r *bodyReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	if len(r.blocks) == 0 && r.sp != nil {
		return r.readFile(p)
	}
	n := 0
	for n < len(p) && len(r.blocks) > 0 {
		b := *r.blocks[0]
		c := copy(p[n:], b[r.off:])
		n += c
		r.off += c
		if r.off == len(b) {
			release(r.blocks[:1])
			r.blocks[0] = nil
			r.blocks = r.blocks[1:]
			r.off = 0
		}
	}
	r.left -= int64(n)
	return n, nil
}

// readFile reads the spill file; it ends where the held bytes end.
func (r *bodyReader) readFile(p []byte) (int, error) {
	if r.file == nil {
		f, err := r.sp.reader()
		if err != nil {
			return 0, err
		}
		r.file = f
	}
	n, err := r.file.Read(p[:min(int64(len(p)), r.left)])
	r.left -= int64(n)
	if err == io.EOF && r.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Len is the number of unread bytes (the engine sizes its buffer with it).
func (r *bodyReader) Len() int { return int(r.left) }

// release gives back the blocks the engine did not read.
func (r *bodyReader) release() {
	release(r.blocks)
	r.blocks = nil
	r.sp.close()
	r.sp = nil
	r.left = 0
}

// maxMessageBytes is eng's limits.max_message_bytes.
func maxMessageBytes(eng engine) int64 {
	if c := eng.Config(); c != nil && c.Limits.MaxMessageBytes > 0 {
		return int64(c.Limits.MaxMessageBytes)
	}
	return config.DefaultMaxMessageBytes
}
