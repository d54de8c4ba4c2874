package config

import (
	"crypto/tls"
	"crypto/x509"
)

// Reinject configures the SMTP reinjection hop ([reinject] section). Every
// field has a default (see defaults.go), applied at load; docs/reinject.md
// describes each routing variant.
type Reinject struct {
	Enabled bool `toml:"enabled"`
	// Listen is the address the hop accepts SMTP on. Default 127.0.0.1:10025.
	Listen HostPort `toml:"listen"`
	// Allow lists the client addresses or CIDRs that may connect; others get
	// 554 at connect. Default 127.0.0.0/8 and ::1.
	Allow []Network `toml:"allow"`
	// Mode is "reflect" (send every message back to ReflectTo, default) or
	// "forward" (send it to the first answering entry of NextHops).
	Mode HopMode `toml:"mode"`
	// ReflectTo is the MTA listener messages go back to. Default 127.0.0.1:10026.
	ReflectTo HostPort `toml:"reflect_to"`
	// SourceAddr is the local IP the outbound connection is bound to (the
	// client-IP routing variant), e.g. 127.0.0.2. Default: chosen by the system.
	SourceAddr IP `toml:"source_addr"`
	// HELOName is the name the hop sends in EHLO downstream (the HELO
	// routing variant) and in its own greeting. Default: the host name.
	HELOName string `toml:"helo_name"`
	// NextHops are the forwarding-mode destinations, tried in order:
	// "host:port" (A/AAAA), "[ip]:port", or "mx:domain" / "mx:domain:port"
	// (MX lookup, lowest preference first, A/AAAA when there is no MX).
	NextHops []NextHop `toml:"next_hops"`
	// Resolver is the DNS server ("ip:port") for next-hop lookups. Default:
	// the first nameserver of /etc/resolv.conf.
	Resolver HostPort `toml:"resolver"`
	// ResolverTimeout bounds one DNS query. Default 5s.
	ResolverTimeout Duration `toml:"resolver_timeout"`

	// MaxConnections bounds concurrent inbound connections; one more gets
	// 421 at connect. Default 100.
	MaxConnections int `toml:"max_connections"`
	// MaxMessageBytes is the largest message accepted (advertised as SIZE);
	// the message is held in memory up to this size until the verdict.
	// Default 50MiB.
	MaxMessageBytes ByteSize `toml:"max_message_bytes"`
	// MaxRecipients per transaction; more get 452. Default 1000.
	MaxRecipients int `toml:"max_recipients"`
	// MaxErrors is how many of its own error replies (syntax, sequence,
	// limits) the hop gives one client before it answers 421 and closes
	// the connection; 0 turns it off. Default 20.
	MaxErrors int `toml:"max_errors"`
	// MaxLineLength bounds a command line and a DATA line; a longer line
	// fails the transaction and closes the connection. Default 64KiB.
	MaxLineLength ByteSize `toml:"max_line_length"`

	// Timeouts per phase, on both legs.
	Timeouts ReinjectTimeouts `toml:"timeouts"`
	// TLS for both legs.
	TLS ReinjectTLS `toml:"tls"`

	// BareNewline is what to do with a bare CR or bare LF in DATA:
	// "reject" (550 5.5.2, default, like Postfix smtpd_forbid_bare_newline)
	// or "normalise" (rewrite to CRLF before scanning and relaying).
	BareNewline BareNewline `toml:"bare_newline"`
	// IncomingPassHeader is what to do with a message that already carries
	// the pass header: "strip" (remove it, scan, add ours; default),
	// "refuse" (550 5.7.1) or "keep" (leave it and add ours).
	IncomingPassHeader IncomingPass `toml:"incoming_pass_header"`
	// XForward accepts XFORWARD from the clients in XForwardFrom and passes
	// it on to a downstream that offers it. Default true.
	XForward *bool `toml:"xforward"`
	// XForwardFrom lists the clients (IPs or CIDRs) whose XFORWARD is
	// believed: it names the original client, HELO and queue id, which the
	// engine and the logs then use (notices believe an internal sender from
	// a trusted original client). Other clients are not offered XFORWARD
	// and get 550 for it. Default 127.0.0.0/8 and ::1 (the local MTA's
	// content_filter or smtpd_proxy_filter); [] trusts nobody.
	XForwardFrom []Network `toml:"xforward_from"`

	// QuarantineTo, when set, receives quarantined messages instead of their
	// recipients (like a redirect). When empty, QuarantineAction applies.
	QuarantineTo string `toml:"quarantine_to"`
	// QuarantineAction is "tempfail" (451, the message stays queued
	// upstream; default), "block" (550) or "hold" (sent on with a hold
	// mark the downstream Postfix maps to HOLD; needs
	// quarantine.hold_key_file) when QuarantineTo is empty.
	QuarantineAction HopQuarantine `toml:"quarantine_action"`
}

// ReinjectTimeouts are the per-phase deadlines of the hop. Zero means default.
type ReinjectTimeouts struct {
	// Command: waiting for the upstream's next command line. Default 5m.
	Command Duration `toml:"command"`
	// Idle: the longest a connection may stay outside a mail transaction
	// (from connect, or from the end of the last transaction, to the next
	// MAIL), whatever it sends meanwhile (NOOP, RSET, EHLO...). Past it
	// the hop answers 421 and closes. An MTA starts its transaction at
	// once and closes or reuses an idle connection within seconds; a
	// client that does neither holds one of max_connections. Default 1m.
	Idle Duration `toml:"idle"`
	// Data: the whole DATA transfer from the upstream. Default 10m.
	Data Duration `toml:"data"`
	// DataIdle: the longest pause between two reads while the upstream
	// streams DATA. Default 3m.
	DataIdle Duration `toml:"data_idle"`
	// Write: writing one reply to the upstream. Default 1m.
	Write Duration `toml:"write"`
	// Connect: opening the downstream connection and its greeting. Default 30s.
	Connect Duration `toml:"connect"`
	// DownstreamCommand: each downstream command reply (EHLO, MAIL, RCPT,
	// DATA, RSET, XFORWARD, STARTTLS). Default 5m.
	DownstreamCommand Duration `toml:"downstream_command"`
	// DownstreamData: each write of message data downstream. Default 3m.
	DownstreamData Duration `toml:"downstream_data"`
	// DownstreamFinal: the downstream's reply after the final dot. Default 10m.
	DownstreamFinal Duration `toml:"downstream_final"`
}

// ReinjectTLS configures STARTTLS on both legs.
type ReinjectTLS struct {
	// CertFile and KeyFile (PEM) enable inbound STARTTLS.
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
	// CAFile (PEM) is the trust store for the downstream certificate.
	// Default: the system roots.
	CAFile string `toml:"ca_file"`
	// ServerName is the name the downstream certificate is verified
	// against. Default: the next hop's host name (or its IP address).
	ServerName string `toml:"server_name"`
	// Outbound is "opportunistic" (STARTTLS when offered, default),
	// "required" (no TLS, no delivery: 4xx) or "none".
	Outbound TLSOutbound `toml:"outbound"`
	// DowngradeAllowed lets a message that came in over TLS leave in
	// plaintext. Default false: the TLS chain rule answers 4xx instead.
	DowngradeAllowed bool `toml:"downgrade_allowed"`

	// Certificate is CertFile and KeyFile, read at load (nil without them).
	Certificate *tls.Certificate `toml:"-"`
	// Roots is CAFile, read at load (nil: the system roots).
	Roots *x509.CertPool `toml:"-"`
}
