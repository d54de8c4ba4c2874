package milter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

// A scan the connection goroutine runs itself.
//
// Most messages are small and their scan takes a fraction of a
// millisecond: handing it to a goroutine of its own and waiting for it on
// a channel costs a goroutine start, a stack grown again for the engine,
// and two scheduler wake-ups per message, on the order of the protocol
// path's own cost. So when a scan slot is free right now and the message
// is held in memory (at most [limits] spill_bytes: the engine reads it
// without touching a file), the connection goroutine calls the engine
// itself; a larger message, or one that must wait for a slot, keeps the
// goroutine of its own (start and finish in scan.go).
//
// Size does not bound a scan's time: a small hostile message (nested
// archives up to max_decompressed_bytes) can keep the engine busy until
// its own scan deadline. So the inline scan keeps both promises of the
// other path, from a timer that starts a goroutine only for a scan that
// is still running after the first progress interval (or the timeout):
// PROGRESS every progress interval, and at the timeout the scan is
// cancelled and the MTA gets the on_timeout answer at once, even from an
// engine that does not look at its context. The connection goroutine
// then goes on when the engine returns (a cancelled scan stops within
// milliseconds), still holding its slot until then, as an abandoned scan
// in its own goroutine would.

// answerer is the connection as an inline scan needs it: a Modifier that
// can also write a final response while its goroutine is in the engine.
type answerer interface {
	gomilter.Modifier
	answer(resp *gomilter.Response) error
}

// errAnswered reports that the answer at the timeout was sent to the MTA
// while the engine still ran; respAnswered is the response that says so
// to the session loop (nothing more is written for the message).
var (
	errAnswered  = errors.New("milter: answered at the scan deadline")
	respAnswered = &gomilter.Response{}
)

// watch looks after an inline scan from a timer.
type watch struct {
	a                 answerer
	cancel            context.CancelFunc
	late              func() *gomilter.Response
	start             time.Time
	timeout, progress time.Duration

	mu       sync.Mutex // the timer's goroutine writes to the MTA only under mu
	done     bool       // the engine returned: the connection goroutine goes on
	answered bool       // the timeout answer was sent
	err      error      // a write to the MTA failed
	stop     chan struct{}
}

// inline runs eng.Evaluate in the calling goroutine with the slot the
// caller took; see the comment at the top of this file.
func (sc *scan) inline(a answerer, eng engine, env policy.Envelope, slots *policy.Slots, timeout, progress time.Duration, late func() *gomilter.Response) (action.Verdict, error) {
	ctx, r := sc.begin()
	w := &watch{a: a, cancel: sc.cancel, late: late, start: time.Now(), timeout: timeout}
	if progress > 0 && a.Version() >= 6 {
		w.progress = progress
	}
	var t *time.Timer
	if first := w.next(0); first > 0 {
		t = time.AfterFunc(first, w.run)
	}
	sc.evaluate(ctx, eng, env, r)
	slots.Release()
	close(sc.done)
	if t != nil && !t.Stop() {
		w.mu.Lock()
		w.done = true
		if w.stop != nil {
			close(w.stop)
		}
		answered, err := w.answered, w.err
		w.mu.Unlock()
		switch {
		case answered:
			return action.Verdict{}, errAnswered
		case err != nil:
			return action.Verdict{}, err
		}
	}
	sc.cancel()
	return sc.verdict, nil
}

// next is how long after elapsed the timer has something to do: the next
// PROGRESS or the timeout, whichever comes first (0: nothing).
func (w *watch) next(elapsed time.Duration) time.Duration {
	var d time.Duration
	if w.progress > 0 {
		d = w.progress - elapsed%w.progress
	}
	if w.timeout > 0 && (d == 0 || w.timeout-elapsed < d) {
		d = max(w.timeout-elapsed, time.Nanosecond)
	}
	return d
}

// run is the timer's goroutine: PROGRESS while the engine runs, and the
// answer at the timeout.
func (w *watch) run() {
	w.mu.Lock()
	if w.done {
		w.mu.Unlock()
		return
	}
	w.stop = make(chan struct{})
	w.mu.Unlock()
	for {
		if !w.tick() {
			return
		}
		t := time.NewTimer(w.next(time.Since(w.start)))
		select {
		case <-w.stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// tick does what is due; false when nothing more is to be done.
func (w *watch) tick() (more bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return false
	}
	if w.timeout > 0 && time.Since(w.start) >= w.timeout {
		w.cancel()
		defer func() {
			// late recovers its own panics; one in its recovery ends the
			// connection (the MTA applies its default) rather than the
			// process.
			if r := recover(); r != nil {
				w.err = fmt.Errorf("%w: panic: %v", ErrEngine, r)
			}
		}()
		resp := w.late()
		if resp == nil || resp.Continue() {
			resp = gomilter.RespAccept
		}
		w.err = w.a.answer(resp)
		w.answered = w.err == nil
		return false
	}
	if w.progress > 0 {
		if err := w.a.Progress(); err != nil {
			w.err = err
			w.cancel()
			return false
		}
	}
	return true
}
