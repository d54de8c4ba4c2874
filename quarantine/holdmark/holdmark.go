// Package holdmark is the hold mark of the reinjection hop: a header field
// the hop adds to a message it wants held, which the downstream Postfix
// maps to HOLD with a header_checks rule (contrib/postfix/maildlp_hold.pcre)
// and removes when it delivers the message (smtp_header_checks IGNORE).
//
// The field carries the incident id and the hop's session id with an
// HMAC-SHA256 under a key only maildlp knows. Postfix cannot check the
// MAC; it is what lets `maildlp quarantine sync` tell a message held by
// maildlp for incident X from one whose sender wrote the field himself,
// and link the held message to its incident. The hop removes every
// incoming field of this name, so a mark that reaches the downstream
// through the hop is always its own.
package holdmark

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// Header is the name of the hold mark field.
const Header = "X-Maildlp-Hold"

// Mark is what a hold mark says.
type Mark struct {
	IncidentID string
	SessionID  string
}

var (
	// ErrMalformed is returned for a field that is not a hold mark.
	ErrMalformed = errors.New("holdmark: malformed hold mark")
	// ErrForged is returned for a hold mark whose MAC does not verify.
	ErrForged = errors.New("holdmark: hold mark not made with this key")
)

// New returns the field value for m: "v1 i=<incident> s=<session> m=<mac>".
// Ids are kept to a safe alphabet so the value is one header line.
func New(key []byte, m Mark) string {
	i, s := clean(m.IncidentID), clean(m.SessionID)
	return "v1 i=" + i + " s=" + s + " m=" + mac(key, i, s)
}

func mac(key []byte, i, s string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("maildlp-hold-v1\x00" + i + "\x00" + s))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// clean keeps letters, digits and -._: of an id; others become '_'.
func clean(id string) string {
	if len(id) > 128 {
		id = id[:128]
	}
	b := []byte(id)
	for k, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '.' || c == '_' || c == ':') {
			b[k] = '_'
		}
	}
	return string(b)
}

// Parse reads and verifies a field value made by New with key.
func Parse(key []byte, value string) (Mark, error) {
	f := strings.Fields(value)
	if len(f) != 4 || f[0] != "v1" || !strings.HasPrefix(f[1], "i=") || !strings.HasPrefix(f[2], "s=") || !strings.HasPrefix(f[3], "m=") {
		return Mark{}, ErrMalformed
	}
	i, s, m := f[1][2:], f[2][2:], f[3][2:]
	if i == "" || clean(i) != i || clean(s) != s {
		return Mark{}, ErrMalformed
	}
	if !hmac.Equal([]byte(m), []byte(mac(key, i, s))) {
		return Mark{}, ErrForged
	}
	return Mark{IncidentID: i, SessionID: s}, nil
}

// QueuedAs returns the queue id in a final 250 reply text such as
// "2.0.0 Ok: queued as 4XyZ1AbCdE" (Postfix) or "... Message accepted for
// delivery" with none (""). Only letters and digits are taken.
func QueuedAs(text string) string {
	const p = "queued as "
	k := strings.LastIndex(text, p)
	if k < 0 {
		return ""
	}
	rest := text[k+len(p):]
	n := 0
	for n < len(rest) && n < 32 && (rest[n] >= '0' && rest[n] <= '9' || rest[n] >= 'a' && rest[n] <= 'z' || rest[n] >= 'A' && rest[n] <= 'Z') {
		n++
	}
	if n < 6 {
		return ""
	}
	return rest[:n]
}
