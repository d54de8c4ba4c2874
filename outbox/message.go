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
// The body is quoted-printable UTF-8, so the message is 7-bit clean
// whatever the relay offers.
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
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	// RFC 3834: tell vacation responders not to answer.
	hdr("Auto-Submitted", "auto-generated")
	if incidentID != "" {
		hdr("X-Maildlp-Incident", oneLine(incidentID))
	}
	b.WriteString("\r\n")
	body := strings.ReplaceAll(n.Body, "\r\n", "\n")
	body = strings.ReplaceAll(body, "\n", "\r\n")
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
