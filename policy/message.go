package policy

import "io"

// Envelope is what the front end knows about a message besides its content.
type Envelope struct {
	// SessionID is the front end's own id of the SMTP session and
	// transaction (milter connection, hop connection); QueueID is the
	// MTA's queue id when the MTA tells it (milter macro i, the hop's
	// XFORWARD IDENT), empty otherwise. Both are recorded, never one for
	// the other.
	SessionID  string
	QueueID    string
	ClientAddr string // IP address of the SMTP client
	ClientName string // reverse DNS name, if known
	HELO       string
	AuthUser   string // SASL login, if any
	MailFrom   string // envelope sender, without angle brackets
	Rcpts      []string
}

// Message is one message to evaluate. Body reads the whole RFC 5322
// message (header and body) and is read at most once, as a stream.
type Message struct {
	Envelope Envelope
	Body     io.Reader
}
