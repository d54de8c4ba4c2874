package integration

import (
	"strings"
	"testing"
	"time"
)

// issue7Policies blocks three or more card numbers sent outside.
const issue7Policies = `
[[policy]]
name = "cards-out"
rule = { all = [ { detector = "credit_card", min_count = 3, include_test_values = true }, { direction = "outbound" } ] }
block = { text = "Message refused by policy cards-out, incident {incident_id}" }
`

// issue7Cards are six published test card numbers (Luhn-valid).
const issue7Cards = "4111 1111 1111 1111\n5555 5555 5555 4444\n4012 8888 8888 1881\n3782 822463 10005\n6011 1111 1111 1117\n3530 1113 3330 0000\n"

// TestIssue7PercentHack: with the contrib Postfix set-ups, a recipient
// that routes through an internal domain (percent hack, bang path) is
// judged outbound, so cards sent to it are refused, while the same cards
// to a plain internal recipient pass.
func TestIssue7PercentHack(t *testing.T) {
	routed := []string{"attacker%ext.example@test.example", "ext.example!attacker@test.example"}
	t.Run("milter", func(t *testing.T) {
		r := newMilterRig(t, "inet", DLPConfig{Policies: issue7Policies})
		for _, rcpt := range routed {
			m := cleanMsg("issue7-pct")
			m.To = []string{rcpt}
			m.Body += issue7Cards
			res := r.send(m)
			if res.Final.Code != 550 || !strings.Contains(res.Final.Text(), "cards-out") {
				t.Errorf("cards to %s: %v, want 550 from policy cards-out", rcpt, res)
			}
			if got := r.sink.Quiet(2*time.Second, withID(m.ID)); len(got) != 0 {
				t.Errorf("cards to %s delivered as %s", rcpt, envelopes(got))
			}
		}
		m := cleanMsg("issue7-internal")
		m.To = []string{"bob@test.example"}
		m.Body += issue7Cards
		wantAccepted(t, r.send(m))
		got := r.sink.Wait(1, 30*time.Second, withID(m.ID))
		if len(got) != 1 || strings.Join(got[0].To, ",") != "bob@test.example" {
			t.Errorf("internal message delivered as %s, want once to bob@test.example", envelopes(got))
		}
	})
	t.Run("hop", func(t *testing.T) {
		r := newHopRig(t, reflectVariants[0], DLPConfig{Policies: issue7Policies})
		m := cleanMsg("issue7-hop-pct")
		m.To = []string{routed[0]}
		m.Body += issue7Cards
		wantAccepted(t, r.send(m)) // after queue: refused by the hop, bounced
		bounce := r.sink.Wait(1, 30*time.Second, toAddr(sender))
		if body := strings.Join(strings.Fields(string(bounce[0].Data)), " "); !strings.Contains(body, "cards-out") {
			t.Errorf("bounce to the sender lacks the policy's text:\n%s", body)
		}
		if got := r.sink.Quiet(2*time.Second, withID(m.ID)); len(got) != 0 {
			t.Errorf("cards to %s delivered as %s", routed[0], envelopes(got))
		}
	})
}

// TestIssue7PassHeaderFlood: on a real Postfix, a message with a few
// forged pass headers is delivered with ours only; one with thousands is
// refused by the milter before Postfix's cleanup has to delete them.
func TestIssue7PassHeaderFlood(t *testing.T) {
	r := newMilterRig(t, "inet", DLPConfig{})
	few := cleanMsg("issue7-pass-few")
	for range 8 {
		few.Headers = append(few.Headers, passName+": forged")
	}
	wantAccepted(t, r.send(few))
	d := r.sink.Wait(1, 30*time.Second, withID(few.ID))[0]
	if n := strings.Count(strings.ToLower(string(d.Data)), strings.ToLower(passName)+":"); n != 1 || d.Header(passName) != passValue {
		t.Errorf("delivered with %d %s fields (first %q), want only ours", n, passName, d.Header(passName))
	}

	flood := cleanMsg("issue7-pass-flood")
	for range 5000 {
		flood.Headers = append(flood.Headers, passName+": forged")
	}
	res := r.send(flood)
	if res.Final.Code != 550 || !strings.Contains(res.Final.Text(), "too many "+passName) {
		t.Errorf("flood of %s: %v, want 550 naming the header", passName, res)
	}
	if got := r.sink.Quiet(2*time.Second, withID(flood.ID)); len(got) != 0 {
		t.Errorf("flood delivered")
	}
}
