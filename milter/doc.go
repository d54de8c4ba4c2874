// Package milter is the in-protocol front end for Postfix and Sendmail:
// a milter server (Sendmail milter protocol version 2 to 6; its own
// session loop in loop.go, with github.com/d--j/go-milter's protocol types)
// whose sessions translate the MTA's events into a [policy.Message] for the
// engine and the engine's one verdict back into milter responses.
//
// Envelope-only policies decide at MAIL FROM and RCPT TO. Header fields and
// body chunks are held in pooled blocks up to the engine's
// max_message_bytes (the rest is counted and dropped), so memory is bounded
// by the engine's limits, not by the message size; at end of message
// [policy.Engine.Evaluate] reads them, sized up front, in the connection's
// goroutine when the message is held in memory and a scan slot is free
// (inline.go), else in a goroutine of its own. The verdict becomes a reply (block, tempfail), a quarantine,
// recipient changes (redirect), header changes (modify) and the pass header.
// Failures (scan deadline, too many sessions, engine error or panic) take
// their configured outcome: tempfail, accept or quarantine.
//
// [Server] is built by [New] from the [milter] configuration section, as
// loaded; [ListenAddr] opens its listeners from the addresses parsed at
// load, written as Postfix and Sendmail write them (inet:port@host,
// inet:host:port, unix:/path).
package milter
