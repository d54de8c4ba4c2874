package console

import (
	"context"
	"crypto/tls"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/store"
)

// pages lists every page a signed-in user can open, given seeded data.
func pagePaths(ins []store.Incident) []string {
	return []string{"/", "/incidents", "/incidents?severity=high", "/incidents?last=7d&status=new",
		"/incidents/" + ins[0].ID, "/incidents/" + ins[1].ID, "/quarantine", "/quarantine?age=0",
		"/quarantine?state=failed", "/audit", "/users"}
}

func TestIssue11LoggedOutIsRedirected(t *testing.T) {
	f := newFixture(t, config.Console{})
	ins := f.seed()
	c := f.client()
	for _, p := range pagePaths(ins) {
		r := c.get(p)
		if r.code != http.StatusSeeOther || !strings.HasPrefix(r.hdr.Get("Location"), "/login?next=") {
			t.Errorf("GET %s logged out = %d %q, want 303 to /login", p, r.code, r.hdr.Get("Location"))
		}
	}
	for _, p := range []string{"/incidents/" + ins[0].ID + "/status", "/incidents/bulk", "/held/mta-a/Q0000/release", "/users", "/logout"} {
		if r := c.post(p, url.Values{"status": {"confirmed"}, "reason": {"x"}}); r.code != http.StatusUnauthorized {
			t.Errorf("POST %s logged out = %d, want 401", p, r.code)
		}
	}
	if r := c.get("/login"); r.code != http.StatusOK || !strings.Contains(r.body, `name="password"`) {
		t.Errorf("GET /login = %d", r.code)
	}
	if in, _ := f.st.Get(context.Background(), ins[0].ID); in.Status != store.StatusNew {
		t.Errorf("status changed by a logged-out request: %s", in.Status)
	}
}

func TestIssue11EveryPageRenders(t *testing.T) {
	f := newFixture(t, config.Console{})
	ins := f.seed()
	c := f.signedIn("admin")
	for _, p := range pagePaths(ins) {
		r := c.get(p)
		if r.code != http.StatusOK {
			t.Errorf("GET %s = %d\n%s", p, r.code, r.body)
			continue
		}
		if len(r.body) > 200<<10 {
			t.Errorf("GET %s: %d bytes, more than 200 KB", p, len(r.body))
		}
		if !strings.Contains(r.body, "</html>") {
			t.Errorf("GET %s: page not complete", p)
		}
	}
	if r := c.get("/incidents/nope"); r.code != http.StatusNotFound {
		t.Errorf("GET unknown incident = %d, want 404", r.code)
	}
	if r := c.get("/incidents?status=bogus"); r.code != http.StatusBadRequest {
		t.Errorf("GET bad filter = %d, want 400", r.code)
	}
	if r := c.get("/static/console.css"); r.code != http.StatusOK || !strings.Contains(r.body, "svg.chart") {
		t.Errorf("GET style sheet = %d", r.code)
	}
}

func TestIssue11DashboardLinksToFilteredList(t *testing.T) {
	f := newFixture(t, config.Console{})
	ins := f.seed()
	c := f.signedIn("viewer")
	r := c.get("/")
	r.body = html.UnescapeString(r.body)
	for _, want := range []string{"<svg", "Incidents per day by severity", "Top policies", "Top senders", "Actions taken",
		"Held messages by age", "/incidents?policy=" + url.QueryEscape(ins[0].Policies[0].Name),
		"/incidents?sender=" + url.QueryEscape(ins[0].Sender), "/quarantine?age=0"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	// A per-day bar links to that day and severity, and the list it opens
	// holds the incidents it counts.
	day := f.clock.now().Format(time.DateOnly)
	sev := ins[0].Severity
	link := "/incidents?" + url.Values{"severity": {sev}, "since": {day}, "until": {f.clock.now().AddDate(0, 0, 1).Format(time.DateOnly)}}.Encode()
	if !strings.Contains(r.body, link) {
		t.Fatalf("dashboard lacks the bar link %s", link)
	}
	list := c.get(link)
	if !strings.Contains(list.body, "/incidents/"+ins[0].ID) {
		t.Errorf("the bar's list lacks %s", ins[0].ID)
	}
}

func TestIssue11LoginThrottled(t *testing.T) {
	f := newFixture(t, config.Console{LoginAttempts: 3, LoginWindow: config.Duration(time.Minute)})
	c := f.client()
	for i := range 3 {
		if r := c.post("/login", url.Values{"name": {"analyst"}, "password": {"wrong password"}}); r.code != http.StatusUnauthorized {
			t.Fatalf("failed login %d = %d, want 401", i, r.code)
		}
	}
	// The right password is refused too, until the window has passed.
	if r := c.post("/login", url.Values{"name": {"analyst"}, "password": {testPassword}}); r.code != http.StatusTooManyRequests {
		t.Fatalf("login after 3 failures = %d, want 429", r.code)
	}
	// Another address is refused for the same user name.
	other := f.client()
	other.addr = "198.51.100.7:1234"
	if r := other.post("/login", url.Values{"name": {"analyst"}, "password": {testPassword}}); r.code != http.StatusTooManyRequests {
		t.Fatalf("login of the throttled name from another address = %d, want 429", r.code)
	}
	f.clock.add(time.Minute)
	if r := c.post("/login", url.Values{"name": {"analyst"}, "password": {testPassword}}); r.code != http.StatusSeeOther {
		t.Fatalf("login after the window = %d, want 303", r.code)
	}
	evs := events(t, f.st, KindLoginFailed)
	if len(evs) != 3 {
		t.Fatalf("%d login_failed events, want 3", len(evs))
	}
}

func TestIssue11FailedLoginDoesNotLogTypedName(t *testing.T) {
	f := newFixture(t, config.Console{})
	c := f.client()
	c.post("/login", url.Values{"name": {"Secret-Password-Typed-Here"}, "password": {"x"}})
	for _, e := range events(t, f.st, KindLoginFailed) {
		if strings.Contains(e.Actor+e.After+e.Reason, "Secret-Password") {
			t.Fatalf("audit log holds the typed name: %+v", e)
		}
	}
}

func events(t testing.TB, st *store.Store, kind string) []store.Event {
	t.Helper()
	evs, err := st.Events(context.Background(), store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Event
	for _, e := range evs {
		if kind == "" || e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func TestIssue11SessionCookie(t *testing.T) {
	f := newFixture(t, config.Console{})
	c := f.client()
	c.post("/login", url.Values{"name": {"viewer"}, "password": {testPassword}})
	ck := c.cookie
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure || ck.Name != "maildlp" {
		t.Fatalf("plain-HTTP session cookie = %+v", ck)
	}
	// Only a hash of the token is stored.
	var n int
	f.st.DB().QueryRow(`SELECT COUNT(*) FROM console_sessions WHERE token_hash = ?`, ck.Value).Scan(&n)
	if n != 0 {
		t.Fatal("the session token is stored as it is")
	}
	// Over HTTPS (a trusted proxy saying so), the cookie is Secure with the __Host- prefix.
	f2 := newFixture(t, config.Console{TrustedProxies: []string{"127.0.0.1"}})
	c2 := f2.client()
	c2.addr = "127.0.0.1:5555"
	form := url.Values{"name": {"viewer"}, "password": {testPassword}}
	r := httpsPost(c2, "/login", form)
	if r.code != http.StatusSeeOther || c2.cookie == nil || !c2.cookie.Secure || c2.cookie.Name != "__Host-maildlp" {
		t.Fatalf("HTTPS login = %d, cookie %+v", r.code, c2.cookie)
	}
	// Idle sessions end.
	c.get("/")
	f.clock.add(2 * time.Hour)
	if r := c.get("/"); r.code != http.StatusSeeOther {
		t.Fatalf("GET after 2h idle = %d, want 303 to login", r.code)
	}
}

func httpsPost(c *client, path string, form url.Values) response {
	req := newFormRequest(path, form)
	req.Header.Set("X-Forwarded-Proto", "https")
	return c.do(req)
}

func newFormRequest(path string, form url.Values) *http.Request {
	req, _ := http.NewRequest("POST", origin+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return req
}

func TestIssue11Logout(t *testing.T) {
	f := newFixture(t, config.Console{})
	c := f.signedIn("viewer")
	old := c.cookie
	if r := c.post("/logout", nil); r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/login" {
		t.Fatalf("logout = %d %s", r.code, r.hdr.Get("Location"))
	}
	c.cookie = old // a copied cookie is worthless after logout
	if r := c.get("/"); r.code != http.StatusSeeOther {
		t.Fatalf("GET with the old cookie = %d, want 303", r.code)
	}
}

func TestIssue11SecurityHeaders(t *testing.T) {
	f := newFixture(t, config.Console{})
	for _, r := range []response{f.client().get("/login"), f.signedIn("viewer").get("/")} {
		csp := r.hdr.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP allows scripts: %q", csp)
		}
		for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
			"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
			if got := r.hdr.Get(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
		if strings.Contains(r.body, "<script") || strings.Contains(r.body, " onclick=") {
			t.Error("a page has a script")
		}
	}
}

func TestIssue11TLSCookieAndHSTS(t *testing.T) {
	// The certificate files are only read by Serve; the handler needs
	// only to know that it is behind TLS.
	f := newFixture(t, config.Console{TLSCert: "cert.pem", TLSKey: "key.pem"})
	c := f.client()
	req := newFormRequest("/login", url.Values{"name": {"viewer"}, "password": {testPassword}})
	req.TLS = &tls.ConnectionState{}
	r := c.do(req)
	if r.code != http.StatusSeeOther || c.cookie == nil || !c.cookie.Secure || !c.cookie.HttpOnly ||
		c.cookie.SameSite != http.SameSiteStrictMode || c.cookie.Name != "__Host-maildlp" || c.cookie.Path != "/" {
		t.Fatalf("TLS login = %d, cookie %+v", r.code, c.cookie)
	}
	if h := r.hdr.Get("Strict-Transport-Security"); !strings.HasPrefix(h, "max-age=") {
		t.Fatalf("HSTS = %q", h)
	}
	// The Secure cookie is not accepted over plain HTTP (its name differs).
	if r := c.get("/"); r.code != http.StatusSeeOther {
		t.Fatalf("plain-HTTP request with the TLS cookie = %d, want 303", r.code)
	}
}

func TestIssue11SessionsPerUserBounded(t *testing.T) {
	f := newFixture(t, config.Console{LoginAttempts: 1000})
	var first *client
	for i := range MaxSessionsPerUser + 5 {
		c := f.signedIn("viewer")
		if i == 0 {
			first = c
		}
		f.clock.add(time.Second)
	}
	var n int
	f.st.DB().QueryRow(`SELECT COUNT(*) FROM console_sessions WHERE username = 'viewer'`).Scan(&n)
	if n != MaxSessionsPerUser {
		t.Fatalf("%d sessions, want %d", n, MaxSessionsPerUser)
	}
	if r := first.get("/"); r.code != http.StatusSeeOther {
		t.Fatalf("the oldest session still works: %d", r.code)
	}
}
