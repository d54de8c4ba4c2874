package milter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/sessionid"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/report"
)

// session is one MTA connection. go-milter calls its methods one at a
// time, in protocol order; a connection may carry several messages.
type session struct {
	srv        *Server
	id         string // sessionid of the MTA connection
	txn        int    // transactions begun on it
	version    uint32
	actions    gomilter.OptAction
	leadSpace  bool // header values arrive and leave with their leading space
	overloaded bool // admitted past max_sessions: on_overload applies

	// Connection state.
	clientHost, clientAddr string
	helo                   string
	nonSMTP                bool // Postfix non_smtpd_milters: simulated connection

	msg *message // the current message, nil between messages
}

// message is the state of one transaction, from MAIL FROM to end of message.
type message struct {
	eng   engine
	env   policy.Envelope
	start time.Time

	// failed is a failure decided before end of message (no engine, a
	// recovered panic); skip means no content is scanned.
	failed  error
	skip    bool
	decided bool // a final response was already sent (early reject)
	// smtputf8: the client's MAIL FROM carried SMTPUTF8, so replies may
	// hold non-ASCII text (RFC 6531 section 3.7.4.1).
	smtputf8 bool

	scan      *scan
	scanStart time.Time

	subjects    int    // Subject fields seen
	subject     string // value of the first Subject field, as received
	passHeaders int    // pass header fields the message arrived with
}

var _ gomilter.Milter = (*session)(nil)

func (s *session) NewConnection(gomilter.Modifier) error { return nil }

func (s *session) Connect(host, family string, port uint16, addr string, m gomilter.Modifier) (*gomilter.Response, error) {
	s.clientHost, s.clientAddr = host, addr
	if v := m.Get(gomilter.MacroClientAddr); v != "" {
		s.clientAddr = v
	}
	if v := m.Get(gomilter.MacroClientName); v != "" {
		s.clientHost = v
	}
	// Postfix's cleanup(8) simulates the SMTP events of sendmail(1) and
	// qmqpd(8) mail as a connection from localhost[127.0.0.1], port 0 (seen
	// with Postfix 3.7); a real SMTP client always has a port. {daemon_name}
	// does not tell the two apart: it is $myhostname on both paths.
	s.nonSMTP = family == "tcp4" && port == 0 && host == "localhost" && addr == "127.0.0.1"
	if s.srv.log.Enabled(context.Background(), slog.LevelDebug) {
		// Checked first: the arguments would cost two allocations per
		// connection even when the line is not written.
		s.srv.log.Debug("connection", "client_name", s.clientHost, "client_addr", s.clientAddr, "port", port, "non_smtp", s.nonSMTP)
	}
	return gomilter.RespContinue, nil
}

func (s *session) Helo(name string, _ gomilter.Modifier) (*gomilter.Response, error) {
	s.helo = name
	return gomilter.RespContinue, nil
}

func (s *session) MailFrom(from, esmtpArgs string, m gomilter.Modifier) (resp *gomilter.Response, err error) {
	s.endMessage()
	msg := &message{start: time.Now(), smtputf8: smtputf8(esmtpArgs)}
	s.txn++
	msg.env = policy.Envelope{
		SessionID:  sessionid.Txn(s.id, s.txn),
		QueueID:    m.Get(gomilter.MacroQueueId),
		ClientAddr: s.clientAddr,
		ClientName: s.clientHost,
		HELO:       s.helo,
		AuthUser:   m.Get(gomilter.MacroAuthAuthen),
		MailFrom:   from,
	}
	s.msg = msg
	defer s.recoverTo(msg, &resp, &err)

	if s.overloaded {
		msg.skip = true
		return s.earlyFailure(msg, s.srv.o.failure.OnOverload, ErrOverload), nil
	}
	msg.eng = s.srv.engine()
	if msg.eng == nil {
		msg.skip = true
		return s.earlyFailure(msg, s.srv.o.failure.OnError, fmt.Errorf("%w: no engine loaded", ErrEngine)), nil
	}
	if *s.srv.o.cfg.EarlyDecision && !s.nonSMTP {
		v, ok := msg.eng.CheckEnvelope(msg.env)
		if ok && v.Err != nil {
			return s.earlyError(msg, v.Err), nil
		}
		if ok && refuses(v) {
			return s.earlyRefusal(msg, v, msg.env), nil
		}
	}
	return gomilter.RespContinue, nil
}

func (s *session) RcptTo(rcpt, _ string, m gomilter.Modifier) (resp *gomilter.Response, err error) {
	msg := s.msg
	if msg == nil || msg.decided {
		return gomilter.RespContinue, nil
	}
	defer s.recoverTo(msg, &resp, &err)
	if *s.srv.o.cfg.EarlyDecision && !s.nonSMTP && !msg.skip && msg.eng != nil {
		v, ok := msg.eng.CheckRecipient(msg.env, rcpt)
		if ok && v.Err != nil {
			return s.earlyError(msg, v.Err), nil
		}
		if ok && refuses(v) {
			env := msg.env
			env.Rcpts = []string{rcpt}
			w := v.Refusal(v.Action, msg.smtputf8)
			s.record(msg, report.Decision{Envelope: env, Verdict: v, Applied: v.Action, Reply: &w})
			s.srv.log.Debug("recipient refused", "queue_id", env.QueueID, "reply", w.String())
			// Only this recipient is refused; the message goes on.
			return response(w), nil
		}
	}
	msg.env.Rcpts = append(msg.env.Rcpts, rcpt)
	return gomilter.RespContinue, nil
}

func (s *session) Data(m gomilter.Modifier) (*gomilter.Response, error) {
	if msg := s.msg; msg != nil {
		if q := m.Get(gomilter.MacroQueueId); q != "" {
			msg.env.QueueID = q
		}
	}
	return gomilter.RespContinue, nil
}

func (s *session) Header(name, value string, m gomilter.Modifier) (*gomilter.Response, error) {
	msg := s.msg
	if msg == nil || msg.skip || msg.decided {
		return gomilter.RespContinue, nil
	}
	sc := s.ensureScan(msg, m)
	if strings.EqualFold(name, "Subject") {
		msg.subjects++
		if msg.subjects == 1 {
			// value points into the read buffer: keep a copy.
			msg.subject = strings.Clone(value)
		}
	}
	if ph := s.srv.o.passHeader; ph.enabled && strings.EqualFold(name, ph.name) {
		msg.passHeaders++
	}
	sc.writeString(name)
	if s.leadSpace {
		sc.writeString(":")
	} else {
		// The MTA swallowed the space after the colon.
		sc.writeString(": ")
	}
	writeCRLF(sc, value)
	sc.writeString("\r\n")
	return gomilter.RespContinue, nil
}

// writeCRLF writes a header value with every line break as CRLF (MTAs send
// folded values with bare LF).
func writeCRLF(sc *scan, v string) {
	for {
		i := strings.IndexByte(v, '\n')
		if i < 0 {
			sc.writeString(v)
			return
		}
		line := v[:i]
		line = strings.TrimSuffix(line, "\r")
		sc.writeString(line)
		sc.writeString("\r\n")
		v = v[i+1:]
	}
}

func (s *session) Headers(m gomilter.Modifier) (*gomilter.Response, error) {
	msg := s.msg
	if msg == nil || msg.skip || msg.decided {
		return gomilter.RespContinue, nil
	}
	s.ensureScan(msg, m).writeString("\r\n")
	return gomilter.RespContinue, nil
}

func (s *session) BodyChunk(chunk []byte, m gomilter.Modifier) (*gomilter.Response, error) {
	msg := s.msg
	if msg == nil || msg.skip || msg.decided {
		return gomilter.RespContinue, nil
	}
	s.ensureScan(msg, m).write(chunk)
	return gomilter.RespContinue, nil
}

func (s *session) EndOfMessage(m gomilter.Modifier) (resp *gomilter.Response, err error) {
	msg := s.msg
	if msg == nil {
		// End of message without MAIL FROM: nothing was checked.
		return gomilter.RespAccept, nil
	}
	defer s.endMessage()
	if q := m.Get(gomilter.MacroQueueId); q != "" {
		msg.env.QueueID = q
	}
	defer func() {
		if r := recover(); r != nil {
			s.logPanic(msg, "milter", r, debug.Stack())
			resp = s.applyFailure(m, msg, s.srv.o.failure.OnError, fmt.Errorf("%w: panic: %v", ErrEngine, r), action.Verdict{})
			err = nil
		}
	}()
	switch {
	case msg.decided:
		return gomilter.RespAccept, nil
	case s.overloaded:
		return s.applyFailure(m, msg, s.srv.o.failure.OnOverload, ErrOverload, action.Verdict{}), nil
	case msg.failed != nil:
		return s.applyFailure(m, msg, s.srv.o.failure.OnError, msg.failed, action.Verdict{}), nil
	case s.srv.o.passHeader.enabled && msg.passHeaders > s.srv.o.passHeader.maxIncoming:
		return s.refusePassHeaders(msg), nil
	}

	sc := s.ensureScan(msg, m)
	if sc.nul {
		return s.refuseNUL(msg, sc), nil
	}
	if err := sc.failed(); err != nil {
		sc.abort()
		return s.applyFailure(m, msg, s.srv.o.failure.OnError, fmt.Errorf("%w: %w", ErrHold, err), action.Verdict{}), nil
	}
	timeout := s.srv.scanTimeout(msg.eng)
	late := func() (resp *gomilter.Response) {
		// Called from another goroutine while this one is in the engine
		// (see inline.go): a panic is recovered as at the top of this
		// method.
		defer func() {
			if r := recover(); r != nil {
				s.logPanic(msg, "milter", r, debug.Stack())
				resp = s.applyFailure(m, msg, s.srv.o.failure.OnError, fmt.Errorf("%w: panic: %v", ErrEngine, r), action.Verdict{})
			}
		}()
		return s.applyFailure(m, msg, s.srv.o.failure.OnTimeout, fmt.Errorf("%w (%s)", ErrScanTimeout, timeout), action.Verdict{})
	}
	v, werr := sc.finish(m, msg.eng, msg.env, &s.srv.scans, s.srv.o.slots, timeout, s.srv.o.cfg.ProgressInterval.D(), late)
	switch {
	case errors.Is(werr, errAnswered):
		return respAnswered, nil
	case errors.Is(werr, errTimeout):
		return s.applyFailure(m, msg, s.srv.o.failure.OnTimeout, fmt.Errorf("%w (%s)", ErrScanTimeout, timeout), v), nil
	case errors.Is(werr, errNoSlot):
		return s.applyFailure(m, msg, s.srv.o.failure.OnOverload, fmt.Errorf("%w: %w within scan_timeout (%s)", ErrOverload, policy.ErrNoSlot, timeout), v), nil
	case werr != nil:
		// PROGRESS could not be written: the MTA is gone.
		return nil, werr
	}
	if sc.stack != nil {
		s.logPanic(msg, "milter", v.Err, sc.stack)
	}
	s.logEnginePanic(msg, v.Err)
	if v.Err != nil {
		o := s.srv.o.failure.OnError
		if errors.Is(v.Err, ErrOverload) {
			o = s.srv.o.failure.OnOverload
		}
		return s.applyFailure(m, msg, o, v.Err, v), nil
	}
	if lim := maxMessageBytes(msg.eng); sc.total > lim && len(v.Unscannable) == 0 && v.Action < action.Quarantine {
		// The engine let a message past max_message_bytes through without
		// saying it could not read all of it: never a silent pass.
		err := fmt.Errorf("%w: %d bytes past max_message_bytes %d without an unscannable finding", ErrEngine, sc.total, lim)
		return s.applyFailure(m, msg, s.srv.o.failure.OnError, err, v), nil
	}
	return s.applyVerdict(m, msg, v)
}

func (s *session) Abort(gomilter.Modifier) error {
	s.endMessage()
	return nil
}

func (s *session) Unknown(string, gomilter.Modifier) (*gomilter.Response, error) {
	return gomilter.RespContinue, nil
}

func (s *session) Cleanup(gomilter.Modifier) {
	s.endMessage()
	s.srv.sessions.Add(-1)
}

// ensureScan starts holding the message at its first content event.
func (s *session) ensureScan(msg *message, m gomilter.Modifier) *scan {
	if msg.scan == nil {
		if q := m.Get(gomilter.MacroQueueId); q != "" {
			msg.env.QueueID = q
		}
		msg.scanStart = time.Now()
		msg.scan = newScan(msg.eng)
	}
	return msg.scan
}

// endMessage drops the current message; a scan still running is cancelled.
func (s *session) endMessage() {
	if s.msg != nil && s.msg.scan != nil && !s.msg.scan.isDone() {
		// Not started (the message was aborted) or still running.
		s.msg.scan.abort()
	}
	s.msg = nil
}

func (sc *scan) isDone() bool {
	select {
	case <-sc.done:
		return true
	default:
		return false
	}
}

// scanTimeout is the deadline for the verdict after end of message.
func (s *Server) scanTimeout(eng engine) time.Duration {
	if s.o.scanTimeout > 0 {
		return s.o.scanTimeout
	}
	if eng != nil {
		if c := eng.Config(); c != nil && c.Limits.ScanTimeout > 0 {
			return c.Limits.ScanTimeout.D()
		}
	}
	return config.DefaultScanTimeout
}

// refuses reports whether an early verdict refuses the message or
// recipient (only block and tempfail are decided before the content).
func refuses(v action.Verdict) bool {
	return v.Err == nil && (v.Action == action.Block || v.Action == action.TempFail)
}

// earlyRefusal refuses the whole message at MAIL FROM.
func (s *session) earlyRefusal(msg *message, v action.Verdict, env policy.Envelope) *gomilter.Response {
	msg.decided = true
	w := v.Refusal(v.Action, msg.smtputf8)
	s.record(msg, report.Decision{Envelope: env, Verdict: v, Applied: v.Action, Reply: &w})
	return response(w)
}

// earlyFailure applies a failure outcome at MAIL FROM where it can be
// decided there (tempfail, accept); quarantine waits for end of message.
func (s *session) earlyFailure(msg *message, o config.Outcome, cause error) *gomilter.Response {
	switch o {
	case config.OutcomeQuarantine:
		msg.failed = cause
		return gomilter.RespContinue
	case config.OutcomeAccept:
		msg.decided = true
		s.recordFailure(msg, o, cause, action.Verdict{}, nil)
		return gomilter.RespAccept
	}
	msg.decided = true
	w := failureReply(msg, action.Verdict{})
	s.recordFailure(msg, o, cause, action.Verdict{}, &w)
	return response(w)
}

// refuseNUL refuses a message with a NUL byte permanently, unscanned: NUL
// is not allowed in mail text (RFC 5322 section 3.5; RFC 2045 sections
// 2.7 and 2.8 for 7bit and 8bit content), readers and the engine do not
// agree on what text surrounds it, and a tempfail would only bring the
// same message back on every retry.
func (s *session) refuseNUL(msg *message, sc *scan) *gomilter.Response {
	sc.abort()
	msg.decided = true
	s.srv.log.Warn("message refused: NUL byte in message data", "queue_id", msg.env.QueueID)
	w := action.Render(action.NULRefused, action.NULRefused, "", msg.smtputf8)
	s.record(msg, report.Decision{Verdict: action.Verdict{Action: action.Block}, Applied: action.Block, Err: ErrNUL, Reply: &w})
	return response(w)
}

// failureReply is the tempfail reply of a failure outcome: the message
// was not scanned. It names the incident when the failed scan recorded
// one.
func failureReply(msg *message, v action.Verdict) action.Wire {
	return action.Render(action.ScanFailed, action.ScanFailed, v.IncidentID, msg.smtputf8)
}

// recoverTo turns a panic in a callback into the on_error outcome at the
// end of the message (the MTA gets "continue" now).
func (s *session) recoverTo(msg *message, resp **gomilter.Response, err *error) {
	if r := recover(); r != nil {
		s.logPanic(msg, "milter", r, debug.Stack())
		msg.failed = fmt.Errorf("%w: panic: %v", ErrEngine, r)
		msg.skip = true
		*resp, *err = gomilter.RespContinue, nil
	}
}

// earlyError applies on_error at the end of the message after an
// envelope check failed (a panic in an envelope-only policy): no content
// is scanned, and the MTA gets "continue" now, as after a panic here.
func (s *session) earlyError(msg *message, err error) *gomilter.Response {
	s.logEnginePanic(msg, err)
	msg.failed = fmt.Errorf("%w: %w", ErrEngine, err)
	msg.skip = true
	return gomilter.RespContinue
}

// logPanic logs a recovered panic in one line at error level, with its
// stack at debug level only (an incident or a warning carries no stack),
// and counts it in maildlp_panics_total by component.
func (s *session) logPanic(msg *message, component string, r any, stack []byte) {
	s.srv.o.metrics.Panic(component)
	s.srv.log.Error("recovered panic", "queue_id", msg.env.QueueID, "session_id", msg.env.SessionID,
		"panic_in", component, "panic", strings.Join(strings.Fields(fmt.Sprint(r)), " "))
	s.srv.log.Debug("recovered panic stack", "queue_id", msg.env.QueueID, "session_id", msg.env.SessionID, "stack", string(stack))
}

// logEnginePanic logs and counts a panic the engine recovered itself
// (err is or wraps a *policy.PanicError); other errors are left to the
// failure outcome's log line.
func (s *session) logEnginePanic(msg *message, err error) {
	var pe *policy.PanicError
	if errors.As(err, &pe) {
		s.logPanic(msg, "engine", pe.Value, pe.Stack)
	}
}

// recordFailure records a failure outcome; reply is the refusal sent,
// nil when the message was accepted or quarantined.
func (s *session) recordFailure(msg *message, o config.Outcome, cause error, v action.Verdict, reply *action.Wire) {
	s.srv.log.Warn("failure outcome applied", "queue_id", msg.env.QueueID, "outcome", o.String(), "cause", cause.Error())
	s.record(msg, report.Decision{Verdict: v, Applied: o.Action(), Err: cause, Reply: reply})
}
