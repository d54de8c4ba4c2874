package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
)

// Milter configures the milter front end ([milter] in the main config).
// Every field has a default (see defaults.go), applied at load; the section
// can be left out entirely.
//
// Message size, scan deadline and the other per-message limits are those of
// [Limits]: the milter streams header and body into the engine and does not
// keep its own copy of the message. The outcomes of failures (scan deadline,
// overload, engine error) are those of [Failure].
type Milter struct {
	Enabled bool `toml:"enabled"`
	// Listen addresses as Postfix and Sendmail write them:
	// "inet:10030@127.0.0.1" (Sendmail), "inet:127.0.0.1:10030" (Postfix),
	// "inet6:10030@::1", "inet6:[::1]:10030", "unix:/run/maildlp/milter.sock"
	// ("local:" is a synonym of "unix:"). Default ["inet:10030@127.0.0.1"].
	Listen []MilterAddr `toml:"listen"`
	// SocketMode is the permission of unix sockets, in octal. Default "0660"
	// (the MTA's group may connect; Postfix needs it when it runs chrooted
	// or as another user).
	SocketMode FileMode `toml:"socket_mode"`
	// SocketOwner is "user", "user:group" or ":group" for unix sockets,
	// names or numeric ids. Default "" keeps the owner of the process.
	SocketOwner string `toml:"socket_owner"`
	// MaxSessions bounds concurrent MTA connections (Postfix opens one per
	// SMTP connection). Past it, new sessions get failure.on_overload at
	// MAIL FROM instead of being scanned. Default 500.
	MaxSessions int `toml:"max_sessions"`
	// WriteTimeout bounds each packet written to the MTA. Default 10s.
	WriteTimeout Duration `toml:"write_timeout"`
	// IdleTimeout bounds the wait for the MTA's next command; a connection
	// silent for longer is closed (the MTA applies its milter default
	// action to the rest of that SMTP session). Default 1h: the MTA paces
	// the events by its SMTP client, and Postfix sends nothing while a
	// client uploads DATA, so keep it above the longest upload you accept.
	// It bounds how long a connection that never sends anything holds one
	// of max_sessions.
	IdleTimeout Duration `toml:"idle_timeout"`
	// Allow lists the client addresses or CIDRs that may connect over
	// TCP; others are disconnected at once. Default 127.0.0.0/8 and ::1.
	// Unix sockets are guarded by their permissions (socket_mode,
	// socket_owner) instead.
	Allow []Network `toml:"allow"`
	// ProgressInterval: at end of message, while the engine is still
	// scanning, a PROGRESS packet is sent this often so that Postfix's
	// milter_content_timeout and Sendmail's T=R: do not expire. Keep it below
	// both. Default 2s.
	ProgressInterval Duration `toml:"progress_interval"`
	// EarlyDecision lets envelope-only policies reject at MAIL FROM and RCPT
	// TO, before any content is sent. Default true. It never applies to mail
	// Postfix submits through non_smtpd_milters, where a rejected recipient
	// is a configuration error.
	EarlyDecision *bool `toml:"early_decision"`
	// MaxPacketBytes bounds one milter packet from the MTA. The packet
	// declares its length before its data and go-milter allocates that much
	// at once, so a longer declaration ends the connection before anything
	// is allocated. MTAs send body chunks of at most 64 KiB and a header
	// field in one packet (Postfix: header_size_limit, 100 KiB). Default 1MiB.
	MaxPacketBytes ByteSize `toml:"max_packet_bytes"`
}

// ParseMilterAddr parses a milter socket address as Postfix and Sendmail write it:
//
//	inet:10030@127.0.0.1     Sendmail: port@host
//	inet:127.0.0.1:10030     Postfix:  host:port
//	inet:10030               all IPv4 addresses
//	inet6:10030@::1          IPv6, Sendmail form
//	inet6:[::1]:10030        IPv6, Postfix form
//	unix:/run/milter.sock    unix socket ("local:" is the same)
func ParseMilterAddr(s string) (network, address string, err error) {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return "", "", fmt.Errorf("milter address %q: want inet:port@host, inet:host:port, inet6:... or unix:/path", s)
	}
	switch strings.ToLower(scheme) {
	case "unix", "local":
		if !strings.HasPrefix(rest, "/") {
			return "", "", fmt.Errorf("milter address %q: unix socket path must be absolute", s)
		}
		return "unix", filepath.Clean(rest), nil
	case "inet", "inet6":
		network = "tcp4"
		if strings.EqualFold(scheme, "inet6") {
			network = "tcp6"
		}
		host, port, err := splitInet(rest)
		if err != nil {
			return "", "", fmt.Errorf("milter address %q: %v", s, err)
		}
		if host != "" {
			ip := net.ParseIP(host)
			if ip == nil {
				if !validHostname(host) {
					return "", "", fmt.Errorf("milter address %q: bad host %q", s, host)
				}
				// A name: let the resolver pick the family.
				network = "tcp"
			} else if ip.To4() == nil && network == "tcp4" {
				network = "tcp6"
			}
		}
		return network, net.JoinHostPort(host, port), nil
	}
	return "", "", fmt.Errorf("milter address %q: unknown type %q (want inet, inet6, unix or local)", s, scheme)
}

// validHostname reports whether s is a plausible host name (letters,
// digits, '-', '_' and '.').
func validHostname(s string) bool {
	if len(s) > 253 {
		return false
	}
	for _, c := range s {
		if !(c == '.' || c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// splitInet splits "port@host", "host:port", "[v6]:port" or "port".
func splitInet(s string) (host, port string, err error) {
	if p, h, ok := strings.Cut(s, "@"); ok {
		host, port = strings.Trim(h, "[]"), p
	} else if strings.HasPrefix(s, "[") {
		host, port, err = net.SplitHostPort(s)
		if err != nil {
			return "", "", err
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		if strings.Count(s, ":") > 1 {
			return "", "", errors.New("IPv6 address must be written [addr]:port or port@addr")
		}
		host, port = s[:i], s[i+1:]
	} else {
		port = s
	}
	n, perr := strconv.Atoi(port)
	if perr != nil || n < 0 || n > 65535 {
		return "", "", fmt.Errorf("bad port %q", port)
	}
	return host, port, nil
}
