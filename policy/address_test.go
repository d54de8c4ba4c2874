package policy

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/maildlp/maildlp/policy/action"
)

// TestIssue7DirectionBypass: a recipient that names a further destination
// (percent hack, bang path, quoted @, source route) is outbound even when
// its final domain is internal; spelling variants of an internal domain
// are internal.
func TestIssue7DirectionBypass(t *testing.T) {
	internal := normDomains([]string{"corp.example", "BÜCHER.example.", "xn--caf-dma.example"})
	tests := []struct {
		rcpt string
		want string
	}{
		// Routed: the MTA may relay to evil.example after the decision.
		{"attacker%evil.example@corp.example", "outbound"},
		{"evil.example!attacker@corp.example", "outbound"},
		{`"attacker@evil.example"@corp.example`, "outbound"},
		{`"attacker%evil.example"@corp.example`, "outbound"},
		{`"evil!attacker"@corp.example`, "outbound"},
		{`attacker\@evil.example@corp.example`, "outbound"},
		{"@relay.evil.example:attacker@corp.example", "outbound"},
		{"@a.corp.example,@b.corp.example:user@corp.example", "outbound"},
		{"<attacker%evil.example@corp.example>", "outbound"},
		{"attacker%evil.example%corp.example@corp.example", "outbound"},
		{"attacker%evil.example", "outbound"},
		// The domain is what follows the last @.
		{"user@corp.example@evil.example", "outbound"},
		{"user@evil.example", "outbound"},
		{"user@corp.example.evil.example", "outbound"},
		{"user@evilcorp.example", "outbound"},
		{"user@[192.0.2.1]", "outbound"},
		{"user@corp.example%evil.example", "outbound"},
		{"user@corp..example", "outbound"},
		{"user@", "outbound"},
		{"user", "outbound"},
		{"", "outbound"},
		{"<>", "outbound"},
		{"@", "outbound"},
		// Internal, however it is spelled.
		{"user@corp.example", "internal"},
		{"<user@corp.example>", "internal"},
		{"user@CORP.EXAMPLE", "internal"},
		{"user@corp.example.", "internal"},
		{"user+tag@corp.example", "internal"},
		{`"first last"@corp.example`, "internal"},
		{"user@hr.corp.example", "internal"}, // subdomains are internal (documented)
		{"user@bücher.example", "internal"},
		{"user@BÜCHER.EXAMPLE", "internal"},
		{"user@xn--bcher-kva.example", "internal"},
		{"user@café.example", "internal"},
		{"user@ｃｏｒｐ.example", "internal"}, // full-width letters fold like a resolver's
	}
	for _, tt := range tests {
		if got := direction([]string{tt.rcpt}, internal); got != tt.want {
			t.Errorf("direction(%q) = %s, want %s", tt.rcpt, got, tt.want)
		}
	}
	// One routed recipient makes the whole message outbound.
	if got := direction([]string{"a@corp.example", "b%evil.example@corp.example"}, internal); got != "outbound" {
		t.Errorf("direction with one routed recipient = %s, want outbound", got)
	}
}

// TestIssue7DirectionPolicy: the default outbound card policy applies to a
// percent-hack recipient, and a recipient exception never covers a routed
// address.
func TestIssue7DirectionPolicy(t *testing.T) {
	e := engineFor(t, `
internal_domains = ["corp.example"]
[[policy]]
name = "Cards out"
rule = { all = [ { detector = "credit_card", min_count = 3 }, { direction = "outbound" } ] }
block = {}
[[policy]]
name = "Cards to partner"
rule = { detector = "credit_card", min_count = 3 }
block = {}
except = { recipients = ["*@partner.example"], recipient_domains = ["partner.example"] }
`, body(cards(6)))
	for _, rcpt := range []string{"attacker%evil.example@corp.example", "evil.example!attacker@corp.example"} {
		v := e.Evaluate(context.Background(), Message{Envelope: Envelope{MailFrom: "a@corp.example", Rcpts: []string{rcpt}}, Body: strings.NewReader("x")})
		if v.Action != action.Block || !hasPolicy(v, "Cards out") {
			t.Errorf("rcpt %s: action %v policies %v, want block by Cards out", rcpt, v.Action, v.Policies)
		}
	}
	v := e.Evaluate(context.Background(), Message{Envelope: Envelope{MailFrom: "a@corp.example", Rcpts: []string{"x%evil.example@partner.example"}}, Body: strings.NewReader("x")})
	if !hasPolicy(v, "Cards to partner") {
		t.Errorf("routed recipient at an excepted domain: policies %v, want Cards to partner", v.Policies)
	}
	v = e.Evaluate(context.Background(), Message{Envelope: Envelope{MailFrom: "a@corp.example", Rcpts: []string{"x@partner.example"}}, Body: strings.NewReader("x")})
	if hasPolicy(v, "Cards to partner") {
		t.Errorf("plain recipient at an excepted domain: policies %v, want the exception to hold", v.Policies)
	}
}

func hasPolicy(v action.Verdict, name string) bool {
	for _, p := range v.Policies {
		if p.Name == name {
			return true
		}
	}
	return false
}

// FuzzDirection checks the address parser's invariants: it never panics,
// domain normalisation is idempotent,
// an address whose local part holds %, ! or @ (after unquoting) or that
// starts with a source route is never internal, and what it calls
// internal has an internal domain after its last @.
func FuzzDirection(f *testing.F) {
	for _, s := range []string{
		"user@corp.example", "attacker%evil.example@corp.example", "evil!a@corp.example",
		`"a@b"@corp.example`, "@r:u@corp.example", "u@CORP.EXAMPLE.", "u@bücher.example",
		`"a\"b"@corp.example`, "<u@corp.example>", "u@[1.2.3.4]", "", "<>",
	} {
		f.Add(s)
	}
	internal := normDomains([]string{"corp.example", "bücher.example"})
	f.Fuzz(func(t *testing.T, s string) {
		a := parseEnvAddr(s)
		// Normalising a normalised domain changes nothing.
		if d := normDomain(s); d != "" && normDomain(d) != d {
			t.Fatalf("normDomain(%q) = %q, but normDomain(%q) = %q", s, d, d, normDomain(d))
		}
		got := direction([]string{s}, internal)
		if got != "internal" {
			return
		}
		if a.routed || strings.ContainsAny(a.local, "%!@") {
			t.Fatalf("direction(%q) = internal, but local part %q is routed", s, a.local)
		}
		trimmed := strings.TrimSpace(s)
		if strings.HasPrefix(trimmed, "@") || strings.HasPrefix(trimmed, "<@") {
			t.Fatalf("direction(%q) = internal for a source route", s)
		}
		i := strings.LastIndexByte(s, '@')
		if i < 0 {
			t.Fatalf("direction(%q) = internal without a domain", s)
		}
		local := s[:i]
		// A raw %, ! or @ anywhere before the domain routes the address.
		if strings.ContainsAny(strings.TrimPrefix(strings.TrimSpace(local), "<"), "%!@") {
			t.Fatalf("direction(%q) = internal, local part %q holds %%, ! or @", s, local)
		}
		if d := normDomain(strings.TrimSuffix(strings.TrimSpace(s[i+1:]), ">")); !inDomain(internal, d) || !utf8.ValidString(d) {
			t.Fatalf("direction(%q) = internal, domain %q is not", s, d)
		}
	})
}
