package milter

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

// recoveredPanics counts panics recovered in sessions and scans; tests
// fail when one happens that they did not provoke.
var recoveredPanics atomic.Int64

var (
	errScanAborted = errors.New("milter: message aborted by the MTA")
	errStalled     = errors.New("milter: engine stopped reading")
)

// scan is one message being evaluated while the MTA sends it: header
// fields and body chunks are written into a pipe that the engine reads in
// its own goroutine, so memory is bounded by the engine's limits and not
// by the message size. When the engine stops reading (it has decided, or a
// limit stopped extraction) the rest of the message is drained and dropped:
// the MTA is never blocked by a finished scan.
type scan struct {
	pr      *io.PipeReader
	pw      *io.PipeWriter
	bw      *bufio.Writer
	cancel  context.CancelFunc
	done    chan struct{} // closed when Evaluate has returned
	flushed chan struct{} // closed when the end-of-message flush is over

	// watchdog closes the pipe when a single write blocks longer than the
	// scan deadline (an engine that neither reads nor returns).
	watchdog *time.Timer
	deadline time.Duration

	verdict action.Verdict // set before done is closed
	stack   []byte         // of a recovered panic

	total   int64 // bytes of the message received from the MTA
	dead    bool  // the engine no longer reads: drain
	closed  bool  // writer closed (end of message or abort)
	stalled atomic.Bool
}

var bufPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

// startScan starts eng.Evaluate on a pipe in a new goroutine tracked by wg.
func startScan(eng engine, env policy.Envelope, deadline time.Duration, wg *sync.WaitGroup) *scan {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	sc := &scan{pr: pr, pw: pw, cancel: cancel, done: make(chan struct{}), deadline: deadline}
	sc.bw = bufPool.Get().(*bufio.Writer)
	sc.bw.Reset(watchedWriter{sc})
	sc.watchdog = time.AfterFunc(time.Hour, func() {
		sc.stalled.Store(true)
		pr.CloseWithError(errStalled)
	})
	sc.watchdog.Stop()
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(sc.done)
		defer func() {
			if r := recover(); r != nil {
				recoveredPanics.Add(1)
				sc.stack = debug.Stack()
				sc.verdict = action.Verdict{Err: fmt.Errorf("%w: panic: %v", ErrEngine, r)}
			}
			// Unblock the writer: from now on chunks are drained.
			pr.CloseWithError(io.ErrClosedPipe)
		}()
		sc.verdict = eng.Evaluate(ctx, policy.Message{Envelope: env, Body: pr})
	}()
	return sc
}

// watchedWriter writes to the pipe with the watchdog armed.
type watchedWriter struct{ sc *scan }

func (w watchedWriter) Write(p []byte) (int, error) {
	if w.sc.deadline > 0 {
		w.sc.watchdog.Reset(w.sc.deadline)
		defer w.sc.watchdog.Stop()
	}
	return w.sc.pw.Write(p)
}

// write hands message bytes to the engine, or drops them once the engine
// has stopped reading.
func (sc *scan) write(p []byte) {
	sc.total += int64(len(p))
	if sc.dead || sc.closed {
		return
	}
	if _, err := sc.bw.Write(p); err != nil {
		sc.dead = true
	}
}

func (sc *scan) writeString(s string) {
	sc.total += int64(len(s))
	if sc.dead || sc.closed {
		return
	}
	if _, err := sc.bw.WriteString(s); err != nil {
		sc.dead = true
	}
}

// flush pushes buffered header fields to the engine (at end of header).
func (sc *scan) flush() {
	if sc.dead || sc.closed {
		return
	}
	if err := sc.bw.Flush(); err != nil {
		sc.dead = true
	}
}

// errTimeout reports that the verdict did not come within the deadline.
var errTimeout = errors.New("timeout")

// finish ends the message and waits for the verdict, sending PROGRESS to
// the MTA every progress interval. After timeout it cancels the scan and
// returns errTimeout; a failed PROGRESS write (the MTA is gone) returns
// that error.
func (sc *scan) finish(m gomilter.Modifier, timeout, progress time.Duration) (action.Verdict, error) {
	if !sc.closed {
		sc.closed = true
		dead := sc.dead
		// Flushing may block until the engine reads; do it aside so that
		// the deadline and the keep-alive below still apply.
		sc.flushed = make(chan struct{})
		go func() {
			defer close(sc.flushed)
			if !dead {
				_ = sc.bw.Flush()
			}
			sc.pw.Close()
		}()
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
			// The engine closed its end: the flush returns at once.
			if sc.flushed != nil {
				<-sc.flushed
			}
			sc.release()
			if sc.stalled.Load() {
				return sc.verdict, errTimeout
			}
			return sc.verdict, nil
		case <-tick:
			if err := m.Progress(); err != nil {
				sc.abort()
				return action.Verdict{}, err
			}
		case <-expire:
			sc.abort()
			return action.Verdict{}, errTimeout
		}
	}
}

// abort cancels the scan: the engine sees a cancelled context and a
// broken pipe and returns; its goroutine is tracked by the server.
func (sc *scan) abort() {
	sc.cancel()
	sc.pr.CloseWithError(errScanAborted)
	sc.pw.CloseWithError(errScanAborted)
	sc.watchdog.Stop()
	sc.closed = true
	// The buffer may still be in use by a flush in flight: let it go to
	// the garbage collector instead of the pool.
}

// release returns resources after the engine has finished.
func (sc *scan) release() {
	sc.cancel()
	sc.watchdog.Stop()
	if sc.bw != nil {
		bw := sc.bw
		sc.bw = nil
		bw.Reset(nil)
		bufPool.Put(bw)
	}
}
