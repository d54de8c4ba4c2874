package policy

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// envAddr is an envelope address as the policy judges it.
type envAddr struct {
	local  string // local part, unquoted
	domain string // normalised (see normDomain); "" when missing or invalid
	// routed: the address names a further destination that an MTA may
	// relay to instead of domain: a source route (@a,@b:user@d, RFC 5321
	// A-d-l), or '%', '!' or '@' in the local part. Postfix's default
	// allow_percent_hack turns user%other@ours into user@other and
	// swap_bangpath turns other!user@ours into user@other, after the
	// decision was taken on "ours".
	routed bool
}

// parseEnvAddr splits an envelope address (with or without angle
// brackets) into local part and domain. It never fails: what it cannot
// read has an empty domain, which no domain list contains. It is linear
// in len(s).
func parseEnvAddr(s string) envAddr {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">"))
	var a envAddr
	if strings.HasPrefix(s, "@") {
		// Source route: "@relay1,@relay2:user@domain". RFC 5321 says to
		// ignore it, but some MTAs still follow it.
		a.routed = true
		if i := strings.IndexByte(s, ':'); i >= 0 {
			s = s[i+1:]
		} else {
			return a
		}
	}
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		// No domain: the MTA appends its own (Postfix $myorigin), and
		// maildlp cannot know which; a local part alone is not internal.
		a.local = s
		a.routed = a.routed || strings.ContainsAny(s, "%!@")
		return a
	}
	a.local = unquoteLocal(s[:i])
	if a.local == "" || strings.ContainsAny(a.local, "%!@") || !plainLocal(s[:i]) {
		// Empty, routed, or not a local part an MTA would take as it is:
		// nothing says where it ends up.
		a.routed = true
	}
	a.domain = normDomain(s[i+1:])
	return a
}

// plainLocal reports whether l is a dot-atom or a quoted string without
// characters that RFC 5321 does not allow there (angle brackets, commas,
// colons, controls, unquoted white space).
func plainLocal(l string) bool {
	if strings.HasPrefix(l, `"`) && strings.HasSuffix(l, `"`) && len(l) >= 2 {
		for i := 1; i < len(l)-1; i++ {
			if c := l[i]; c < ' ' || c == 0x7f {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c <= ' ' || c == 0x7f || strings.IndexByte(`<>()[]\,;:"`, c) >= 0 {
			return false
		}
	}
	return true
}

// unquoteLocal removes the quotes and backslash escapes of a quoted local
// part ("a@b" -> a@b). An unquoted one is returned as it is.
func unquoteLocal(l string) string {
	if !strings.ContainsAny(l, `"\`) {
		return l
	}
	var b strings.Builder
	b.Grow(len(l))
	for i := 0; i < len(l); i++ {
		switch c := l[i]; c {
		case '"':
		case '\\':
			if i+1 < len(l) {
				i++
				b.WriteByte(l[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// domainProfile maps a domain as a resolver would (UTS #46: lower case,
// full-width and compatibility forms folded, Unicode to punycode) and
// refuses what is not a host name.
var domainProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(true), idna.Transitional(false))

// normDomain normalises a domain for comparison: lower case, without a
// final dot, internationalised names in their ASCII (punycode) form. An
// address literal ([192.0.2.1]) or a name that is not a valid host name
// gives "".
func normDomain(d string) string {
	d = strings.TrimSuffix(strings.TrimSpace(d), ".")
	if d == "" || strings.HasPrefix(d, "[") {
		return ""
	}
	if !utf8.ValidString(d) {
		return "" // the IDNA mapping would turn bad bytes into U+FFFD
	}
	ascii, err := domainProfile.ToASCII(d)
	if err != nil {
		return ""
	}
	if again, err := domainProfile.ToASCII(ascii); err != nil || again != ascii {
		// A punycode label that does not decode to a valid name.
		return ""
	}
	ascii = strings.ToLower(strings.TrimSuffix(ascii, "."))
	for i := 0; i < len(ascii); i++ {
		c := ascii[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return ""
		}
	}
	if ascii == "" || strings.HasPrefix(ascii, ".") || strings.HasSuffix(ascii, ".") || strings.Contains(ascii, "..") {
		return ""
	}
	return ascii
}

// normDomains normalises a configured domain list; entries that are not
// valid host names are dropped: no address is in them, so a typo there
// makes mail outbound, never internal.
func normDomains(l []string) []string {
	out := make([]string, 0, len(l))
	for _, d := range l {
		if n := normDomain(d); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// inDomain reports whether the normalised domain d is one of domains or
// below one.
func inDomain(domains []string, d string) bool {
	if d == "" {
		return false
	}
	for _, x := range domains {
		if d == x || strings.HasSuffix(d, x) && len(d) > len(x) && d[len(d)-len(x)-1] == '.' {
			return true
		}
	}
	return false
}

// isInternal reports whether rcpt is delivered inside the organisation: its
// domain is an internal domain (or below one) and nothing in it routes the
// message on to another destination.
func isInternal(internal []string, rcpt string) bool {
	a := parseEnvAddr(rcpt)
	return !a.routed && inDomain(internal, a.domain)
}
