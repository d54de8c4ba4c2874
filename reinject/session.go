package reinject

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/maildlp/maildlp/internal/sessionid"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/report"
)

// session is one inbound connection. Each transaction mirrors one
// downstream transaction: MAIL opens the downstream, MAIL and RCPT are
// relayed with their replies, DATA is checked and evaluated, and the
// message goes downstream only after the verdict. One goroutine runs it
// (serveConn); only the forced close at Shutdown reaches in, through raw
// connections (c.raw, live).
type session struct {
	s  *Server
	c  *smtpConn
	id string

	helo     string
	ehlo     bool
	xfwdOK   bool    // this client's XFORWARD is believed (xforward_from)
	xforward []xattr // as received, in order; reset after each transaction
	// idleSince is when the connection last left a mail transaction (or
	// was accepted); wasTx whether it was in one at the last command.
	idleSince time.Time
	wasTx     bool
	// errors counts the hop's own error replies to this client (syntax,
	// sequence, limits); at max_errors the session ends.
	errors int

	// live is the open downstream, for a forced close from Shutdown.
	live atomic.Pointer[downstream]

	// The transaction; inTx from an accepted MAIL to its end.
	inTx       bool
	eng        Evaluator // loaded once per transaction, at MAIL
	down       *downstream
	from       string
	fromPath   string // as the client wrote it, brackets included
	mailParams []string
	rcpts      []string
	xfwd       []xattr
	utf8       bool // MAIL had SMTPUTF8: replies may carry UTF-8
	// envErr is a failed envelope check (a panic in an envelope-only
	// policy): on_error applies after DATA, as in the milter.
	envErr error
	txn    int
}

// answer is one reply to the client: the downstream's, relayed as it
// came, or one of the hop's own, rendered by policy/action.
type answer struct {
	raw []byte
	own action.Wire
}

func (a answer) code() int {
	if a.raw != nil {
		return replyCode(a.raw)
	}
	return a.own.Code
}

func (a answer) String() string {
	if a.raw != nil {
		return strings.TrimRight(string(a.raw), "\r\n")
	}
	return a.own.String()
}

// relayed is the downstream's reply as the client gets it.
func relayed(r reply) answer { return answer{raw: r.relay()} }

// own renders one of the hop's replies for this session.
func (ss *session) own(r action.Reply) answer { return answer{own: action.Render(r, r, "", ss.utf8)} }

func (ss *session) say(code int, enh, text string) {
	if code >= 400 {
		ss.errors++
	}
	ss.c.writeWire(ss.own(action.Reply{Code: code, Enhanced: enh, Text: text}).own)
}

// tooManyErrors reports whether the client reached max_errors of the
// hop's own error replies (Postfix's smtpd_hard_error_limit): a client
// that only errs holds a connection slot for nothing. Replies relayed
// from the next hop and policy refusals do not count.
func (ss *session) tooManyErrors() bool {
	max := ss.s.cfg.MaxErrors
	return max > 0 && ss.errors >= max
}

func (ss *session) write(a answer) {
	if a.raw != nil {
		ss.c.writeRaw(a.raw)
		return
	}
	ss.c.writeWire(a.own)
}

// mail opens the transaction: the envelope check, the downstream, its
// reply to the same MAIL.
func (ss *session) mail(pa pathArgs) answer {
	xf := ss.xforward
	ss.endTx()
	ss.xfwd = xf
	ss.utf8 = pa.UTF8
	if max := int64(ss.s.cfg.MaxMessageBytes); pa.Size > max {
		return ss.own(action.MessageTooBig)
	}
	ss.txn++
	ss.eng = ss.s.engine()
	if ec, ok := ss.eng.(envelopeChecker); ok {
		ss.from = pa.Addr
		env := ss.envelope()
		ss.from = ""
		if v, ok := ec.CheckEnvelope(env); ok && v.Err == nil {
			return ss.early(env, v)
		} else if ok {
			// A panic in an envelope-only policy: on_error applies after
			// DATA, as in the milter.
			ss.s.logEnginePanic(env, v.Err)
			ss.envErr = v.Err
		}
	}
	upTLS := ss.c.tls != nil
	ds, err := ss.s.connect(context.Background(), upTLS, ss.id)
	if ds != nil {
		ss.live.Store(ds)
	}
	if err != nil {
		var he *hopError
		if upTLS && !ss.s.cfg.TLS.DowngradeAllowed && errors.As(err, &he) && errors.Is(err, errNoTLS) {
			return ss.own(action.HopNoTLS)
		}
		ss.s.log.Warn("no next hop", "session_id", ss.id, "err", err.Error())
		return ss.own(action.HopUnavailable)
	}
	if err := ds.xforward(ss.xfwd); err != nil {
		ss.s.log.Warn("XFORWARD not passed on", "session_id", ss.id, "next_hop", ds.addr, "err", err.Error())
		if ds.closed {
			return ss.own(action.HopFailed)
		}
	}
	if _, ok := ds.ext["SMTPUTF8"]; pa.UTF8 && !ok {
		ds.quit()
		return ss.own(action.HopNoSMTPUTF8)
	}
	params := ss.s.mailParams(ds, pa.Params, ss.id)
	r, err := ds.cmd(ds.to.command, "MAIL FROM:%s%s", pa.Path, joinParams(params))
	if err != nil {
		ds.close()
		return ss.own(action.HopFailed)
	}
	if !r.ok() {
		ds.quit()
		return relayed(r)
	}
	ss.inTx = true
	ss.down, ss.from, ss.fromPath, ss.mailParams = ds, pa.Addr, pa.Path, params
	return relayed(r)
}

// rcpt relays one recipient, after the envelope check.
func (ss *session) rcpt(pa pathArgs) answer {
	if ss.down == nil {
		return ss.own(action.HopFailed)
	}
	if ec, ok := ss.eng.(envelopeChecker); ok {
		env := ss.envelope()
		if v, ok := ec.CheckRecipient(env, pa.Addr); ok && v.Err == nil {
			env.Rcpts = []string{pa.Addr}
			return ss.early(env, v)
		} else if ok && ss.envErr == nil {
			ss.s.logEnginePanic(env, v.Err)
			ss.envErr = v.Err
		}
	}
	params := ss.s.rcptParams(ss.down, pa.Params, ss.id)
	r, err := ss.down.cmd(ss.down.to.command, "RCPT TO:%s%s", pa.Path, joinParams(params))
	if err != nil {
		ss.down.close()
		ss.down = nil
		return ss.own(action.HopFailed)
	}
	if !r.ok() {
		if r.Code == 421 {
			ss.down.close()
			ss.down = nil
		}
		return relayed(r)
	}
	ss.rcpts = append(ss.rcpts, pa.Addr)
	return relayed(r)
}

// envelopeChecker is the engine's early decision at MAIL and RCPT
// (*policy.Engine has it): an envelope-only policy that blocks or
// tempfails refuses the sender or that recipient at once.
type envelopeChecker interface {
	CheckEnvelope(env policy.Envelope) (action.Verdict, bool)
	CheckRecipient(env policy.Envelope, rcpt string) (action.Verdict, bool)
}

// early records an envelope decision and returns its reply: the same
// rendering as a refusal after DATA, and as the milter's.
func (ss *session) early(env policy.Envelope, v action.Verdict) answer {
	act := action.Block
	if v.Action == action.TempFail {
		act = action.TempFail
	}
	w := v.Refusal(act, ss.utf8)
	ss.s.rec.Record(report.Decision{Frontend: "reinject", Envelope: env, Verdict: v, Applied: act, Reply: &w})
	return answer{own: w}
}

// endTx aborts any open downstream transaction (nothing is delivered
// without its final dot) and forgets the envelope and XFORWARD data.
func (ss *session) endTx() {
	if ss.down != nil {
		ss.down.abort()
		ss.down = nil
	}
	ss.xforward = nil
	ss.live.Store(nil)
	ss.inTx = false
	ss.from, ss.fromPath, ss.mailParams, ss.rcpts, ss.xfwd = "", "", nil, nil, nil
	ss.eng = nil
	ss.utf8 = false
	ss.envErr = nil
}

// envelope is what the engine learns of the transaction. XFORWARD data
// from the MTA in front names the original client and its queue id.
func (ss *session) envelope() policy.Envelope {
	env := policy.Envelope{
		SessionID: sessionid.Txn(ss.id, ss.txn),
		HELO:      ss.helo,
		MailFrom:  ss.from,
		Rcpts:     append([]string(nil), ss.rcpts...),
	}
	if h, _, err := net.SplitHostPort(ss.c.raw.RemoteAddr().String()); err == nil {
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

// mailParams keeps the MAIL parameters the downstream can take, as sent:
// SIZE when it offers SIZE, BODY when it offers 8BITMIME (else the body
// goes as it is, like Postfix with MIME conversion off), RET and ENVID when
// it offers DSN, SMTPUTF8 (checked before). AUTH is not passed on: the hop
// does not authenticate.
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
		case "SMTPUTF8":
			need = "SMTPUTF8"
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
