package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Addresses, networks and next hops are parsed when the config is loaded,
// into the values the front ends use: a bad one is an error with its file
// and line, and nothing parses them again.

// Network is an allowlist entry: an IP address or a CIDR, as a prefix (an
// address is a prefix of its full length).
type Network struct{ netip.Prefix }

func (n *Network) UnmarshalText(b []byte) error {
	p, err := ParseAllow(string(b))
	if err != nil {
		return err
	}
	n.Prefix = p
	return nil
}

// MustNetworks parses entries known to be valid (defaults, tests).
func MustNetworks(entries ...string) []Network {
	out := make([]Network, len(entries))
	for i, e := range entries {
		if err := out[i].UnmarshalText([]byte(e)); err != nil {
			panic(err)
		}
	}
	return out
}

// ContainsAddr reports whether one of nets contains ip (IPv4-mapped
// addresses count as IPv4).
func ContainsAddr(nets []Network, ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, n := range nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// ParseAllow parses one allowlist entry: an IP address or a CIDR. An
// IPv4-mapped entry (::ffff:192.0.2.0/120) is its IPv4 form: clients are
// matched by their unmapped address.
func ParseAllow(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		if a := p.Addr(); a.Is4In6() {
			if p.Bits() < 96 {
				return netip.Prefix{}, fmt.Errorf("%q: an IPv4-mapped prefix needs at least 96 bits", s)
			}
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// HostPort is a "host:port" setting. The zero value is unset.
type HostPort struct {
	Host string // name or IP address, without brackets
	Port int
}

func (h *HostPort) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*h = HostPort{}
		return nil
	}
	p, err := ParseHostPort(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

func (h HostPort) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// String is the address as net.Dial takes it ("" when unset).
func (h HostPort) String() string {
	if h.IsZero() {
		return ""
	}
	return net.JoinHostPort(h.Host, strconv.Itoa(h.Port))
}

// IsZero reports whether the setting is unset.
func (h HostPort) IsZero() bool { return h == HostPort{} }

// ParseHostPort parses "host:port" or "[ip]:port"; the host may be empty
// (every address) and the port 0 (any port) for listeners.
func ParseHostPort(s string) (HostPort, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return HostPort{}, fmt.Errorf("invalid address %q (want host:port)", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return HostPort{}, fmt.Errorf("invalid port in %q", s)
	}
	return HostPort{Host: host, Port: n}, nil
}

// MustHostPort parses an address known to be valid (defaults, tests).
func MustHostPort(s string) HostPort {
	h, err := ParseHostPort(s)
	if err != nil {
		panic(err)
	}
	return h
}

// IP is an IP address setting; the zero value is unset.
type IP struct{ netip.Addr }

func (a *IP) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*a = IP{}
		return nil
	}
	p, err := netip.ParseAddr(string(b))
	if err != nil {
		return fmt.Errorf("%q is not an IP address", b)
	}
	a.Addr = p
	return nil
}

// NextHop is one reinject.next_hops entry.
type NextHop struct {
	Host string // name or IP address, without brackets
	Port int
	MX   bool // resolve Host's MX records first
}

func (h *NextHop) UnmarshalText(b []byte) error {
	p, err := ParseNextHop(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
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

// MilterAddr is a milter.listen entry, parsed by [ParseMilterAddr].
type MilterAddr struct {
	Network string // tcp, tcp4, tcp6 or unix
	Address string // as net.Listen takes it
	Text    string // as written in the config, for messages
}

func (a *MilterAddr) UnmarshalText(b []byte) error {
	n, addr, err := ParseMilterAddr(string(b))
	if err != nil {
		return err
	}
	*a = MilterAddr{Network: n, Address: addr, Text: string(b)}
	return nil
}

func (a MilterAddr) String() string { return a.Text }

// MustMilterAddr parses an address known to be valid (defaults, tests).
func MustMilterAddr(s string) MilterAddr {
	var a MilterAddr
	if err := a.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return a
}

// FileMode is a unix permission written in octal ("0660").
type FileMode uint32

func (m *FileMode) UnmarshalText(b []byte) error {
	v, err := strconv.ParseUint(string(b), 8, 32)
	if err != nil || v > 0o777 {
		return fmt.Errorf("%q: want an octal permission such as \"0660\"", b)
	}
	*m = FileMode(v)
	return nil
}

func (m FileMode) MarshalText() ([]byte, error) { return []byte(fmt.Sprintf("%04o", uint32(m))), nil }
