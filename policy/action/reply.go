package action

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Wire is a reply as it goes on the wire: a code, an enhanced status code
// of the same class and text lines that are safe to send. Both front ends
// send exactly these bytes (the milter through the MTA, the hop itself),
// so a sender sees the same reply for the same verdict from either.
type Wire struct {
	Code     int
	Enhanced string   // "5.7.1"; always set, same class as Code
	Lines    []string // at least one; none empty, no control characters, each at most maxLineText bytes
}

// String is the reply as the SMTP client reads it: every line carries the
// code and the enhanced code, lines joined by CRLF, no final CRLF.
func (w Wire) String() string {
	var b strings.Builder
	for i, l := range w.Lines {
		sep := byte(' ')
		if i < len(w.Lines)-1 {
			sep = '-'
		}
		b.WriteString(strconv.Itoa(w.Code))
		b.WriteByte(sep)
		b.WriteString(w.Enhanced)
		if l != "" {
			b.WriteByte(' ')
			b.WriteString(l)
		}
		if i < len(w.Lines)-1 {
			b.WriteString("\r\n")
		}
	}
	return b.String()
}

// Text is the lines joined by "\n" (what a log or an incident records).
func (w Wire) Text() string { return strings.Join(w.Lines, "\n") }

// Permanent reports a 5xx reply.
func (w Wire) Permanent() bool { return w.Code/100 == 5 }

// The replies of the product's own, for both front ends. A policy's reply
// text replaces the text of PolicyBlock and PolicyTempFail.
var (
	PolicyBlock    = Reply{Code: 550, Enhanced: "5.7.1", Text: "Message refused by policy"}
	PolicyTempFail = Reply{Code: 451, Enhanced: "4.7.1", Text: "Message deferred by policy, try again later"}
	// PolicyHeld: a quarantine verdict where the front end has nowhere to
	// hold the message (the hop without quarantine_to).
	PolicyHeld        = Reply{Code: 451, Enhanced: "4.7.1", Text: "Message held by policy, try again later"}
	PolicyHeldRefused = Reply{Code: 550, Enhanced: "5.7.1", Text: "Message held by policy"}
	ScanFailed        = Reply{Code: 451, Enhanced: "4.7.1", Text: "Message could not be scanned, try again later"}
	NULRefused        = Reply{Code: 550, Enhanced: "5.6.0", Text: "Message refused: NUL byte in message data (not allowed in mail text, RFC 5322 section 3.5)"}
	PassHeaderRefused = Reply{Code: 550, Enhanced: "5.7.1", Text: "Message refused: it already carries the inspection pass header"}
)

// The reinjection hop's own replies when it cannot relay, one table:
// every one goes through [Render] like a policy reply.
var (
	HopUnavailable = Reply{Code: 451, Enhanced: "4.4.1", Text: "Next hop not available, try again later"}
	HopFailed      = Reply{Code: 451, Enhanced: "4.4.2", Text: "Next hop failed during the transaction, try again later"}
	HopNoTLS       = Reply{Code: 451, Enhanced: "4.7.5", Text: "Next hop cannot keep this session encrypted, try again later"}
	HopNoSMTPUTF8  = Reply{Code: 553, Enhanced: "5.6.7", Text: "Next hop does not support SMTPUTF8"}
	ClientRefused  = Reply{Code: 554, Enhanced: "5.7.1", Text: "Client not authorized to use this service"}
	TooManyClients = Reply{Code: 421, Enhanced: "4.7.0", Text: "Too many connections, try again later"}
	BareNewline    = Reply{Code: 550, Enhanced: "5.5.2", Text: "Message refused: bare CR or LF in data (line ends must be CRLF)"}
	DataTimeout    = Reply{Code: 451, Enhanced: "4.4.2", Text: "Timeout while receiving the message"}
	DataReadError  = Reply{Code: 451, Enhanced: "4.3.0", Text: "Error while receiving the message"}
	DataLineLong   = Reply{Code: 554, Enhanced: "5.3.4", Text: "Message refused: line too long"}
	MessageTooBig  = Reply{Code: 552, Enhanced: "5.3.4", Text: "Maximum message size exceeded"}
	CommandTooLong = Reply{Code: 500, Enhanced: "5.4.0", Text: "Too long line, closing connection"}
	IdleTimeout    = Reply{Code: 421, Enhanced: "4.4.2", Text: "Idle timeout, bye bye"}
	TooManyErrors  = Reply{Code: 421, Enhanced: "4.7.0", Text: "Too many errors, closing the connection"}
)

// PassHeaderFlood is the reply to a message with more pass header fields
// than pass_header.max_incoming allows (on_too_many: block or tempfail).
func PassHeaderFlood(header string, permanent bool) Reply {
	if permanent {
		return Reply{Code: 550, Enhanced: "5.7.1", Text: "Message refused: too many " + header + " header fields"}
	}
	return Reply{Code: 451, Enhanced: "4.7.1", Text: "Message deferred: too many " + header + " header fields"}
}

// maxLineText bounds the text of one reply line. RFC 5321 section
// 4.5.3.1.5 allows 512 octets per reply line including the code, the
// enhanced code and CRLF. A '%' counts twice: the milter protocol sends
// it doubled (Sendmail reads the text as a format string) and go-milter
// wraps lines over 950 bytes of the doubled text itself; wrapping here,
// before either front end, keeps their replies identical.
const maxLineText = 480

// Render turns r into a wire reply of the class of def (4xx or 5xx): a code
// or enhanced code of another class or malformed is replaced by def's
// (Postfix refuses a milter reply whose enhanced code does not match its
// class and applies milter_default_action instead); an empty text by
// def's. The incident id is appended when the text does not name it, so a
// help desk finds the incident from what the sender saw. Control
// characters become spaces; non-ASCII is sent only when the session
// negotiated SMTPUTF8 (RFC 6531 section 3.7.4.1) and is otherwise
// replaced by '?'; invalid UTF-8 is always replaced.
func Render(r Reply, def Reply, incident string, smtputf8 bool) Wire {
	class := def.Code / 100
	code := r.Code
	if code/100 != class || code < 100 || code > 599 {
		code = def.Code
	}
	enh := r.Enhanced
	if !validEnhanced(enh, class) {
		enh = def.Enhanced
		if !validEnhanced(enh, class) {
			enh = strconv.Itoa(class) + ".0.0"
		}
	}
	text := r.Text
	if strings.TrimSpace(text) == "" {
		text = def.Text
	}
	if id := strings.Join(replyLines(incident, smtputf8), " "); id != "" && !strings.Contains(strings.Join(replyLines(text, smtputf8), " "), id) {
		text = strings.TrimRight(text, " \t\r\n") + " (incident " + incident + ")"
	}
	lines := replyLines(text, smtputf8)
	if len(lines) == 0 {
		// Nothing printable was left of the policy's text.
		lines = replyLines(def.Text, smtputf8)
		if len(lines) == 0 {
			lines = []string{"Refused"}
		}
	}
	return Wire{Code: code, Enhanced: enh, Lines: lines}
}

// Refusal is the reply for a verdict that refuses the message: act is
// what the front end applies (Block or TempFail; a failure outcome may
// differ from v.Action), v's reply text and incident id are used when its
// class matches.
func (v Verdict) Refusal(act Action, smtputf8 bool) Wire {
	def := PolicyTempFail
	if act == Block {
		def = PolicyBlock
	}
	return Render(v.Reply, def, v.IncidentID, smtputf8)
}

// validEnhanced checks class.subject.detail (RFC 3463: subject and detail
// 0-999 without leading zeros) and the class.
func validEnhanced(s string, class int) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] != strconv.Itoa(class) {
		return false
	}
	for _, p := range parts[1:] {
		if p == "" || len(p) > 3 || (len(p) > 1 && p[0] == '0') {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

// replyLines splits text at newlines, cleans each line and wraps lines
// wider than maxLineText at a space where there is one. Empty lines are
// dropped: they carry nothing, and the milter path (go-milter, then the
// MTA) and the hop would write them differently ("550-5.7.1" with or
// without a space). The result may be empty.
func replyLines(text string, smtputf8 bool) []string {
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		l = strings.Trim(cleanLine(l, smtputf8), " ")
		for l != "" {
			cut := wrapAt(l)
			if head := strings.TrimRight(l[:cut], " "); head != "" {
				lines = append(lines, head)
			}
			l = strings.TrimLeft(l[cut:], " ")
		}
	}
	return lines
}

// wrapAt is where l is cut: len(l) when it fits in maxLineText (a '%'
// counting twice), else after the last space that keeps the head within
// it, else at the last character boundary within it.
func wrapAt(l string) int {
	width, space := 0, -1
	for i := 0; i < len(l); i++ {
		width++
		if l[i] == '%' {
			width++
		}
		if width > maxLineText {
			if space > 0 {
				return space
			}
			cut := i
			for cut > 0 && !utf8.RuneStart(l[cut]) {
				cut--
			}
			if cut == 0 {
				cut = i // not reached: cleanLine leaves valid UTF-8
			}
			return max(cut, 1)
		}
		if l[i] == ' ' {
			space = i
		}
	}
	return len(l)
}

func cleanLine(l string, smtputf8 bool) string {
	var b strings.Builder
	b.Grow(len(l))
	for i := 0; i < len(l); {
		c := l[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				c = ' '
			}
			b.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(l[i:])
		i += n
		switch {
		case r == utf8.RuneError || !smtputf8:
			b.WriteByte('?')
		case r < 0xa0 || r == 0x2028 || r == 0x2029:
			b.WriteByte(' ') // C1 controls and Unicode line separators
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
