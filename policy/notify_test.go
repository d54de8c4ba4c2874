package policy

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/policy/extract"
)

// TestIssue7Backscatter: a notice goes to the envelope sender only when the
// sender is believed (authenticated, or internal from a trusted client);
// a forged sender gets nothing by default, and with notify_sender =
// "always" gets a notice without the subject it wrote.
func TestIssue7Backscatter(t *testing.T) {
	const policies = `
[[policy]]
name = "Cards"
rule = { detector = "credit_card", min_count = 3 }
block = {}
notify = { sender = true, to = ["dlp@corp.example"], subject = "blocked: {subject}", body = "{subject} {evidence}" }
`
	subject := "Visit evil.example now " + strings.Repeat("x", 3)
	res := body(cards(4))
	res.Parts = append(res.Parts, res.Parts[0])
	res.Parts[1].Location, res.Parts[1].Kind, res.Parts[1].Text = "header:Subject", extract.KindHeader, subject
	tests := []struct {
		name       string
		mode       string
		env        Envelope
		wantSender bool   // the sender is among the notice recipients
		senderSubj string // subject of the sender's notice ("" = with the message's)
	}{
		{"forged external sender", "", Envelope{MailFrom: "victim@other.example", ClientAddr: "198.51.100.7"}, false, ""},
		{"forged internal sender from outside", "", Envelope{MailFrom: "ceo@corp.example", ClientAddr: "198.51.100.7"}, false, ""},
		{"internal sender, trusted client", "", Envelope{MailFrom: "alice@corp.example", ClientAddr: "127.0.0.1"}, true, ""},
		{"internal sender, trusted IPv6 client", "", Envelope{MailFrom: "alice@corp.example", ClientAddr: "IPv6:::1"}, true, ""},
		{"internal sender, mapped IPv4 client", "", Envelope{MailFrom: "alice@corp.example", ClientAddr: "::ffff:127.0.0.1"}, true, ""},
		{"internal sender, configured network", "trusted", Envelope{MailFrom: "alice@corp.example", ClientAddr: "192.0.2.44"}, true, ""},
		{"routed internal sender", "", Envelope{MailFrom: "x%evil.example@corp.example", ClientAddr: "127.0.0.1"}, false, ""},
		{"authenticated", "", Envelope{MailFrom: "anyone@other.example", ClientAddr: "198.51.100.7", AuthUser: "bob"}, true, ""},
		{"no client address", "", Envelope{MailFrom: "alice@corp.example"}, false, ""},
		{"never", "never", Envelope{MailFrom: "alice@corp.example", ClientAddr: "127.0.0.1", AuthUser: "alice"}, false, ""},
		{"always, forged", "always", Envelope{MailFrom: "victim@other.example", ClientAddr: "198.51.100.7"}, true, "blocked: (subject withheld: sender not verified)"},
		{"always, authenticated", "always", Envelope{MailFrom: "bob@corp.example", AuthUser: "bob"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "internal_domains = [\"corp.example\"]\n"
			switch tt.mode {
			case "never", "always":
				doc += "[notify]\nnotify_sender = \"" + tt.mode + "\"\n"
			case "trusted":
				doc += "[notify]\ntrusted_networks = [\"127.0.0.1\", \"192.0.2.0/24\"]\n"
			}
			doc += policies
			e := engineFor(t, doc, res)
			env := tt.env
			env.Rcpts = []string{"x@outside.example"}
			v := e.Evaluate(context.Background(), Message{Envelope: env, Body: strings.NewReader("x")})
			var admin, sender bool
			for _, n := range v.Notices {
				if slices.Contains(n.To, "dlp@corp.example") {
					admin = true
					if !strings.Contains(n.Subject, subject) {
						t.Errorf("admin notice subject = %q, want the message's", n.Subject)
					}
				}
				if slices.Contains(n.To, env.MailFrom) {
					sender = true
					want := "blocked: " + subject
					if tt.senderSubj != "" {
						want = tt.senderSubj
						if strings.Contains(n.Body, subject) {
							t.Errorf("notice to an unverified sender carries the subject: %q", n.Body)
						}
					}
					if n.Subject != want {
						t.Errorf("sender notice subject = %q, want %q", n.Subject, want)
					}
				}
			}
			if !admin {
				t.Errorf("no notice to the policy's address: %+v", v.Notices)
			}
			if sender != tt.wantSender {
				t.Errorf("sender notified = %v, want %v (notices %+v)", sender, tt.wantSender, v.Notices)
			}
		})
	}
}
