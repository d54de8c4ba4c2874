package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// Reinject configures the SMTP reinjection hop ([reinject] section). Every
// field has a default, applied by [Reinject.WithDefaults]; docs/reinject.md
// describes each routing variant.
type Reinject struct {
	Enabled bool `toml:"enabled"`
	// Listen is the address the hop accepts SMTP on. Default 127.0.0.1:10025.
	Listen string `toml:"listen"`
	// Allow lists the client addresses or CIDRs that may connect; others get
	// 554 at connect. Default 127.0.0.0/8 and ::1.
	Allow []string `toml:"allow"`
	// Mode is "reflect" (send every message back to ReflectTo, default) or
	// "forward" (send it to the first answering entry of NextHops).
	Mode string `toml:"mode"`
	// ReflectTo is the MTA listener messages go back to. Default 127.0.0.1:10026.
	ReflectTo string `toml:"reflect_to"`
	// SourceAddr is the local IP the outbound connection is bound to (the
	// client-IP routing variant), e.g. 127.0.0.2. Default: chosen by the system.
	SourceAddr string `toml:"source_addr"`
	// HELOName is the name the hop sends in EHLO downstream (the HELO
	// routing variant) and in its own greeting. Default: the host name.
	HELOName string `toml:"helo_name"`
	// NextHops are the forwarding-mode destinations, tried in order:
	// "host:port" (A/AAAA), "[ip]:port", or "mx:domain" / "mx:domain:port"
	// (MX lookup, lowest preference first, A/AAAA when there is no MX).
	NextHops []string `toml:"next_hops"`
	// Resolver is the DNS server ("ip:port") for next-hop lookups. Default:
	// the first nameserver of /etc/resolv.conf.
	Resolver string `toml:"resolver"`
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
	BareNewline string `toml:"bare_newline"`
	// IncomingPassHeader is what to do with a message that already carries
	// the pass header: "strip" (remove it, scan, add ours; default),
	// "refuse" (550 5.7.1) or "keep" (leave it and add ours).
	IncomingPassHeader string `toml:"incoming_pass_header"`
	// XForward accepts XFORWARD from the clients in XForwardFrom and passes
	// it on to a downstream that offers it. Default true.
	XForward *bool `toml:"xforward"`
	// XForwardFrom lists the clients (IPs or CIDRs) whose XFORWARD is
	// believed: it names the original client, HELO and queue id, which the
	// engine and the logs then use (notices believe an internal sender from
	// a trusted original client). Other clients are not offered XFORWARD
	// and get 550 for it. Default 127.0.0.0/8 and ::1 (the local MTA's
	// content_filter or smtpd_proxy_filter); [] trusts nobody.
	XForwardFrom []string `toml:"xforward_from"`

	// QuarantineTo, when set, receives quarantined messages instead of their
	// recipients (like a redirect). When empty, QuarantineAction applies.
	QuarantineTo string `toml:"quarantine_to"`
	// QuarantineAction is "tempfail" (451, the message stays queued
	// upstream; default), "block" (550) or "hold" (sent on with a hold
	// mark the downstream Postfix maps to HOLD; needs
	// quarantine.hold_key_file) when QuarantineTo is empty.
	QuarantineAction string `toml:"quarantine_action"`
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
	Outbound string `toml:"outbound"`
	// DowngradeAllowed lets a message that came in over TLS leave in
	// plaintext. Default false: the TLS chain rule answers 4xx instead.
	DowngradeAllowed bool `toml:"downgrade_allowed"`
}

// Reinject defaults.
const (
	DefaultReinjectListen    = "127.0.0.1:10025"
	DefaultReinjectReflectTo = "127.0.0.1:10026"
)

// WithDefaults returns r with every unset field set to its default.
func (r Reinject) WithDefaults() Reinject {
	setS := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	setD := func(p *Duration, v time.Duration) {
		if *p == 0 {
			*p = Duration(v)
		}
	}
	setS(&r.Listen, DefaultReinjectListen)
	if r.Allow == nil {
		r.Allow = []string{"127.0.0.0/8", "::1/128"}
	}
	setS(&r.Mode, "reflect")
	setS(&r.ReflectTo, DefaultReinjectReflectTo)
	if r.HELOName == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		r.HELOName = h
	}
	setD(&r.ResolverTimeout, 5*time.Second)
	if r.MaxConnections == 0 {
		r.MaxConnections = 100
	}
	if r.MaxMessageBytes == 0 {
		r.MaxMessageBytes = 50 << 20
	}
	if r.MaxRecipients == 0 {
		r.MaxRecipients = 1000
	}
	if r.MaxLineLength == 0 {
		r.MaxLineLength = 64 << 10
	}
	t := &r.Timeouts
	setD(&t.Command, 5*time.Minute)
	setD(&t.Idle, time.Minute)
	setD(&t.Data, 10*time.Minute)
	setD(&t.DataIdle, 3*time.Minute)
	setD(&t.Write, time.Minute)
	setD(&t.Connect, 30*time.Second)
	setD(&t.DownstreamCommand, 5*time.Minute)
	setD(&t.DownstreamData, 3*time.Minute)
	setD(&t.DownstreamFinal, 10*time.Minute)
	setS(&r.TLS.Outbound, "opportunistic")
	setS(&r.BareNewline, "reject")
	setS(&r.IncomingPassHeader, "strip")
	if r.XForward == nil {
		t := true
		r.XForward = &t
	}
	if r.XForwardFrom == nil {
		r.XForwardFrom = []string{"127.0.0.0/8", "::1/128"}
	}
	setS(&r.QuarantineAction, "tempfail")
	return r
}

// Check reports every invalid value of r (after defaults), prefixed with
// its key path under [reinject] ("reinject.mode \"x\" is not ...").
func (r Reinject) Check() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("reinject.%s %s", key, fmt.Sprintf(format, args...)))
	}
	oneOf := func(key, v string, allowed ...string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		bad(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
	if _, _, err := net.SplitHostPort(r.Listen); err != nil {
		bad("listen", "%q is not host:port", r.Listen)
	}
	for _, a := range r.Allow {
		if _, err := ParseAllow(a); err != nil {
			bad("allow", "%v", err)
		}
	}
	for _, a := range r.XForwardFrom {
		if _, err := ParseAllow(a); err != nil {
			bad("xforward_from", "%v", err)
		}
	}
	oneOf("mode", r.Mode, "reflect", "forward")
	if r.Mode == "reflect" {
		if _, _, err := net.SplitHostPort(r.ReflectTo); err != nil {
			bad("reflect_to", "%q is not host:port", r.ReflectTo)
		}
	}
	if r.Mode == "forward" && len(r.NextHops) == 0 {
		bad("next_hops", "forward mode needs at least one next hop")
	}
	for _, h := range r.NextHops {
		if _, err := ParseNextHop(h); err != nil {
			bad("next_hops", "%v", err)
		}
	}
	if r.SourceAddr != "" {
		if _, err := netip.ParseAddr(r.SourceAddr); err != nil {
			bad("source_addr", "%q is not an IP address", r.SourceAddr)
		}
	}
	if strings.ContainsAny(r.HELOName, " \t\r\n") {
		bad("helo_name", "%q contains white space", r.HELOName)
	}
	if r.Resolver != "" {
		if _, _, err := net.SplitHostPort(r.Resolver); err != nil {
			bad("resolver", "%q is not ip:port", r.Resolver)
		}
	}
	if r.MaxConnections < 0 {
		bad("max_connections", "negative")
	}
	if r.MaxRecipients < 0 {
		bad("max_recipients", "negative")
	}
	if r.MaxMessageBytes < 0 || r.MaxMessageBytes > 1<<32-1 {
		bad("max_message_bytes", "must be between 1 and 4GiB-1")
	}
	if r.MaxLineLength < 1000 && r.MaxLineLength != 0 {
		bad("max_line_length", "must be at least 1000 (RFC 5321)")
	}
	oneOf("tls.outbound", r.TLS.Outbound, "opportunistic", "required", "none")
	if (r.TLS.CertFile == "") != (r.TLS.KeyFile == "") {
		bad("tls", "cert_file and key_file go together")
	}
	oneOf("bare_newline", r.BareNewline, "reject", "normalise")
	oneOf("incoming_pass_header", r.IncomingPassHeader, "strip", "refuse", "keep")
	oneOf("quarantine_action", r.QuarantineAction, "tempfail", "block", "hold")
	if strings.ContainsAny(r.QuarantineTo, "<> \t\r\n") {
		bad("quarantine_to", "%q is not a bare address", r.QuarantineTo)
	}
	return errors.Join(errs...)
}

// ParseAllow parses one [reinject] allow entry: an IP address or a CIDR.
func ParseAllow(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// NextHop is one parsed next_hops entry.
type NextHop struct {
	Host string // name or IP address, without brackets
	Port int
	MX   bool // resolve Host's MX records first
}

// ParseNextHop parses "host:port", "[ip]:port", "mx:domain" or "mx:domain:port".
func ParseNextHop(s string) (NextHop, error) {
	var h NextHop
	rest := s
	if d, ok := strings.CutPrefix(s, "mx:"); ok {
		h.MX = true
		rest = d
		if !strings.Contains(d, ":") {
			rest = d + ":25"
		}
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil || host == "" {
		return h, fmt.Errorf("next hop %q: want host:port, [ip]:port or mx:domain[:port]", s)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return h, fmt.Errorf("next hop %q: bad port %q", s, port)
	}
	if h.MX && net.ParseIP(host) != nil {
		return h, fmt.Errorf("next hop %q: an MX lookup needs a domain name", s)
	}
	h.Host, h.Port = host, p
	return h, nil
}
