package policy

import "io"

// Envelope is what the front end knows about a message besides its content.
type Envelope struct {
	QueueID    string // milter macro i, or the hop's session id
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
