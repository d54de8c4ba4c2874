// Package reinject is the SMTP reinjection hop: a proxy that receives mail
// over SMTP (RFC 5321), runs the policy engine on each message and sends
// it on, back to the MTA (reflecting mode) or to the next hop (forwarding
// mode). It never stores mail and never answers 250 for a message before
// the downstream has: each inbound transaction mirrors one downstream
// transaction, MAIL and RCPT are relayed with the downstream's own
// replies, and the message goes downstream only after the verdict.
//
// The inbound side is github.com/emersion/go-smtp behind [cmdConn], a thin
// command interceptor for what go-smtp has no hook for (XFORWARD, HELP,
// STARTTLS, DATA deadlines, the EHLO keyword list). The downstream side
// speaks net/textproto so that command lines and replies pass through
// unchanged. Next hops are looked up with github.com/miekg/dns.
//
// [Server] is built by [New] from the [reinject] configuration section, as
// loaded (addresses parsed, TLS files read);
// docs/reinject.md describes the routing variants and every setting.
package reinject
