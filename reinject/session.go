package reinject

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/maildlp/maildlp/internal/sessionid"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/quarantine/holdmark"
	"github.com/maildlp/maildlp/report"
)

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	cc, ok := c.Conn().(*cmdConn)
	if !ok {
		return nil, errors.New("reinject: connection not accepted by the hop")
	}
	ss := &session{s: b.s, conn: c, cc: cc, st: cc.st, id: sessionid.New()}
	b.s.track(ss, true)
	return ss, nil
}

// session is one inbound connection. Each transaction mirrors one
// downstream transaction: MAIL opens the downstream, MAIL and RCPT are
// relayed with their replies, DATA is checked and evaluated, and the
// message goes downstream only after the verdict.
type session struct {
	s    *Server
	conn *smtp.Conn
	cc   *cmdConn
	st   *connState
	id   string

	// mu is held by every command; Logout, which go-smtp may call from
	// another goroutine when the server closes, only aborts the
	// downstream (live) when a command is running.
	mu   sync.Mutex
	live atomic.Pointer[downstream]

	eng        Evaluator // loaded once per transaction, at MAIL
	down       *downstream
	from       string
	fromPath   string // as the client wrote it, brackets included
	mailParams []string
	rcpts      []string
	xfwd       []xattr
	txn        int
}

// Replies of the hop's own.
var (
	errNoHop = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 1},
		Message: "Next hop not available, try again later"}
	errHopFailed = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
		Message: "Next hop failed during the transaction, try again later"}
	errNoTLSUp = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 5},
		Message: "Next hop cannot keep this session encrypted, try again later"}
	errBareNL = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 5, 2},
		Message: "Message refused: bare CR or LF in data (line ends must be CRLF)"}
	errDataTimeout = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
		Message: "Timeout while receiving the message"}
	errDataRead = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Error while receiving the message"}
	errPassHeader = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message: "Message refused: it already carries the inspection pass header"}
	errTooLong = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
		Message: "Message refused: line too long"}
	errNULByte = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "Message refused: NUL byte in message data (not allowed in mail text, RFC 5322 section 3.5)"}
)

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.st.mu.Lock()
	line := ss.st.lastLine
	xfwd := append([]xattr(nil), ss.st.xforward...)
	upTLS := ss.st.tls != nil
	ss.st.mu.Unlock()
	ss.endTx()
	ss.xfwd = xfwd
	if max := int64(ss.s.cfg.MaxMessageBytes); opts != nil && opts.Size > max {
		return smtp.ErrDataTooLarge
	}
	ss.txn++
	ss.eng = ss.s.engine()
	if ec, ok := ss.eng.(envelopeChecker); ok {
		ss.from = from
		env := ss.envelope()
		ss.from = ""
		if v, ok := ec.CheckEnvelope(env); ok {
			return ss.early(env, v)
		}
	}
	ds, err := ss.s.connect(context.Background(), upTLS, ss.id)
	if ds != nil {
		ss.live.Store(ds)
	}
	if err != nil {
		var he *hopError
		if upTLS && !ss.s.cfg.TLS.DowngradeAllowed && errors.As(err, &he) && errors.Is(err, errNoTLS) {
			return errNoTLSUp
		}
		ss.s.log.Warn("no next hop", "session_id", ss.id, "err", err.Error())
		return errNoHop
	}
	if err := ds.xforward(ss.xfwd); err != nil {
		ss.s.log.Warn("XFORWARD not passed on", "session_id", ss.id, "next_hop", ds.addr, "err", err.Error())
		if ds.closed {
			return errHopFailed
		}
	}
	path, raw := commandParams(line, "MAIL FROM:")
	if path == "" {
		path = "<" + from + ">"
	}
	params := ss.s.mailParams(ds, raw, ss.id)
	r, err := ds.cmd(ds.to.command, "MAIL FROM:%s%s", path, joinParams(params))
	if err != nil {
		ds.close()
		return errHopFailed
	}
	if !r.ok() {
		ds.quit()
		return r.upstream()
	}
	ss.down, ss.from, ss.fromPath, ss.mailParams = ds, from, path, params
	ss.st.mu.Lock()
	ss.st.inTx = true
	ss.st.okReply = r.wire()
	ss.st.mu.Unlock()
	return nil
}

func (ss *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.down == nil {
		return errHopFailed
	}
	ss.st.mu.Lock()
	line := ss.st.lastLine
	ss.st.mu.Unlock()
	if ec, ok := ss.eng.(envelopeChecker); ok {
		env := ss.envelope()
		if v, ok := ec.CheckRecipient(env, to); ok {
			env.Rcpts = []string{to}
			return ss.early(env, v)
		}
	}
	path, raw := commandParams(line, "RCPT TO:")
	if path == "" {
		path = "<" + to + ">"
	}
	params := ss.s.rcptParams(ss.down, raw, ss.id)
	r, err := ss.down.cmd(ss.down.to.command, "RCPT TO:%s%s", path, joinParams(params))
	if err != nil {
		ss.down.close()
		ss.down = nil
		return errHopFailed
	}
	if !r.ok() {
		if r.Code == 421 {
			ss.down.close()
			ss.down = nil
		}
		return r.upstream()
	}
	ss.rcpts = append(ss.rcpts, to)
	ss.st.mu.Lock()
	ss.st.okReply = r.wire()
	ss.st.mu.Unlock()
	return nil
}

// envelopeChecker is the engine's early decision at MAIL and RCPT
// (*policy.Engine has it): an envelope-only policy that blocks or
// tempfails refuses the sender or that recipient at once.
type envelopeChecker interface {
	CheckEnvelope(env policy.Envelope) (action.Verdict, bool)
	CheckRecipient(env policy.Envelope, rcpt string) (action.Verdict, bool)
}

// early records an envelope decision and returns its reply.
func (ss *session) early(env policy.Envelope, v action.Verdict) *smtp.SMTPError {
	act := v.Action
	var rep *smtp.SMTPError
	if act == action.TempFail {
		rep = policyReply(v.Reply, 451, "4.7.1", "Deferred by policy, try again later")
	} else {
		act = action.Block
		rep = policyReply(v.Reply, 550, "5.7.1", "Refused by policy")
	}
	ss.s.rec.Record(report.Decision{Frontend: "reinject", Envelope: env, Verdict: v, Applied: act})
	return rep
}

func (ss *session) Reset() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.endTx()
}

func (ss *session) Logout() error {
	if !ss.mu.TryLock() {
		// A command is running (the server is closing): cut the downstream
		// connection, so that no final dot is sent after the upstream left.
		if d := ss.live.Load(); d != nil {
			d.raw.Close()
		}
		return nil
	}
	defer ss.mu.Unlock()
	ss.endTx()
	ss.s.track(ss, false)
	return nil
}

// endTx aborts any open downstream transaction (nothing is delivered
// without its final dot) and forgets the envelope and XFORWARD data.
func (ss *session) endTx() {
	if ss.down != nil {
		ss.down.abort()
		ss.down = nil
	}
	ss.live.Store(nil)
	ss.from, ss.fromPath, ss.mailParams, ss.rcpts, ss.xfwd = "", "", nil, nil, nil
	ss.eng = nil
	ss.st.mu.Lock()
	ss.st.inTx = false
	ss.st.xforward = nil
	ss.st.mu.Unlock()
}

// envelope is what the engine learns of the transaction. XFORWARD data
// from the MTA in front names the original client and its queue id.
func (ss *session) envelope() policy.Envelope {
	env := policy.Envelope{
		SessionID: sessionid.Txn(ss.id, ss.txn),
		HELO:      ss.conn.Hostname(),
		MailFrom:  ss.from,
		Rcpts:     append([]string(nil), ss.rcpts...),
	}
	if h, _, err := net.SplitHostPort(ss.cc.RemoteAddr().String()); err == nil {
		env.ClientAddr = h
	}
	for _, a := range ss.xfwd {
		if a.Value == "" || a.Value == "[UNAVAILABLE]" || a.Value == "[TEMPUNAVAIL]" {
			continue
		}
		switch a.Name {
		case "ADDR":
			env.ClientAddr = strings.TrimPrefix(strings.TrimPrefix(a.Value, "IPV6:"), "ipv6:")
		case "NAME":
			env.ClientName = a.Value
		case "HELO":
			env.HELO = a.Value
		case "IDENT":
			env.QueueID = a.Value
		}
	}
	return env
}

// Data reads the message from the interceptor (see body), not from
// go-smtp's reader r, which is handed an empty message once the real one
// has been read to its end.
func (ss *session) Data(_ io.Reader) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	start := time.Now()
	b := ss.cc.body()
	defer b.drain()
	if ss.down == nil {
		return errHopFailed
	}
	env := ss.envelope()
	log := ss.s.log.With("session_id", env.SessionID, "queue_id", env.QueueID)

	msg, readErr := ss.receive(b)
	defer msg.release()
	if readErr != nil {
		ss.endTx()
		switch {
		case errors.Is(readErr, errBareNewline):
			log.Warn("message refused: bare CR or LF in data")
			return errBareNL
		case errors.Is(readErr, ErrNUL):
			log.Warn("message refused: NUL byte in message data")
			ss.s.rec.Record(report.Decision{Frontend: "reinject", Envelope: env,
				Verdict: action.Verdict{Action: action.Block}, Applied: action.Block,
				Duration: time.Since(start), Err: ErrNUL})
			return errNULByte
		case errors.Is(readErr, smtp.ErrDataTooLarge):
			return smtp.ErrDataTooLarge
		case errors.Is(readErr, smtp.ErrTooLongLine):
			return errTooLong
		}
		var ne net.Error
		if errors.As(readErr, &ne) && ne.Timeout() {
			log.Warn("timeout while receiving the message")
			return errDataTimeout
		}
		log.Warn("error while receiving the message", "err", readErr.Error())
		return errDataRead
	}

	v, scanErr := ss.scan(msg, env)
	d := report.Decision{Frontend: "reinject", Envelope: env, Verdict: v, Applied: v.Action}
	act := v.Action
	switch {
	case scanErr != nil:
		outcome := ss.s.fail.OnTimeout
		if errors.Is(scanErr, policy.ErrNoSlot) {
			outcome = ss.s.fail.OnOverload
		}
		log.Warn("failure outcome applied", "outcome", outcome, "cause", scanErr.Error())
		act = outcome.Action()
		d.Err = scanErr
	case v.Err != nil:
		outcome := ss.s.fail.OnError
		if errors.Is(v.Err, context.DeadlineExceeded) {
			outcome = ss.s.fail.OnTimeout
		}
		act = outcome.Action()
		d.Err = v.Err
	}
	act, reply := ss.apply(act, v, msg, &d)
	d.Applied = act
	d.Duration = time.Since(start)
	ss.s.rec.Record(d)
	ss.endTx()
	if reply == nil {
		return nil
	}
	return reply
}

var (
	errPassHeaderFound = errors.New("reinject: incoming pass header")
	errPassHeaderFlood = errors.New("reinject: too many incoming pass header fields")
)

// apply carries out act and returns what was done and the reply for the
// upstream (nil: go-smtp's own 250, never used for a relayed message).
func (ss *session) apply(act action.Action, v action.Verdict, msg *message, d *report.Decision) (action.Action, *smtp.SMTPError) {
	h := msg.split(ss.s.pass.Name, "Subject", holdmark.Header)
	h.remove(holdmark.Header) // never a sender's: see hold.go
	if n := h.count(ss.s.pass.Name); *ss.s.pass.Enabled && n > ss.s.pass.MaxIncoming {
		// A flood of forged pass headers: the same bound as the milter's,
		// whatever incoming_pass_header says.
		ss.s.log.Warn("message refused: too many incoming pass headers", "session_id", ss.id, "header", ss.s.pass.Name, "count", n, "max_incoming", ss.s.pass.MaxIncoming)
		d.Err = fmt.Errorf("%w: %d %s fields (pass_header.max_incoming %d)", errPassHeaderFlood, n, ss.s.pass.Name, ss.s.pass.MaxIncoming)
		if ss.s.pass.OnTooMany == "tempfail" {
			return action.TempFail, &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1},
				Message: "Message deferred: too many " + ss.s.pass.Name + " header fields"}
		}
		return action.Block, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
			Message: "Message refused: too many " + ss.s.pass.Name + " header fields"}
	}
	if *ss.s.pass.Enabled && h.has(ss.s.pass.Name) {
		switch ss.s.cfg.IncomingPassHeader {
		case "refuse":
			ss.s.log.Warn("message refused: incoming pass header", "session_id", ss.id, "header", ss.s.pass.Name)
			d.Err = errPassHeaderFound
			return action.Block, errPassHeader
		case "strip":
			h.remove(ss.s.pass.Name)
		}
	}
	var extra [][]byte
	if *ss.s.pass.Enabled {
		extra = append(extra, fieldLine(ss.s.pass.Name, ss.s.pass.Value))
	}
	for _, ah := range v.AddHeaders {
		extra = append(extra, fieldLine(ah.Name, ah.Value))
	}
	var rcpts []string // replacing the envelope's (redirect, quarantine)
	switch act {
	case action.Block:
		return act, policyReply(v.Reply, 550, "5.7.1", "Message refused by policy")
	case action.TempFail:
		return act, policyReply(v.Reply, 451, "4.7.1", "Message deferred by policy, try again later")
	case action.Quarantine:
		if ss.s.holding() {
			extra = append(extra, ss.s.holdField(v, d))
			break
		}
		if ss.s.cfg.QuarantineTo == "" {
			if ss.s.cfg.QuarantineAction == "block" {
				return action.Block, policyReply(v.Reply, 550, "5.7.1", "Message held by policy")
			}
			return action.TempFail, policyReply(v.Reply, 451, "4.7.1", "Message held by policy, try again later")
		}
		rcpts = []string{ss.s.cfg.QuarantineTo}
		extra = append(extra, fieldLine("X-Maildlp-Quarantine", firstNonEmpty(v.QuarantineReason, "policy")))
	case action.Redirect:
		if len(v.RedirectTo) == 0 {
			ss.s.log.Error("redirect verdict without addresses: deferring", "session_id", ss.id)
			return action.TempFail, policyReply(action.Reply{}, 451, "4.7.1", "Message deferred by policy, try again later")
		}
		rcpts = v.RedirectTo
	}
	h.setSubject(v.SubjectPrefix, v.SubjectReplace)
	ds := ss.down
	if rcpts != nil {
		if rep := ss.retarget(rcpts); rep != nil {
			return downstreamRefused(rep, d)
		}
	}
	r, err := ds.data(h.parts(extra)...)
	if err != nil {
		ss.s.log.Warn("next hop failed during DATA", "session_id", ss.id, "next_hop", ds.addr, "err", err.Error())
		ds.close()
		ss.down = nil
		d.Err = fmt.Errorf("reinject: next hop %s failed during DATA: %w", ds.addr, err)
		return action.TempFail, errHopFailed
	}
	ds.quit()
	ss.down = nil
	if r.ok() {
		if act == action.Quarantine && ss.s.holding() {
			ss.logHeld(ds, r, v, d)
		}
		ss.s.log.Debug("relayed", "session_id", ss.id, "next_hop", ds.addr, "reply", r.String())
		return act, r.upstream() // the downstream's final reply, verbatim
	}
	return downstreamRefused(r.upstream(), d)
}

// downstreamRefused records that the next hop did not take the message: the
// decision says what the upstream was really told (4xx: tempfail, 5xx:
// block) with the downstream's reply as the cause, so the recorder does not
// count a delivery that did not happen, and a retried message does not
// queue its notices twice.
func downstreamRefused(rep *smtp.SMTPError, d *report.Decision) (action.Action, *smtp.SMTPError) {
	d.Err = fmt.Errorf("reinject: next hop refused the message: %d %d.%d.%d %s",
		rep.Code, rep.EnhancedCode[0], rep.EnhancedCode[1], rep.EnhancedCode[2], rep.Message)
	if rep.Code/100 == 5 {
		return action.Block, rep
	}
	return action.TempFail, rep
}

// retarget replaces the downstream recipients (redirect, quarantine): RSET,
// then the same MAIL and a RCPT for each new address.
func (ss *session) retarget(rcpts []string) *smtp.SMTPError {
	ds := ss.down
	fail := func(r reply, err error) *smtp.SMTPError {
		if err != nil {
			ds.close()
			ss.down = nil
			return errHopFailed
		}
		ds.abort()
		ss.down = nil
		return r.upstream()
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
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// policyReply renders the policy's reply, keeping its class to the action's.
func policyReply(r action.Reply, code int, enh, text string) *smtp.SMTPError {
	if r.Code/100 == code/100 {
		code = r.Code
		if r.Enhanced != "" {
			enh = r.Enhanced
		}
	}
	if r.Text != "" {
		text = r.Text
	}
	e := &smtp.SMTPError{Code: code, EnhancedCode: parseEnhanced(enh, code)}
	// One line per text line, no CR; go-smtp puts the enhanced code on the
	// last line only, so it is written on every line here.
	lines := strings.Split(strings.ReplaceAll(text, "\r", ""), "\n")
	if e.EnhancedCode != smtp.NoEnhancedCode {
		for i, l := range lines {
			lines[i] = enh + " " + l
		}
		e.EnhancedCode = smtp.NoEnhancedCode
	}
	e.Message = strings.Join(lines, "\n")
	return e
}

func parseEnhanced(s string, code int) smtp.EnhancedCode {
	parts := strings.Split(s, ".")
	if len(parts) == 3 {
		var ec smtp.EnhancedCode
		ok := true
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n > 999 {
				ok = false
			}
			ec[i] = n
		}
		if ok && ec[0] == code/100 {
			return ec
		}
	}
	return smtp.EnhancedCode{code / 100, 0, 0}
}

// commandParams splits a raw MAIL FROM: or RCPT TO: line (already
// validated by go-smtp) into its path, brackets included, and its ESMTP
// parameters, both as sent.
func commandParams(line, prefix string) (path string, params []string) {
	if len(line) < len(prefix) || !strings.EqualFold(line[:len(prefix)], prefix) {
		return "", nil
	}
	rest := strings.TrimLeft(line[len(prefix):], " ")
	if strings.HasPrefix(rest, "<") {
		quoted, esc := false, false
		for i := 1; i < len(rest); i++ {
			c := rest[i]
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				quoted = !quoted
			case c == '>' && !quoted:
				return rest[:i+1], strings.Fields(rest[i+1:])
			}
		}
		return "", nil
	}
	p, after, _ := strings.Cut(rest, " ")
	return "<" + p + ">", strings.Fields(after)
}

func joinParams(p []string) string {
	if len(p) == 0 {
		return ""
	}
	return " " + strings.Join(p, " ")
}

func paramKey(p string) string {
	k, _, _ := strings.Cut(p, "=")
	return strings.ToUpper(k)
}

// mailParams keeps the MAIL parameters the downstream can take, as sent:
// SIZE when it offers SIZE, BODY when it offers 8BITMIME (else the body
// goes as it is, like Postfix with MIME conversion off), RET and ENVID when
// it offers DSN. AUTH is not passed on: the hop does not authenticate.
func (s *Server) mailParams(ds *downstream, params []string, sid string) []string {
	var out []string
	for _, p := range params {
		k := paramKey(p)
		var need string
		switch k {
		case "SIZE":
			need = "SIZE"
		case "BODY":
			need = "8BITMIME"
		case "RET", "ENVID":
			need = "DSN"
		default:
			continue
		}
		if _, ok := ds.ext[need]; ok {
			out = append(out, p)
		} else if k != "SIZE" {
			s.log.Info("MAIL parameter not passed on: next hop lacks "+need, "session_id", sid, "param", k, "next_hop", ds.addr)
		}
	}
	return out
}

// rcptParams keeps NOTIFY and ORCPT when the downstream offers DSN.
func (s *Server) rcptParams(ds *downstream, params []string, sid string) []string {
	var out []string
	for _, p := range params {
		k := paramKey(p)
		if k != "NOTIFY" && k != "ORCPT" {
			continue
		}
		if _, ok := ds.ext["DSN"]; ok {
			out = append(out, p)
		} else {
			s.log.Info("RCPT parameter not passed on: next hop lacks DSN", "session_id", sid, "param", k, "next_hop", ds.addr)
		}
	}
	return out
}
