package console

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/store"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const testPassword = "correct horse battery"

type fixture struct {
	t     testing.TB
	st    *store.Store
	srv   *Server
	clock *clock
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(t.TempDir(), "maildlp.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// newFixture opens a store with three users (viewer, analyst, admin;
// password testPassword) and a console on it.
func newFixture(t testing.TB, cfg config.Console) *fixture {
	t.Helper()
	return newFixtureOn(t, openStore(t), cfg)
}

// newFixtureOn is newFixture on a migrated store.
func newFixtureOn(t testing.TB, st *store.Store, cfg config.Console) *fixture {
	t.Helper()
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	st.SetClock(c.now)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if tt, ok := t.(*testing.T); ok && testing.Verbose() {
		log = slog.New(slog.NewTextHandler(tWriter{tt}, nil))
	}
	srv, err := New(Options{Store: st, Config: cfg, Log: log, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, st: st, srv: srv, clock: c}
	for _, u := range []struct {
		name string
		role Role
	}{{"viewer", Viewer}, {"analyst", Analyst}, {"admin", Admin}} {
		if err := srv.Users().Add(context.Background(), u.name, u.role, testPassword, store.Actor{Name: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// testMessage is a message of the redaction corpus with the raw values
// it carries, which no page may show.
type testMessage struct {
	from, to, subject, body string
	raw                     []string
}

// testMessages carry checksum-valid fake values of several detectors.
var testMessages = []testMessage{
	{"alice@example.com", "bob@partner.example", "invoice", "Please charge card 4556 7375 8689 9855 today.\r\nAnd 5425233430109903 as well.\r\n",
		[]string{"4556737586899855", "4556 7375 8689 9855", "5425233430109903"}},
	{"carol@example.com", "dave@bank.example", "transfer", "IBAN: DE89 3704 0044 0532 0130 00\r\nThanks.\r\n",
		[]string{"DE89370400440532013000", "DE89 3704 0044 0532 0130 00"}},
	{"erin@example.com", "frank@other.example", "cards", "Cards:\r\n4916338506082832\r\n4532015112830366\r\n4024007198964305\r\n",
		[]string{"4916338506082832", "4532015112830366", "4024007198964305"}},
}

// scanIncidents runs the default policy over the test messages and
// returns the incidents a front end would record.
func scanIncidents(t testing.TB, base time.Time) []store.Incident {
	t.Helper()
	cfg, err := config.Default(detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := policy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Incident
	for i, m := range testMessages {
		msg := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <m%d@example.com>\r\n\r\n%s", m.from, m.to, m.subject, i, m.body)
		env := policy.Envelope{QueueID: fmt.Sprintf("Q%04d", i), ClientAddr: "192.0.2.10", MailFrom: m.from, Rcpts: []string{m.to}}
		v := eng.Evaluate(context.Background(), policy.Message{Envelope: env, Body: strings.NewReader(msg)})
		if len(v.Detections) == 0 {
			t.Fatalf("message %d: nothing detected; the redaction test needs detections", i)
		}
		out = append(out, incidentOf(fmt.Sprintf("inc%04d", i), base.Add(-time.Duration(i)*time.Minute), env, m, v))
	}
	return out
}

func incidentOf(id string, at time.Time, env policy.Envelope, m testMessage, v action.Verdict) store.Incident {
	in := store.Incident{ID: id, Time: at, Node: "node-a", MTAHost: "mta-a", Frontend: "milter", QueueID: env.QueueID,
		MessageID: "<" + id + "@example.com>", Direction: "outbound", Sender: env.MailFrom, ClientAddr: env.ClientAddr,
		Subject: m.subject, Size: int64(len(m.body)), Action: v.Action.String(), VerdictAction: v.Action.String()}
	for _, r := range env.Rcpts {
		in.Recipients = append(in.Recipients, store.Recipient{Address: r, Action: v.Action.String()})
	}
	for _, p := range v.Policies {
		in.Policies = append(in.Policies, store.Policy{Name: p.Name, Severity: p.Severity, Mode: p.Mode, Action: p.Action.String(), Enforced: p.Mode != "monitor"})
	}
	for _, d := range v.Detections {
		in.Detections = append(in.Detections, store.Detection{Type: d.Type, Count: d.Count, Confidence: d.Confidence,
			TestValue: d.TestValue, Evidence: d.Evidence, Locations: d.Locations})
	}
	for _, u := range v.Unscannable {
		in.Unscannable = append(in.Unscannable, store.Unscannable{Location: u.Location, Reason: u.Reason})
	}
	if v.QuarantineReason != "" {
		in.Extra = []byte(fmt.Sprintf(`{"quarantine_reason":%q}`, v.QuarantineReason))
	}
	return in
}

// seed stores the scanned incidents and holds the first one's message.
func (f *fixture) seed() []store.Incident {
	f.t.Helper()
	ins := scanIncidents(f.t, f.clock.now())
	if _, err := f.st.Insert(context.Background(), ins); err != nil {
		f.t.Fatal(err)
	}
	h := store.Held{MTAHost: ins[0].MTAHost, QueueID: ins[0].QueueID, IncidentID: ins[0].ID, Node: "node-a"}
	if err := f.st.PutHeld(context.Background(), h, "hold", store.Actor{Name: "node-a"}, "held by policy"); err != nil {
		f.t.Fatal(err)
	}
	return ins
}

// client drives the console's handler like a browser of the same origin.
type client struct {
	f      *fixture
	cookie *http.Cookie
	csrf   string
	addr   string
}

const origin = "http://console.test"

func (f *fixture) client() *client { return &client{f: f, addr: "192.0.2.50:40000"} }

type response struct {
	code int
	body string
	hdr  http.Header
}

func (c *client) do(req *http.Request) response {
	req.RemoteAddr = c.addr
	req.Host = "console.test"
	if c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	w := httptest.NewRecorder()
	c.f.srv.Handler().ServeHTTP(w, req)
	res := w.Result()
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 {
			c.cookie = nil
		} else {
			c.cookie = ck
		}
	}
	body := w.Body.String()
	if m := csrfRe.FindStringSubmatch(body); m != nil {
		c.csrf = m[1]
	}
	return response{code: w.Code, body: body, hdr: w.Header()}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) get(path string) response {
	return c.do(httptest.NewRequest("GET", origin+path, nil))
}

// post sends a same-origin form with the session's CSRF token.
func (c *client) post(path string, form url.Values) response {
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" && c.csrf != "" {
		form.Set("csrf", c.csrf)
	}
	req := httptest.NewRequest("POST", origin+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.do(req)
}

func (c *client) login(name string) {
	c.f.t.Helper()
	r := c.post("/login", url.Values{"name": {name}, "password": {testPassword}})
	if r.code != http.StatusSeeOther || c.cookie == nil {
		c.f.t.Fatalf("login %s: %d %s", name, r.code, r.body)
	}
	c.get("/") // picks up the session's form token
}

func (f *fixture) signedIn(name string) *client {
	c := f.client()
	c.login(name)
	return c
}
