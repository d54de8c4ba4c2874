package reinject

import (
	"errors"
	"io"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/maildlp/maildlp/internal/sessionid"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

// serveConn runs one inbound SMTP session (RFC 5321) to its end: the
// greeting, then one command loop in which each command is read, checked
// against the session's state and answered. Replies to pipelined commands
// are held back until no complete command is waiting (RFC 2920). The hop
// writes its own replies through policy/action and the downstream's as
// they came. xfwd: the client's XFORWARD is believed.
func (s *Server) serveConn(conn net.Conn, xfwd bool) {
	ss := &session{
		s:         s,
		c:         newSMTPConn(conn, int(s.cfg.MaxLineLength), s.cfg.Timeouts.Write.D()),
		id:        sessionid.New(),
		xfwdOK:    xfwd,
		idleSince: time.Now(),
	}
	if !s.track(ss, true) {
		conn.Close()
		ss.c.free()
		return
	}
	defer func() {
		if p := recover(); p != nil {
			s.logPanic(policy.Envelope{SessionID: ss.id}, "reinject", p, debug.Stack())
			ss.say(421, "4.3.0", "Internal server error")
		}
		ss.c.flush()
		ss.endTx()
		conn.Close()
		s.track(ss, false)
		ss.c.free()
	}()
	ss.c.writeLines(220, s.cfg.HELOName+" ESMTP Service Ready")
	for {
		line, err := ss.c.readLine(ss.commandDeadline(time.Now()))
		if err != nil {
			var ne net.Error
			switch {
			case errors.Is(err, errBadLine):
				ss.say(500, "5.5.2", "Error: NUL or bare CR in command line")
				continue
			case errors.Is(err, errLineTooLong):
				ss.write(ss.own(action.CommandTooLong))
			case errors.As(err, &ne) && ne.Timeout():
				ss.write(ss.own(action.IdleTimeout))
			case !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed):
				s.log.Debug("inbound read failed", "session_id", ss.id, "err", err.Error())
			}
			return
		}
		// A reply that could not be written ends the session: the
		// client no longer hears what the hop does.
		if !ss.command(line) || ss.c.err != nil {
			return
		}
		if ss.tooManyErrors() {
			s.log.Warn("client disconnected: too many errors", "session_id", ss.id, "errors", ss.errors)
			ss.write(ss.own(action.TooManyErrors))
			return
		}
	}
}

// commandDeadline is when the wait for the next command line ends: the
// command timeout, and outside a transaction no later than timeouts.idle
// after the connection became idle (NOOP, RSET and the like do not count
// as activity).
func (ss *session) commandDeadline(now time.Time) time.Time {
	dl := now.Add(ss.s.cfg.Timeouts.Command.D())
	if ss.wasTx && !ss.inTx {
		ss.idleSince = now
	}
	ss.wasTx = ss.inTx
	if idle := ss.s.cfg.Timeouts.Idle.D(); idle > 0 && !ss.inTx {
		if end := ss.idleSince.Add(idle); end.Before(dl) {
			dl = end
		}
	}
	return dl
}

// command answers one command line; false ends the session.
func (ss *session) command(line string) bool {
	verb, args := parseCommand(line)
	if ss.helo == "" {
		switch verb {
		case "EHLO", "HELO", "QUIT", "NOOP", "RSET", "HELP", "VRFY":
		default:
			if ss.c.tls != nil {
				ss.say(503, "5.5.1", "Send EHLO first after STARTTLS")
			} else {
				ss.say(503, "5.5.1", "Error: send HELO/EHLO first")
			}
			return true
		}
	}
	switch verb {
	case "EHLO", "HELO":
		ss.hello(verb, args)
	case "MAIL":
		if ss.inTx {
			ss.say(503, "5.5.1", "Error: nested MAIL command")
			return true
		}
		pa, err := parsePathArgs(args, "FROM:")
		if err != nil {
			ss.syntaxError(err)
			return true
		}
		ss.write(ss.mail(pa))
	case "RCPT":
		if !ss.inTx {
			ss.say(502, "5.5.1", "Missing MAIL FROM command")
			return true
		}
		pa, err := parsePathArgs(args, "TO:")
		if err != nil {
			ss.syntaxError(err)
			return true
		}
		if max := ss.s.cfg.MaxRecipients; max > 0 && len(ss.rcpts) >= max {
			ss.say(452, "4.5.3", "Maximum limit of "+strconv.Itoa(max)+" recipients reached")
			return true
		}
		ss.write(ss.rcpt(pa))
	case "DATA":
		switch {
		case args != "":
			ss.say(501, "5.5.4", "Syntax: DATA")
		case !ss.inTx:
			ss.say(503, "5.5.1", "Error: need MAIL command")
		case len(ss.rcpts) == 0:
			ss.say(503, "5.5.1", "Error: need RCPT command")
		default:
			a, inStep := ss.data()
			if a.raw != nil || a.own.Code != 0 {
				ss.write(a)
			}
			return inStep
		}
	case "RSET":
		ss.endTx()
		ss.say(250, "2.0.0", "Ok")
	case "NOOP":
		ss.say(250, "2.0.0", "Ok")
	case "VRFY":
		ss.say(252, "2.5.0", "Cannot VRFY user, but will accept message")
	case "HELP":
		ss.say(214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS XFORWARD")
	case "QUIT":
		ss.say(221, "2.0.0", "Bye")
		return false
	case "STARTTLS":
		if ss.s.tlsServer == nil {
			ss.say(502, "5.5.1", "TLS not supported")
			return true
		}
		return ss.startTLS(args)
	case "XFORWARD":
		if !*ss.s.cfg.XForward {
			ss.say(500, "5.5.2", "Error: command not recognized")
			return true
		}
		ss.xforwardCmd(args)
	case "BDAT":
		// CHUNKING is not offered; the chunk that follows would be read as
		// commands, so the connection ends here.
		ss.say(554, "5.5.1", "BDAT not supported (CHUNKING is not offered), closing connection")
		return false
	case "":
		ss.say(500, "5.5.2", "Error: bad syntax")
	default:
		ss.say(500, "5.5.2", "Error: command not recognized")
	}
	return true
}

func (ss *session) syntaxError(err error) {
	var se *errSyntax
	if errors.As(err, &se) {
		ss.say(se.code, se.enh, se.msg)
		return
	}
	ss.say(501, "5.5.2", "Syntax error")
}

// hello answers EHLO and HELO; either resets the session as RSET does
// (RFC 5321 section 4.1.4). EHLO lists what the hop passes on faithfully:
// no CHUNKING (BDAT is refused), STARTTLS with a certificate, XFORWARD to
// the clients whose XFORWARD is believed.
func (ss *session) hello(verb, args string) {
	name, _, _ := strings.Cut(args, " ")
	if name == "" {
		ss.say(501, "5.5.2", "Syntax: "+verb+" hostname")
		return
	}
	ss.endTx()
	ss.helo, ss.ehlo = name, verb == "EHLO"
	greet := "Hello " + sanitizeEcho(name)
	if !ss.ehlo {
		ss.say(250, "2.0.0", greet)
		return
	}
	lines := []string{greet, "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"}
	if ss.s.tlsServer != nil && ss.c.tls == nil {
		lines = append(lines, "STARTTLS")
	}
	if ss.xfwdOK && *ss.s.cfg.XForward {
		lines = append(lines, "XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE")
	}
	lines = append(lines, "HELP", "DSN", "SMTPUTF8",
		"SIZE "+strconv.FormatUint(uint64(ss.s.cfg.MaxMessageBytes), 10))
	if max := ss.s.cfg.MaxRecipients; max > 0 {
		lines = append(lines, "LIMITS RCPTMAX="+strconv.Itoa(max))
	}
	ss.c.writeLines(250, lines...)
}

// startTLS answers STARTTLS and runs the handshake; false ends the
// session (a failed handshake).
func (ss *session) startTLS(args string) bool {
	switch {
	case ss.c.tls != nil:
		ss.say(502, "5.5.1", "Already running in TLS")
		return true
	case args != "":
		ss.say(501, "5.5.4", "Syntax: STARTTLS")
		return true
	case ss.inTx:
		ss.say(503, "5.5.1", "STARTTLS not allowed during a mail transaction")
		return true
	}
	ss.say(220, "2.0.0", "Ready to start TLS")
	if ss.c.flush() != nil {
		return false
	}
	if err := ss.c.startTLS(ss.s.tlsServer, ss.s.cfg.Timeouts.Command.D()); err != nil {
		ss.s.log.Info("inbound TLS handshake failed", "client", ss.c.raw.RemoteAddr().String(), "err", err)
		return false
	}
	// The client must say EHLO again (RFC 3207 section 4.2).
	ss.helo, ss.ehlo = "", false
	ss.xforward = nil
	return true
}

// xforwardCmd answers one XFORWARD command (Postfix XFORWARD_README).
func (ss *session) xforwardCmd(args string) {
	if !ss.xfwdOK {
		// Postfix's answer to a client outside smtpd_authorized_xforward_hosts.
		ss.say(550, "5.7.0", "Error: insufficient authorization")
		return
	}
	if ss.inTx {
		ss.say(503, "5.5.1", "Error: MAIL transaction in progress")
		return
	}
	attrs, err := parseXForward(args)
	if err != nil {
		ss.syntaxError(err)
		return
	}
	for _, a := range attrs {
		ss.xforward = setXForward(ss.xforward, a)
	}
	ss.say(250, "2.0.0", "Ok")
}
