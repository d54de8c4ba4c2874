package outbox

import (
	"bytes"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"

	"github.com/maildlp/maildlp/policy/action"
)

// render builds the RFC 5322 message of a notice with CRLF line endings.
// An ASCII body with short lines goes as it is (7bit); any other is
// quoted-printable UTF-8, so the message is 7-bit clean whatever the relay
// offers.
func render(id, from string, created time.Time, incidentID string, n action.Notice) ([]byte, error) {
	var b bytes.Buffer
	hdr := func(name, value string) {
		b.WriteString(name)
		b.WriteString(": ")
		b.WriteString(value)
		b.WriteString("\r\n")
	}
	hdr("Date", created.Format(time.RFC1123Z))
	hdr("Message-ID", messageID(id, from))
	hdr("From", from)
	hdr("To", strings.Join(n.To, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", oneLine(n.Subject)))
	hdr("MIME-Version", "1.0")
	body := strings.ReplaceAll(n.Body, "\r\n", "\n")
	plain := is7bit(body)
	hdr("Content-Type", "text/plain; charset=utf-8")
	if plain {
		hdr("Content-Transfer-Encoding", "7bit")
	} else {
		hdr("Content-Transfer-Encoding", "quoted-printable")
	}
	// RFC 3834: tell vacation responders not to answer.
	hdr("Auto-Submitted", "auto-generated")
	if incidentID != "" {
		hdr("X-Maildlp-Incident", oneLine(incidentID))
	}
	b.WriteString("\r\n")
	body = strings.ReplaceAll(body, "\n", "\r\n")
	if plain {
		b.WriteString(body)
		if !strings.HasSuffix(body, "\r\n") {
			b.WriteString("\r\n")
		}
		return b.Bytes(), nil
	}
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, fmt.Errorf("outbox: encode body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("outbox: encode body: %w", err)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

// messageID is the stable Message-ID of notice id: the same on every
// attempt, so a duplicate after a crash can be recognised.
func messageID(id, from string) string {
	domain := "maildlp.invalid"
	if at := strings.LastIndexByte(from, '@'); at >= 0 && at+1 < len(from) {
		domain = strings.Trim(from[at+1:], "<> ")
	}
	return "<" + id + "@" + domain + ">"
}

// oneLine keeps a header value on one line: CR and LF would start a new
// header field.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// is7bit reports whether body can be sent as it is: ASCII without NUL or
// bare CR, lines of at most 998 characters (RFC 5322 2.1.1).
func is7bit(body string) bool {
	for _, line := range strings.Split(body, "\n") {
		if len(line) > 998 {
			return false
		}
		for i := 0; i < len(line); i++ {
			if c := line[i]; c == 0 || c == '\r' || c >= 0x80 {
				return false
			}
		}
	}
	return true
}
