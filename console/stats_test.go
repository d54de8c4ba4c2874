package console

import (
	"context"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
)

func total(f *figures) (n int64) {
	for _, d := range f.PerDay {
		for _, k := range d {
			n += k
		}
	}
	return n
}

// TestIssue11DashboardFigures checks the figures against the incidents,
// and that a refresh reuses past days but sees today's new incidents at
// once and a late one for an earlier day within dayMaxAge.
func TestIssue11DashboardFigures(t *testing.T) {
	f := newFixture(t, config.Console{})
	now := f.clock.now()
	ins := synthetic(3000, now, 20, 3)
	insertSynthetic(t, f.st, ins)
	c := f.srv.stats
	fig, err := c.refresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	senders := map[string]int64{}
	for _, in := range ins {
		if !in.Time.Before(fig.Since) {
			want++
			senders[in.Sender]++
		}
	}
	if got := total(fig); got != want {
		t.Fatalf("incidents in the period = %d, want %d", got, want)
	}
	if top := fig.Senders[0]; senders[top.Key] != top.N {
		t.Fatalf("top sender %s = %d, want %d", top.Key, top.N, senders[top.Key])
	}
	var pol int64
	for _, p := range fig.Policies {
		pol += p.N
	}
	if pol != want { // one policy per synthetic incident
		t.Fatalf("policy counts sum to %d, want %d", pol, want)
	}
	late := synthetic(2, now, 1, 99)
	late[0].ID, late[0].Time = "late-today", now.Add(-time.Second)
	late[1].ID, late[1].Time = "late-old", now.AddDate(0, 0, -3)
	insertSynthetic(t, f.st, late)
	f.clock.add(time.Second)
	fig, _ = c.refresh(context.Background())
	if got := total(fig); got != want+1 {
		t.Fatalf("after an incident today: %d, want %d", got, want+1)
	}
	f.clock.add(dayMaxAge)
	for range DashboardDays / staleDaysPerRefresh {
		fig, _ = c.refresh(context.Background())
	}
	if got := total(fig); got != want+2 {
		t.Fatalf("after the late incident's day was read again: %d, want %d", got, want+2)
	}
}
