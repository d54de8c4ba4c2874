package reinject

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/maildlp/maildlp/config"
)

// maxTargets bounds the addresses tried for one transaction.
const maxTargets = 20

// target is one address to try, with the name its certificate is checked
// against.
type target struct {
	addr string // host:port as dialled
	name string // TLS server name
}

// connect opens the downstream for one transaction: reflect_to, or the
// first next hop that answers. A hop refusing at connect, with a non-220
// greeting or EHLO, or failing TLS is skipped, with the reason logged.
func (s *Server) connect(ctx context.Context, upstreamTLS bool, sid string) (*downstream, error) {
	targets, err := s.targets(ctx, sid)
	if err != nil {
		return nil, err
	}
	// No TCP keepalive (four setsockopt calls per connection, one
	// connection per message): the downstream timeouts find a dead peer.
	d := &net.Dialer{KeepAlive: -1}
	if src := s.cfg.SourceAddr; src.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
	}
	var errs []error
	for _, t := range targets {
		ds, err := dialDownstream(ctx, d, t.addr, s.cfg.HELOName, s.tlsNeed(t, upstreamTLS), s.to)
		if err == nil {
			return ds, nil
		}
		s.log.Warn("next hop skipped", "session_id", sid, "next_hop", t.addr, "reason", err.Error())
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 0 {
		return nil, errors.New("reinject: no next hop")
	}
	return nil, errors.Join(errs...)
}

// tlsNeed applies tls.outbound and the TLS chain rule to one target.
func (s *Server) tlsNeed(t target, upstreamTLS bool) tlsNeed {
	tc := s.cfg.TLS
	required := tc.Outbound == config.TLSRequired || (upstreamTLS && !tc.DowngradeAllowed)
	if tc.Outbound == config.TLSNone && !required {
		return tlsNeed{}
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: tc.Roots, ServerName: tc.ServerName}
	if cfg.ServerName == "" {
		cfg.ServerName = t.name
	}
	// Opportunistic TLS without a trust store encrypts without verifying,
	// as Postfix's "may" level does; required TLS or a configured CA file
	// verifies the certificate.
	if tc.Outbound == config.TLSOpportunistic && tc.Roots == nil && !required {
		cfg.InsecureSkipVerify = true
	}
	return tlsNeed{config: cfg, required: required}
}

// targets lists the addresses to try, in order.
func (s *Server) targets(ctx context.Context, sid string) ([]target, error) {
	if s.cfg.Mode == config.HopReflect {
		return []target{{addr: s.cfg.ReflectTo.String(), name: s.cfg.ReflectTo.Host}}, nil
	}
	var out []target
	for _, h := range s.cfg.NextHops {
		if len(out) >= maxTargets {
			break
		}
		port := strconv.Itoa(h.Port)
		if !h.MX {
			out = append(out, target{addr: net.JoinHostPort(h.Host, port), name: h.Host})
			continue
		}
		hosts, err := s.res.lookupMX(ctx, h.Host)
		if err != nil {
			s.log.Warn("next hop skipped", "session_id", sid, "next_hop", "mx:"+h.Host, "reason", err.Error())
			continue
		}
		for _, mx := range hosts {
			addrs, err := s.res.lookupAddrs(ctx, mx)
			if err != nil {
				s.log.Warn("next hop skipped", "session_id", sid, "next_hop", mx, "reason", err.Error())
				continue
			}
			for _, a := range addrs {
				out = append(out, target{addr: net.JoinHostPort(a.String(), port), name: mx})
			}
		}
	}
	if len(out) > maxTargets {
		out = out[:maxTargets]
	}
	return out, nil
}

// resolver looks up next hops with miekg/dns against one server.
type resolver struct {
	server  string
	timeout time.Duration
}

func newResolver(cfg config.Reinject) *resolver {
	server := cfg.Resolver.String()
	if server == "" {
		server = "127.0.0.1:53"
		if cc, err := dns.ClientConfigFromFile("/etc/resolv.conf"); err == nil && len(cc.Servers) > 0 {
			server = net.JoinHostPort(cc.Servers[0], cc.Port)
		}
	}
	return &resolver{server: server, timeout: cfg.ResolverTimeout.D()}
}

var (
	errNullMX   = errors.New("reinject: domain publishes a null MX (RFC 7505): it accepts no mail")
	errNoDomain = errors.New("reinject: domain does not exist")
)

func (r *resolver) exchange(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(1232, false)
	c := &dns.Client{Timeout: r.timeout}
	in, _, err := c.ExchangeContext(ctx, m, r.server)
	if err == nil && in.Truncated {
		c.Net = "tcp"
		in, _, err = c.ExchangeContext(ctx, m, r.server)
	}
	if err != nil {
		return nil, fmt.Errorf("dns %s %s: %w", dns.TypeToString[qtype], name, err)
	}
	switch in.Rcode {
	case dns.RcodeSuccess:
		return in, nil
	case dns.RcodeNameError:
		return nil, fmt.Errorf("dns %s %s: %w", dns.TypeToString[qtype], name, errNoDomain)
	}
	return nil, fmt.Errorf("dns %s %s: %s", dns.TypeToString[qtype], name, dns.RcodeToString[in.Rcode])
}

// lookupMX returns the mail hosts of domain: lowest preference first,
// random among equal preferences, the domain itself when it has no MX
// (RFC 5321 §5.1), and errNullMX for a null MX.
func (r *resolver) lookupMX(ctx context.Context, domain string) ([]string, error) {
	in, err := r.exchange(ctx, domain, dns.TypeMX)
	if err != nil {
		return nil, err
	}
	var mxs []*dns.MX
	for _, rr := range in.Answer {
		if mx, ok := rr.(*dns.MX); ok {
			mxs = append(mxs, mx)
		}
	}
	if len(mxs) == 0 {
		return []string{domain}, nil
	}
	if len(mxs) == 1 && mxs[0].Mx == "." {
		return nil, errNullMX
	}
	rand.Shuffle(len(mxs), func(i, j int) { mxs[i], mxs[j] = mxs[j], mxs[i] })
	slices.SortStableFunc(mxs, func(a, b *dns.MX) int { return cmp.Compare(a.Preference, b.Preference) })
	hosts := make([]string, 0, len(mxs))
	for _, mx := range mxs {
		if mx.Mx != "." {
			hosts = append(hosts, strings.TrimSuffix(mx.Mx, "."))
		}
	}
	return hosts, nil
}

// lookupAddrs returns the IPv4 then IPv6 addresses of host.
func (r *resolver) lookupAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	var out []netip.Addr
	var errs []error
	for _, q := range []uint16{dns.TypeA, dns.TypeAAAA} {
		in, err := r.exchange(ctx, host, q)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, rr := range in.Answer {
			switch v := rr.(type) {
			case *dns.A:
				if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
					out = append(out, a)
				}
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(v.AAAA); ok {
					out = append(out, a)
				}
			}
		}
	}
	if len(out) == 0 {
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		return nil, fmt.Errorf("dns %s: no address", host)
	}
	return out, nil
}

// loadRoots reads a PEM trust store; "" means the system roots.
