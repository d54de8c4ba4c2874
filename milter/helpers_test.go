package milter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/metrics"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/report"
	"github.com/maildlp/maildlp/report/reporttest"
)

// fakeEngine is an engine whose answers a test chooses. Evaluate reads the
// whole message unless evaluate is set.
type fakeEngine struct {
	mu       sync.Mutex
	verdict  action.Verdict
	evaluate func(ctx context.Context, m policy.Message) action.Verdict
	envelope func(env policy.Envelope) (action.Verdict, bool)
	rcpt     func(env policy.Envelope, rcpt string) (action.Verdict, bool)
	limits   config.Limits

	calls int
	got   []byte          // message bytes read by the last Evaluate
	env   policy.Envelope // envelope of the last Evaluate
}

func (f *fakeEngine) Evaluate(ctx context.Context, m policy.Message) action.Verdict {
	f.mu.Lock()
	f.calls++
	f.env = m.Envelope
	f.mu.Unlock()
	if f.evaluate != nil {
		return f.evaluate(ctx, m)
	}
	b, err := io.ReadAll(m.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = b
	if err != nil {
		return action.Verdict{Err: err}
	}
	return f.verdict
}

func (f *fakeEngine) CheckEnvelope(env policy.Envelope) (action.Verdict, bool) {
	if f.envelope != nil {
		return f.envelope(env)
	}
	return action.Verdict{}, false
}

func (f *fakeEngine) CheckRecipient(env policy.Envelope, rcpt string) (action.Verdict, bool) {
	if f.rcpt != nil {
		return f.rcpt(env, rcpt)
	}
	return action.Verdict{}, false
}

func (f *fakeEngine) Config() *config.Config {
	return &config.Config{Limits: f.limits}
}

func (f *fakeEngine) snapshot() (calls int, got []byte, env policy.Envelope) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.got, f.env
}

// recorder keeps the decisions it is given.
type recorder = reporttest.Recorder

// waitDecisions waits until n decisions were recorded (the recorder is
// called before the MTA gets its answer, so this normally returns at once).
func waitDecisions(t testing.TB, r *recorder, n int) []report.Decision {
	t.Helper()
	var ds []report.Decision
	testutil.WaitFor(t, fmt.Sprintf("%d recorded decisions", n), func() bool {
		ds = r.All()
		return len(ds) >= n
	})
	if len(ds) != n {
		t.Fatalf("recorded %d decisions, want %d: %+v", len(ds), n, ds)
	}
	return ds
}

// startServer serves eng on a loopback TCP port for the test's duration.
func startServer(t testing.TB, eng engine, opts ...Option) (*Server, string) {
	t.Helper()
	ln, err := Listen("inet:0@127.0.0.1", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, eng, ln, opts...), ln.Addr().String()
}

func serveOn(t testing.TB, eng engine, ln net.Listener, opts ...Option) *Server {
	t.Helper()
	if eng == nil {
		eng = &fakeEngine{}
	}
	// Every server counts panics in a registry of its own; unless the test
	// brings its own (it provokes panics and checks them), any panic fails
	// the test.
	m := metrics.New()
	opts = append([]Option{WithLogger(testutil.Logger(t)), WithMetrics(m)}, opts...)
	s := newServer(config.Milter{}.WithDefaults(), func() engine { return eng }, opts...)
	t.Cleanup(func() {
		if s.o.metrics != m {
			return
		}
		for _, c := range []string{"engine", "milter"} {
			if n := m.Value("maildlp_panics_total", c); n != 0 {
				t.Errorf("%v unexpected recovered panic(s) in %s", n, c)
			}
		}
	})
	testutil.Serve(t, func() error { return s.Serve(ln) }, s.Shutdown)
	return s
}

// mta describes what the simulated MTA sends.
type mta struct {
	network, addr string
	macros        map[string]string // defaults: Postfix-like
	host, ip      string
	port          uint16
	from          string
	mailArgs      string // ESMTP parameters of MAIL FROM, e.g. "SMTPUTF8"
	rcpts         []string
	headers       [][2]string // name, value as the MTA sends them (with leading space)
	body          []byte
	readTimeout   time.Duration
	// bodyPause, when set, sends the body in bodyChunks chunks with a
	// pause before each (a slow client).
	bodyPause  time.Duration
	bodyChunks int
}

// result is what the simulated MTA got back.
type result struct {
	mail  *gomilter.Action
	rcpts []*gomilter.Action
	mods  []gomilter.ModifyAction
	end   *gomilter.Action
}

func defaultMacros() map[string]string {
	return map[string]string{
		gomilter.MacroMTAVersion: "Postfix 3.7.11",
		gomilter.MacroMTAFQDN:    "mx.example.com",
		gomilter.MacroDaemonName: "smtpd",
		gomilter.MacroClientAddr: "192.0.2.10",
		gomilter.MacroClientName: "client.example.net",
		gomilter.MacroQueueId:    "4XyZ1A2B3C",
		gomilter.MacroAuthAuthen: "alice",
	}
}

func simpleMessage() mta {
	return mta{
		from:  "alice@example.com",
		rcpts: []string{"bob@example.org", "carol@example.org"},
		headers: [][2]string{
			{"From", " Alice <alice@example.com>"},
			{"To", " bob@example.org"},
			{"Subject", " Quarterly figures"},
		},
		body: []byte("Hello Bob,\r\nsee attached.\r\n"),
	}
}

// wire is the message as the engine must see it.
func (m mta) wire() string {
	var b strings.Builder
	for _, h := range m.headers {
		b.WriteString(h[0] + ":" + strings.ReplaceAll(h[1], "\n", "\r\n") + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(m.body)
	return b.String()
}

// send runs one message through the milter at addr as the MTA would.
func (m mta) send(t testing.TB, addr string) result {
	t.Helper()
	r, err := m.trySend(addr)
	if err != nil {
		t.Fatalf("milter session: %v", err)
	}
	return r
}

func (m mta) trySend(addr string) (result, error) { return m.trySendWith(addr) }

func (m mta) trySendWith(addr string, opts ...gomilter.Option) (result, error) {
	var r result
	network := m.network
	if network == "" {
		network = "tcp"
	}
	if m.addr != "" {
		addr = m.addr
	}
	macros := gomilter.NewMacroBag()
	mac := m.macros
	if mac == nil {
		mac = defaultMacros()
	}
	for k, v := range mac {
		macros.Set(k, v)
	}
	if m.from != "" {
		macros.Set(gomilter.MacroMailAddr, m.from)
	}
	rt := m.readTimeout
	if rt == 0 {
		rt = 10 * time.Second
	}
	c := gomilter.NewClient(network, addr, append([]gomilter.Option{gomilter.WithReadTimeout(rt)}, opts...)...)
	s, err := c.Session(macros)
	if err != nil {
		return r, err
	}
	defer s.Close()
	host, ip, port := m.host, m.ip, m.port
	if host == "" {
		host, ip, port = "client.example.net", "192.0.2.10", 41234
	}
	if _, err := s.Conn(host, gomilter.FamilyInet, port, ip); err != nil {
		return r, err
	}
	if _, err := s.Helo("client.example.net"); err != nil {
		return r, err
	}
	if r.mail, err = s.Mail(m.from, m.mailArgs); err != nil {
		return r, err
	}
	if r.mail.StopProcessing() || r.mail.Type == gomilter.ActionAccept {
		return r, nil
	}
	accepted := 0
	for _, rc := range m.rcpts {
		macros.Set(gomilter.MacroRcptAddr, rc)
		a, err := s.Rcpt(rc, "")
		if err != nil {
			return r, err
		}
		r.rcpts = append(r.rcpts, a)
		if !a.StopProcessing() {
			accepted++
		}
	}
	if accepted == 0 {
		return r, nil
	}
	if a, err := s.DataStart(); err != nil || a.Type != gomilter.ActionContinue {
		return r, fmt.Errorf("data: %v %v", a, err)
	}
	for _, h := range m.headers {
		if _, err := s.HeaderField(h[0], h[1], nil); err != nil {
			return r, err
		}
	}
	if _, err := s.HeaderEnd(); err != nil {
		return r, err
	}
	if len(m.body) == 0 {
		// go-milter's client needs one body event before end of message.
		if _, err := s.BodyChunk(nil); err != nil {
			return r, err
		}
	}
	if m.bodyPause > 0 && m.bodyChunks > 0 {
		step := (len(m.body) + m.bodyChunks - 1) / m.bodyChunks
		for b := m.body; len(b) > 0; {
			n := min(step, len(b))
			time.Sleep(m.bodyPause)
			if _, err := s.BodyChunk(b[:n]); err != nil {
				return r, err
			}
			b = b[n:]
		}
		r.mods, r.end, err = s.End()
		return r, err
	}
	r.mods, r.end, err = s.BodyReadFrom(bytes.NewReader(m.body))
	return r, err
}

// mods renders modifications for comparison.
func modStrings(mods []gomilter.ModifyAction) []string {
	var out []string
	for _, m := range mods {
		out = append(out, m.String())
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// withConfig serves with the [milter] section m, its unset fields at their
// defaults.
func withConfig(m config.Milter) Option {
	return func(o *options) { o.cfg = m.WithDefaults() }
}
