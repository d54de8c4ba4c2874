// Package reinject is the SMTP reinjection hop: a proxy that receives mail
// over SMTP (RFC 5321), runs the policy engine on each message and sends
// it on, back to the MTA (reflecting mode) or to the next hop (forwarding
// mode). It never stores mail and never answers 250 for a message before
// the downstream has: each inbound transaction mirrors one downstream
// transaction, MAIL and RCPT are relayed with the downstream's own
// replies, and the message goes downstream only after the verdict.
//
// The inbound side is the hop's own session loop: one goroutine per
// connection reads each command line (bounded by max_line_length), checks
// it against the session's state and answers it, pipelined commands
// included (RFC 2920); DATA is read by its own dot-unstuffing reader that
// notes bare CR and LF on the raw bytes. The downstream's replies go
// upstream as they came; every reply of the hop's own is rendered by
// policy/action, as the milter's are. The downstream side speaks
// net/textproto so that command lines and replies pass through unchanged.
// Next hops are looked up with github.com/miekg/dns.
//
// [Server] is built by [New] from the [reinject] configuration section, as
// loaded (addresses parsed, TLS files read);
// docs/reinject.md describes the routing variants and every setting.
package reinject
