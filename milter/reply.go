package milter

import (
	"fmt"
	"regexp"
	"strings"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/policy/action"
)

// Default reply texts when a policy gives none.
const (
	defaultBlockText    = "Message refused by policy"
	defaultTempFailText = "Message deferred by policy, try again later"
	failureTempFailText = "Message could not be scanned, try again later"
	nulRefusalText      = "Message refused: NUL byte in message data (not allowed in mail text, RFC 5322 section 3.5)"
)

var enhancedRE = regexp.MustCompile(`^[245]\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$`)

// smtpReply is a normalised reply: code and enhanced code of the same
// class, text lines without control characters.
type smtpReply struct {
	Code     uint16
	Enhanced string
	Lines    []string
}

// newReply normalises a policy reply for a permanent (block) or temporary
// refusal. Postfix refuses a milter reply whose enhanced code is missing
// or of another class than the code ("malformed reply", then it applies
// milter_default_action), so both are fixed here rather than trusted. The
// incident id is appended when the text does not name it, so that the
// help desk can find the incident from what the sender saw.
func newReply(r action.Reply, permanent bool, incident string) smtpReply {
	code := r.Code
	class := byte('5')
	if permanent {
		if code < 500 || code > 599 {
			code = 550
		}
	} else {
		class = '4'
		if code < 400 || code > 499 {
			code = 451
		}
	}
	enh := r.Enhanced
	if !enhancedRE.MatchString(enh) || enh[0] != class {
		enh = string(class) + ".7.1"
	}
	text := r.Text
	if strings.TrimSpace(text) == "" {
		text = defaultBlockText
		if !permanent {
			text = defaultTempFailText
		}
	}
	if incident != "" && !strings.Contains(text, incident) {
		text = strings.TrimRight(text, " \r\n") + " (incident " + incident + ")"
	}
	lines := splitReplyText(text)
	return smtpReply{Code: uint16(code), Enhanced: enh, Lines: lines}
}

// splitReplyText splits text into lines and replaces control characters
// (CR, NUL, ...) by spaces; empty leading and trailing lines are dropped.
func splitReplyText(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	raw := strings.Split(text, "\n")
	var lines []string
	for _, l := range raw {
		l = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return ' '
			}
			return r
		}, l)
		lines = append(lines, strings.TrimRight(l, " "))
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	for len(lines) > 1 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// String is the reply as the SMTP client sees it (multi-line replies are
// joined by CRLF), for logs and tests.
func (r smtpReply) String() string {
	var b strings.Builder
	for i, l := range r.Lines {
		sep := "-"
		if i == len(r.Lines)-1 {
			sep = " "
		}
		fmt.Fprintf(&b, "%d%s%s %s", r.Code, sep, r.Enhanced, l)
		if i < len(r.Lines)-1 {
			b.WriteString("\r\n")
		}
	}
	return b.String()
}

// response builds the milter SMFIR_REPLYCODE response. go-milter doubles
// every '%' (Sendmail uses the reply as a format string and ignores the
// whole text on a single '%'; Postfix turns "%%" back into "%"), writes the
// enhanced code on each line of a multi-line reply and wraps lines longer
// than 950 bytes.
func (r smtpReply) response() *gomilter.Response {
	reason := r.Enhanced + " " + strings.Join(r.Lines, "\n")
	resp, err := gomilter.RejectWithCodeAndReason(r.Code, reason)
	if err != nil {
		// Only a text past the 64 KiB packet size gets here.
		fallback := defaultBlockText
		if r.Code < 500 {
			fallback = defaultTempFailText
		}
		resp, _ = gomilter.RejectWithCodeAndReason(r.Code, r.Enhanced+" "+fallback)
	}
	return resp
}
