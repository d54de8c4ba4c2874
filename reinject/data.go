package reinject

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/quarantine/holdmark"
	"github.com/maildlp/maildlp/report"
)

// data answers DATA: 354, the message read to its end, the verdict, and
// the downstream's reply to the message or the hop's refusal. inStep is
// false when the connection cannot go on (a read error or timeout in the
// middle of the data: what follows is never taken for commands).
func (ss *session) data() (a answer, inStep bool) {
	if ss.down == nil {
		return ss.own(action.HopFailed), true
	}
	ss.c.writeLines(354, "End data with <CR><LF>.<CR><LF>")
	if err := ss.c.flush(); err != nil {
		ss.endTx()
		return answer{}, false
	}
	start := time.Now()
	cfg := ss.s.cfg
	dr := newDotReader(ss.c.br, ss.c.tr, int(cfg.MaxLineLength), int64(cfg.MaxMessageBytes),
		cfg.Timeouts.Data.D(), cfg.Timeouts.DataIdle.D())
	env := ss.envelope()
	log := ss.s.log.With("session_id", env.SessionID, "queue_id", env.QueueID)

	msg, readErr := ss.receive(dr)
	inStep = dr.drain()
	if readErr != nil {
		ss.endTx()
		switch {
		case errors.Is(readErr, errBareNewline):
			log.Warn("message refused: bare CR or LF in data")
			return ss.own(action.BareNewline), inStep
		case errors.Is(readErr, ErrNUL):
			log.Warn("message refused: NUL byte in message data")
			ss.s.rec.Record(report.Decision{Frontend: "reinject", Envelope: env,
				Verdict: action.Verdict{Action: action.Block}, Applied: action.Block,
				Duration: time.Since(start), Err: ErrNUL})
			return ss.own(action.NULRefused), inStep
		case errors.Is(readErr, ErrSpill):
			// Never a partial scan, never a message lost: the client
			// keeps it and tries again.
			log.Error("message deferred: it could not be held", "err", readErr.Error())
			a := ss.own(action.ScanFailed)
			ss.s.rec.Record(report.Decision{Frontend: "reinject", Envelope: env,
				Verdict: action.Verdict{Action: action.TempFail}, Applied: action.TempFail,
				Duration: time.Since(start), Err: readErr, Reply: &a.own})
			return a, inStep
		case errors.Is(readErr, errDataTooLarge):
			return ss.own(action.MessageTooBig), inStep
		case errors.Is(readErr, errDataLineTooLong):
			return ss.own(action.DataLineLong), inStep
		}
		var ne net.Error
		if errors.As(readErr, &ne) && ne.Timeout() {
			log.Warn("timeout while receiving the message")
			return ss.own(action.DataTimeout), false
		}
		log.Warn("error while receiving the message", "err", readErr.Error())
		return ss.own(action.DataReadError), false
	}
	defer msg.release()

	v, scanErr := action.Verdict{Err: ss.envErr}, error(nil)
	if ss.envErr == nil {
		v, scanErr = ss.scan(msg, env)
	}
	d := report.Decision{Frontend: "reinject", Envelope: env, Verdict: v, Applied: v.Action}
	act := v.Action
	failed := false
	switch {
	case scanErr != nil:
		outcome := ss.s.fail.OnTimeout
		if errors.Is(scanErr, policy.ErrNoSlot) {
			outcome = ss.s.fail.OnOverload
		}
		log.Warn("failure outcome applied", "outcome", outcome, "cause", scanErr.Error())
		act, failed = outcome.Action(), true
		d.Err = scanErr
	case v.Err != nil:
		outcome := ss.s.fail.OnError
		if errors.Is(v.Err, context.DeadlineExceeded) {
			outcome = ss.s.fail.OnTimeout
		}
		act, failed = outcome.Action(), true
		d.Err = v.Err
	}
	act, a = ss.apply(act, failed, v, msg, &d)
	if a.raw == nil {
		d.Reply = &a.own // the hop's own refusal, as sent
	}
	d.Applied = act
	d.Duration = time.Since(start)
	ss.s.rec.Record(d)
	ss.endTx()
	return a, inStep
}

var (
	errPassHeaderFound = errors.New("reinject: incoming pass header")
	errPassHeaderFlood = errors.New("reinject: too many incoming pass header fields")
)

// apply carries out act and returns what was done and the reply for the
// upstream: the downstream's final reply when the message was relayed,
// else the hop's refusal. failed: act is a failure outcome, not the
// verdict's own action.
func (ss *session) apply(act action.Action, failed bool, v action.Verdict, msg *message, d *report.Decision) (action.Action, answer) {
	s := ss.s
	h := msg.split(s.pass.Name, "Subject", holdmark.Header)
	h.remove(holdmark.Header) // never a sender's: see hold.go
	if n := h.count(s.pass.Name); *s.pass.Enabled && n > s.pass.MaxIncoming {
		// A flood of forged pass headers: the same bound as the milter's,
		// whatever incoming_pass_header says.
		s.log.Warn("message refused: too many incoming pass headers", "session_id", ss.id, "header", s.pass.Name, "count", n, "max_incoming", s.pass.MaxIncoming)
		d.Err = fmt.Errorf("%w: %d %s fields (pass_header.max_incoming %d)", errPassHeaderFlood, n, s.pass.Name, s.pass.MaxIncoming)
		if s.pass.OnTooMany == config.TooManyTempFail {
			return action.TempFail, ss.own(action.PassHeaderFlood(s.pass.Name, false))
		}
		return action.Block, ss.own(action.PassHeaderFlood(s.pass.Name, true))
	}
	if *s.pass.Enabled && h.has(s.pass.Name) {
		switch s.cfg.IncomingPassHeader {
		case config.IncomingPassRefuse:
			s.log.Warn("message refused: incoming pass header", "session_id", ss.id, "header", s.pass.Name)
			d.Err = errPassHeaderFound
			return action.Block, ss.own(action.PassHeaderRefused)
		case config.IncomingPassStrip:
			h.remove(s.pass.Name)
		}
	}
	var extra [][]byte
	// A message delivered unscanned (a failure outcome of accept) carries
	// no pass header, as with the milter: nothing vouches for it.
	passHeader := *s.pass.Enabled && !failed
	if passHeader {
		extra = append(extra, fieldLine(s.pass.Name, s.pass.Value))
	}
	for _, ah := range v.AddHeaders {
		extra = append(extra, fieldLine(ah.Name, ah.Value))
	}
	var rcpts []string // replacing the envelope's (redirect, quarantine)
	switch act {
	case action.Block, action.TempFail:
		if failed {
			return act, answer{own: action.Render(action.ScanFailed, action.ScanFailed, v.IncidentID, ss.utf8)}
		}
		return act, answer{own: v.Refusal(act, ss.utf8)}
	case action.Quarantine:
		if s.holding() {
			extra = append(extra, s.holdField(v, d))
			break
		}
		if s.cfg.QuarantineTo == "" {
			if s.cfg.QuarantineAction == config.HopQuarantineBlock {
				return action.Block, answer{own: action.Render(v.Reply, action.PolicyHeldRefused, v.IncidentID, ss.utf8)}
			}
			return action.TempFail, answer{own: action.Render(v.Reply, action.PolicyHeld, v.IncidentID, ss.utf8)}
		}
		rcpts = []string{s.cfg.QuarantineTo}
		extra = append(extra, fieldLine("X-Maildlp-Quarantine", firstNonEmpty(v.QuarantineReason, "policy")))
	case action.Redirect:
		if len(v.RedirectTo) == 0 {
			s.log.Error("redirect verdict without addresses: deferring", "session_id", ss.id)
			return action.TempFail, answer{own: action.Render(action.ScanFailed, action.ScanFailed, v.IncidentID, ss.utf8)}
		}
		rcpts = v.RedirectTo
	}
	h.setSubject(v.SubjectPrefix, v.SubjectReplace)
	ds := ss.down
	if rcpts != nil {
		if a, ok := ss.retarget(rcpts); !ok {
			return downstreamRefused(a, d)
		}
	}
	r, err := ds.data(msg.tail(), msg.plain, h.parts(extra)...)
	if err != nil {
		s.log.Warn("next hop failed during DATA", "session_id", ss.id, "next_hop", ds.addr, "err", err.Error())
		ds.close()
		ss.down = nil
		d.Err = fmt.Errorf("reinject: next hop %s failed during DATA: %w", ds.addr, err)
		return action.TempFail, ss.own(action.HopFailed)
	}
	ds.quit()
	ss.down = nil
	if r.ok() {
		if act == action.Quarantine && s.holding() {
			ss.logHeld(ds, r, v, d)
		}
		if passHeader {
			d.PassHeader = &action.Header{Name: s.pass.Name, Value: s.pass.Value}
		}
		s.log.Debug("relayed", "session_id", ss.id, "next_hop", ds.addr, "reply", r.String())
		return act, relayed(r) // the downstream's final reply, verbatim
	}
	return downstreamRefused(relayed(r), d)
}

// downstreamRefused records that the next hop did not take the message: the
// decision says what the upstream was really told (4xx: tempfail, 5xx:
// block) with the downstream's reply as the cause, so the recorder does not
// count a delivery that did not happen, and a retried message does not
// queue its notices twice.
func downstreamRefused(a answer, d *report.Decision) (action.Action, answer) {
	d.Err = fmt.Errorf("reinject: next hop refused the message: %s", a)
	if a.code()/100 == 5 {
		return action.Block, a
	}
	return action.TempFail, a
}

// retarget replaces the downstream recipients (redirect, quarantine): RSET,
// then the same MAIL and a RCPT for each new address. On failure it
// returns the reply for the upstream.
func (ss *session) retarget(rcpts []string) (answer, bool) {
	ds := ss.down
	fail := func(r reply, err error) (answer, bool) {
		if err != nil {
			ds.close()
			ss.down = nil
			return ss.own(action.HopFailed), false
		}
		ds.abort()
		ss.down = nil
		return relayed(r), false
	}
	if r, err := ds.cmd(ds.to.command, "RSET"); err != nil || !r.ok() {
		return fail(r, err)
	}
	if err := ds.xforward(ss.xfwd); err != nil && ds.closed {
		return fail(reply{}, err)
	}
	if r, err := ds.cmd(ds.to.command, "MAIL FROM:%s%s", ss.fromPath, joinParams(ss.mailParams)); err != nil || !r.ok() {
		return fail(r, err)
	}
	for _, to := range rcpts {
		if r, err := ds.cmd(ds.to.command, "RCPT TO:<%s>", to); err != nil || !r.ok() {
			return fail(r, err)
		}
	}
	return answer{}, true
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
