package console

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/maildlp/maildlp/store"
)

// synthetic builds n incidents over the last days like a busy gateway's:
// a few policies and senders dominate, most are low or medium.
func synthetic(n int, now time.Time, days int, seed uint64) []store.Incident {
	r := rand.New(rand.NewPCG(seed, 11))
	policies := []struct{ name, sev, action string }{
		{"PCI: card numbers", "high", "quarantine"}, {"GDPR: IBAN to external", "medium", "modify"},
		{"Secrets: API keys", "critical", "block"}, {"HR: national ids", "high", "redirect"},
		{"Monitor: customer lists", "low", "pass"}, {"Finance: payslips", "medium", "notify"},
	}
	senders := []string{"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com",
		"erin@example.com", "frank@example.com", "grace@example.com", "heidi@example.com", "ivan@example.com", "judy@example.com"}
	domains := []string{"partner.example", "bank.example", "gmail.example", "supplier.example", "example.org"}
	nodes := []string{"mx1", "mx2", "mx3"}
	out := make([]store.Incident, n)
	span := time.Duration(days) * 24 * time.Hour
	for i := range out {
		p := policies[min(int(r.ExpFloat64()*1.3), len(policies)-1)]
		s := senders[min(int(r.ExpFloat64()*2.5), len(senders)-1)]
		node := nodes[r.IntN(len(nodes))]
		at := now.Add(-time.Duration(r.Int64N(int64(span))))
		out[i] = store.Incident{
			ID: fmt.Sprintf("s%08d", i), Time: at, Node: node, MTAHost: node, Frontend: "milter",
			QueueID: fmt.Sprintf("4Q%07X", i), MessageID: fmt.Sprintf("<%d@example.com>", i), Direction: "outbound",
			Sender: s, ClientAddr: "192.0.2.10", Subject: "Quarterly figures " + fmt.Sprint(i%97), Size: int64(2000 + r.IntN(400000)),
			Recipients: []store.Recipient{{Address: fmt.Sprintf("user%d@%s", r.IntN(50), domains[r.IntN(len(domains))]), Action: p.action}},
			Action:     p.action, VerdictAction: p.action,
			Policies: []store.Policy{{Name: p.name, Severity: p.sev, Mode: "prevent", Action: p.action, Enforced: true}},
			Detections: []store.Detection{{Type: "credit_card", Count: 1 + r.IntN(3), Confidence: "high",
				Evidence: []string{"************1111"}, Locations: []string{"body/1"}}},
		}
	}
	return out
}

// insertSynthetic stores incidents in batches.
func insertSynthetic(t testing.TB, st *store.Store, ins []store.Incident) {
	t.Helper()
	for i := 0; i < len(ins); i += 5000 {
		if _, err := st.Insert(context.Background(), ins[i:min(i+5000, len(ins))]); err != nil {
			t.Fatal(err)
		}
	}
}
