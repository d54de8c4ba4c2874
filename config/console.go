package config

import (
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Console configures the review console ([console] section): the web
// pages where analysts triage incidents and release held mail. `maildlp
// serve` starts it when Listen is set; `maildlp console` runs it alone
// (on DefaultConsoleListen when Listen is empty). Every field has a
// default, applied by [Console.WithDefaults]; docs/console.md describes
// the console.
type Console struct {
	// Listen is the HTTP(S) address. "" disables it in `maildlp serve`.
	// Loopback by default: put it behind a reverse proxy or set TLS to
	// open it to the network.
	Listen string `toml:"listen"`
	// TLSCert and TLSKey are PEM files; with both set the console speaks
	// HTTPS only and its cookies are Secure.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// SessionLifetime is the longest a login lasts, default 12h.
	SessionLifetime Duration `toml:"session_lifetime"`
	// SessionIdle ends a session unused for this long, default 1h.
	SessionIdle Duration `toml:"session_idle"`
	// LoginAttempts is how many failed logins one client address, or one
	// user name, may make per LoginWindow; more are refused (429) until
	// the window has passed, whatever the password. Default 5.
	LoginAttempts int `toml:"login_attempts"`
	// LoginWindow, default 15m.
	LoginWindow Duration `toml:"login_window"`
	// PageSize is the number of incidents on a list page, default 50,
	// at most 500.
	PageSize int `toml:"page_size"`
	// TrustedProxies are the addresses (IPs or CIDRs) of reverse proxies
	// whose ProxyUserHeader and X-Forwarded-For are believed. Default none.
	TrustedProxies []string `toml:"trusted_proxies"`
	// ProxyUserHeader is the request header in which a trusted proxy
	// names the user it authenticated (single sign-on), e.g.
	// "X-Remote-User". The user must exist locally; it gets its local
	// role. "" (default) disables it. From any other address the header
	// is ignored.
	ProxyUserHeader string `toml:"proxy_user_header"`
	// TrustedOrigins are other origins ("https://dlp.example.com") whose
	// requests may change state, for a proxy that rewrites the Host
	// header. Requests from the console's own origin are always allowed.
	TrustedOrigins []string `toml:"trusted_origins"`
}

// Console defaults.
const (
	DefaultConsoleListen          = "127.0.0.1:9031"
	DefaultConsoleSessionLifetime = 12 * time.Hour
	DefaultConsoleSessionIdle     = time.Hour
	DefaultConsoleLoginAttempts   = 5
	DefaultConsoleLoginWindow     = 15 * time.Minute
	DefaultConsolePageSize        = 50
	MaxConsolePageSize            = 500
)

// WithDefaults returns c with every unset field set to its default
// (Listen stays "" when unset: only `maildlp console` defaults it).
func (c Console) WithDefaults() Console {
	setDefault(&c.SessionLifetime, Duration(DefaultConsoleSessionLifetime))
	setDefault(&c.SessionIdle, Duration(DefaultConsoleSessionIdle))
	setDefault(&c.LoginAttempts, DefaultConsoleLoginAttempts)
	setDefault(&c.LoginWindow, Duration(DefaultConsoleLoginWindow))
	setDefault(&c.PageSize, DefaultConsolePageSize)
	return c
}

// TLS reports whether the console serves HTTPS.
func (c Console) TLS() bool { return c.TLSCert != "" && c.TLSKey != "" }

// Proxies parses TrustedProxies (Check has validated them).
func (c Console) Proxies() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// validateConsole reports every invalid value of [console] at its key.
func (src *source) validateConsole(c *Console) {
	p := keyPath{}.with("console")
	if c.Listen != "" {
		if _, err := ParseHostPort(c.Listen); err != nil {
			src.errorf(p.with("listen"), "%v", err)
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		src.errorf(p.with("tls_cert"), "tls_cert and tls_key must be set together")
	}
	for _, f := range []struct {
		key string
		v   int64
	}{
		{"session_lifetime", int64(c.SessionLifetime)},
		{"session_idle", int64(c.SessionIdle)},
		{"login_attempts", int64(c.LoginAttempts)},
		{"login_window", int64(c.LoginWindow)},
		{"page_size", int64(c.PageSize)},
	} {
		if f.v < 0 {
			src.errorf(p.with(f.key), "must not be negative")
		}
	}
	if c.PageSize > MaxConsolePageSize {
		src.errorf(p.with("page_size"), "%d is more than %d", c.PageSize, MaxConsolePageSize)
	}
	for i, a := range c.TrustedProxies {
		if _, err := parsePrefix(a); err != nil {
			src.errorf(p.with("trusted_proxies").index(i), "invalid address or CIDR %q", a)
		}
	}
	if h := c.ProxyUserHeader; h != "" && !headerName.MatchString(h) {
		src.errorf(p.with("proxy_user_header"), "invalid header field name %q", h)
	}
	if c.ProxyUserHeader != "" && len(c.TrustedProxies) == 0 {
		src.errorf(p.with("proxy_user_header"), "needs trusted_proxies: without them the header would be believed from nobody")
	}
	for i, o := range c.TrustedOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			src.errorf(p.with("trusted_origins").index(i), "invalid origin %q (want scheme://host[:port])", o)
		}
	}
}
