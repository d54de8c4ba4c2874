package reinject

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

// Failure causes recorded in report.Decision.Err (errors.Is works).
var (
	// ErrScanTimeout: the verdict did not come within scan_timeout.
	ErrScanTimeout = errors.New("reinject: scan deadline exceeded")
	// ErrNUL: the message was refused for a NUL byte.
	ErrNUL = errors.New("reinject: NUL byte in message data")
)

// receive reads the message into memory, bounded by max_message_bytes
// (the DATA reader enforces it as the bytes arrive), and checks its line
// ends and that it holds no NUL byte.
func (ss *session) receive(dr *dotReader) (*message, error) {
	reject := ss.s.cfg.BareNewline == config.BareNewlineReject
	// With reject, the DATA reader notes bare CR/LF on the raw bytes
	// (checked below); with normalise, they are rewritten before anyone
	// sees the message.
	var nr io.Reader = dr
	if !reject {
		nr = newNewlineReader(dr, false)
	}
	memMax, dir := spillSettings(ss.eng)
	msg := newMessage(memMax, dir)
	nul := false
	var readErr error
	for {
		buf, err := msg.space()
		if err != nil {
			readErr = err
			break
		}
		n, err := nr.Read(buf)
		if n > 0 {
			if !nul && bytes.IndexByte(buf[:n], 0) >= 0 {
				nul = true
			}
			msg.grow(n)
		}
		if msg.size > int64(ss.s.cfg.MaxMessageBytes) {
			// Normalising can make the message larger than what the DATA
			// reader bounds: stop holding it at the limit.
			readErr = errDataTooLarge
			break
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
	}
	if err := msg.done(); readErr == nil && err != nil {
		readErr = err
	}
	if readErr == nil && msg.size > int64(ss.s.cfg.MaxMessageBytes) {
		readErr = errDataTooLarge
	}
	if readErr == nil && reject && dr.bare {
		readErr = errBareNewline
	}
	if readErr == nil && nul {
		// NUL is not allowed in mail text (RFC 5322 section 3.5; RFC 2045
		// sections 2.7 and 2.8): refused for good, so that it neither
		// comes back on every retry nor passes unread.
		readErr = ErrNUL
	}
	if readErr != nil {
		msg.release()
		return nil, readErr
	}
	// Normalising can make a line start where the DATA reader saw none.
	msg.plain = reject && !dr.bare && !dr.dots
	return msg, nil
}

// spillSettings are the engine's [limits] spill_bytes and spill_dir,
// shared with the milter.
func spillSettings(eng Evaluator) (int64, string) {
	if c, ok := eng.(interface{ Config() *config.Config }); ok {
		if cfg := c.Config(); cfg != nil {
			n := int64(cfg.Limits.SpillBytes)
			if n <= 0 {
				n = config.DefaultSpillBytes
			}
			return n, cfg.Limits.SpillDir
		}
	}
	return config.DefaultSpillBytes, ""
}

// scan runs the engine on msg once it has a scan slot, and waits for the
// verdict until scan_timeout. At the deadline it cancels the scan and
// returns ErrScanTimeout, or policy.ErrNoSlot when the scan was still
// waiting for a slot; the scan keeps its slot and its reference to msg
// until it has returned.
func (ss *session) scan(msg *message, env policy.Envelope) (action.Verdict, error) {
	eng := ss.eng
	timeout := ss.s.scanTimeout(eng)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var admitted atomic.Bool
	vch := make(chan action.Verdict, 1)
	msg.hold()
	slots := ss.s.slots
	go func() {
		defer msg.release()
		if err := slots.Acquire(ctx); err != nil {
			vch <- action.Verdict{Err: err}
			return
		}
		defer slots.Release()
		admitted.Store(true)
		defer func() {
			if p := recover(); p != nil {
				ss.s.logPanic(env, "reinject", p, debug.Stack())
				vch <- action.Verdict{Action: action.TempFail, Err: fmt.Errorf("reinject: engine panic: %s", oneLine(p))}
			}
		}()
		vch <- eng.Evaluate(ctx, policy.Message{Envelope: env, Body: msg.reader()})
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case v := <-vch:
		ss.s.logEnginePanic(env, v.Err)
		return v, nil
	case <-t.C:
		cancel()
		if !admitted.Load() {
			return action.Verdict{}, fmt.Errorf("%w within scan_timeout (%s)", policy.ErrNoSlot, timeout)
		}
		return action.Verdict{}, fmt.Errorf("%w (%s)", ErrScanTimeout, timeout)
	}
}

// logPanic logs a recovered panic in one line at error level, with its
// stack at debug level only (an incident or a warning carries no stack),
// and counts it in maildlp_panics_total by component.
func (s *Server) logPanic(env policy.Envelope, component string, p any, stack []byte) {
	s.metrics.Panic(component)
	s.log.Error("recovered panic", "session_id", env.SessionID, "queue_id", env.QueueID, "panic_in", component, "panic", oneLine(p))
	s.log.Debug("recovered panic stack", "session_id", env.SessionID, "queue_id", env.QueueID, "stack", string(stack))
}

// logEnginePanic logs and counts a panic the engine recovered itself
// (err is or wraps a *policy.PanicError).
func (s *Server) logEnginePanic(env policy.Envelope, err error) {
	var pe *policy.PanicError
	if errors.As(err, &pe) {
		s.logPanic(env, "engine", pe.Value, pe.Stack)
	}
}

// oneLine is a panic value as one line of text.
func oneLine(p any) string { return strings.Join(strings.Fields(fmt.Sprint(p)), " ") }
