package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/store"
)

// benchIncidents is the store size the console must stay fast at.
const benchIncidents = 1_000_000

// openBenchStore opens $MAILDLP_BENCH_DB, filling it with benchIncidents
// synthetic incidents over 30 days when it has fewer (once: the file is
// kept), or a temporary store of 20,000 when the variable is unset.
func openBenchStore(b *testing.B) (*store.Store, time.Time) {
	path := os.Getenv("MAILDLP_BENCH_DB")
	n := benchIncidents
	if path == "" {
		path, n = filepath.Join(b.TempDir(), "bench.db"), 20_000
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	var have int
	var newest int64
	st.DB().QueryRow(`SELECT COUNT(*), COALESCE(MAX(time_us), 0) FROM incidents`).Scan(&have, &newest)
	if have < n {
		start := time.Now()
		now := time.Now().UTC()
		all := synthetic(n, now, 30, 7)
		insertSynthetic(b, st, all[have:])
		for i := range min(2000, n/17) { // held messages of all ages
			in := all[i*17]
			h := store.Held{MTAHost: in.MTAHost, QueueID: in.QueueID, IncidentID: in.ID, Node: in.Node, HeldAt: in.Time}
			if err := st.PutHeld(ctx, h, "hold", store.Actor{Name: in.Node}, "held by policy"); err != nil {
				b.Fatal(err)
			}
		}
		users := NewUsers(st)
		users.Add(ctx, "bench", Admin, testPassword, store.Actor{Name: "bench"})
		b.Logf("filled %s with %d incidents in %s", path, n-have, time.Since(start).Round(time.Second))
		newest = now.UnixMicro()
	}
	return st, time.UnixMicro(newest).UTC()
}

// BenchmarkConsolePages renders each page through the handler, signed in,
// over a store of a million incidents (make bench-console), and reports
// the server time per page and its size. It fails a page above 200 ms or
// 200 KB.
func BenchmarkConsolePages(b *testing.B) {
	st, now := openBenchStore(b)
	srv, err := New(Options{Store: st, Config: config.Console{}, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := srv.users.Get(ctx, "bench"); err != nil {
		srv.users.Add(ctx, "bench", Admin, testPassword, store.Actor{Name: "bench"})
	}
	tok, err := srv.sessions.create(ctx, "bench", "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	_, err = srv.stats.refresh(ctx)
	if err != nil {
		b.Fatal(err)
	}
	cold := time.Since(start)
	start = time.Now()
	if _, err := srv.stats.refresh(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("dashboard figures: first computed in %s, refreshed (today's partials) in %s; in the background every %s",
		cold.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), srv.stats.maxAge/2)
	get := func(path string) (int, string) {
		req := httptest.NewRequest("GET", "http://console.test"+path, nil)
		req.AddCookie(&http.Cookie{Name: "maildlp", Value: tok})
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, req)
		return w.Code, w.Body.String()
	}
	// A page deep in the list: follow next links a few times.
	deep := "/incidents"
	nextRe := regexp.MustCompile(`href="([^"]+)" id="next"`)
	for range 20 {
		_, body := get(deep)
		m := nextRe.FindStringSubmatch(body)
		if m == nil {
			break
		}
		deep = strings.ReplaceAll(m[1], "&amp;", "&")
	}
	var one store.Incident
	if ins, _, err := st.List(ctx, store.Filter{}, store.Page{Limit: 1}); err == nil && len(ins) == 1 {
		one = ins[0]
	}
	day := now.AddDate(0, 0, -3).Format(time.DateOnly)
	pages := []struct{ name, path string }{
		{"dashboard", "/"},
		{"list", "/incidents"},
		{"list-page-21", deep},
		{"list-policy", "/incidents?policy=" + url.QueryEscape("HR: national ids")},
		{"list-severity", "/incidents?severity=critical"},
		{"list-action", "/incidents?action=redirect"},
		{"list-status", "/incidents?status=new"},
		{"list-sender", "/incidents?sender=judy%40example.com"},
		{"list-rcpt-domain", "/incidents?rcpt_domain=bank.example"},
		{"list-node", "/incidents?node=mx2"},
		{"list-day-severity", "/incidents?severity=low&since=" + day},
		{"list-policy-domain", "/incidents?policy=" + url.QueryEscape("Finance: payslips") + "&rcpt_domain=example.org"},
		{"list-rare-sender", "/incidents?sender=nobody%40example.com"},
		{"detail", "/incidents/" + one.ID},
		{"quarantine", "/quarantine"},
		{"audit", "/audit"},
		{"users", "/users"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			code, body := get(p.path)
			if code != 200 {
				b.Fatalf("GET %s = %d", p.path, code)
			}
			size := len(body)
			start := time.Now()
			for b.Loop() {
				get(p.path)
			}
			per := time.Since(start) / time.Duration(b.N)
			b.ReportMetric(float64(per.Microseconds())/1000, "ms/page")
			b.ReportMetric(float64(size)/1024, "KB/page")
			if per > 200*time.Millisecond {
				b.Errorf("GET %s: %s per page, more than 200 ms", p.path, per)
			}
			if size > 200<<10 {
				b.Errorf("GET %s: %d bytes, more than 200 KB", p.path, size)
			}
		})
	}
}
