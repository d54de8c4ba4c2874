package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/pgtest"
	"github.com/maildlp/maildlp/store"
)

// TestIssue11ConsoleOnPostgres runs the console's own SQL (users,
// sessions, saved views, held pages, requests, audit log, dashboard
// figures) on a real PostgreSQL: every page renders and every action
// goes through.
func TestIssue11ConsoleOnPostgres(t *testing.T) {
	pg := pgtest.New(t)
	st, err := store.Open(context.Background(), store.Options{Driver: store.Postgres, DSN: pg.DSN()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := newFixtureOn(t, st, config.Console{})
	ins := f.seed()
	insertSynthetic(t, st, synthetic(500, f.clock.now(), DashboardDays, 5))
	c := f.signedIn("admin")
	for _, a := range []struct {
		path string
		form url.Values
	}{
		{"/incidents/" + ins[1].ID + "/status", url.Values{"status": {"confirmed"}, "reason": {"checked"}}},
		{"/incidents/" + ins[1].ID + "/assign", url.Values{"assignee": {"analyst"}}},
		{"/incidents/" + ins[1].ID + "/note", url.Values{"text": {"a note"}}},
		{"/incidents/bulk", url.Values{"status": {"in_review"}, "id": {ins[0].ID, ins[2].ID}}},
		{"/held/mta-a/Q0000/release", url.Values{"reason": {"approved"}}},
		{"/views", url.Values{"name": {"crit"}, "query": {"severity=critical"}}},
		{"/users", url.Values{"name": {"zoe"}, "role": {"viewer"}, "password": {testPassword}}},
		{"/users/zoe/role", url.Values{"role": {"analyst"}}},
		{"/users/zoe/password", url.Values{"password": {"another long password"}}},
		{"/users/zoe/delete", nil},
	} {
		if r := c.post(a.path, a.form); r.code != http.StatusSeeOther {
			t.Errorf("POST %s = %d\n%s", a.path, r.code, r.body)
		}
	}
	for _, p := range append(pagePaths(ins), "/incidents?rcpt_domain=bank.example", "/audit?actor=admin", "/quarantine?age=3") {
		if r := c.get(p); r.code != http.StatusOK {
			t.Errorf("GET %s = %d\n%s", p, r.code, r.body)
		}
	}
	if b := c.get("/quarantine").body; !strings.Contains(b, "rs-pending") {
		t.Error("the release request is not shown")
	}
	if b := c.get("/audit").body; !strings.Contains(b, "release requested") || !strings.Contains(b, "user delete") {
		t.Error("audit page lacks events")
	}
	fig, err := f.srv.stats.refresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	st.DB().QueryRow(`SELECT COUNT(*) FROM incidents WHERE time_us >= $1`, fig.Since.UnixMicro()).Scan(&want)
	if got := total(fig); got != want || want < 300 {
		t.Fatalf("dashboard counts %d incidents on PostgreSQL, the table %d", got, want)
	}
	if r := c.post("/logout", nil); r.code != http.StatusSeeOther {
		t.Fatalf("logout = %d", r.code)
	}
}
