package outbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/metrics"
	"github.com/maildlp/maildlp/policy/action"
)

// received is one message the test relay accepted.
type received struct {
	from string
	to   []string
	data []byte
}

// relay is a real go-smtp server on loopback standing in for the
// notification relay. Its replies can be changed while it runs.
type relay struct {
	t    *testing.T
	addr string

	mu        sync.Mutex
	srv       *smtp.Server
	msgs      []received
	attempts  int                     // DATA commands seen
	rcptReply func(rcpt string) error // nil: accept
	dataReply func(n int) error       // n = attempt number from 1; nil: accept
	inData    int                     // sessions currently inside Data
	maxInData int
	hold      chan struct{} // when set, Data waits on it
}

func newRelay(t *testing.T) *relay {
	r := &relay{t: t}
	r.start("127.0.0.1:0")
	t.Cleanup(r.stop)
	return r
}

// downRelay returns an address where nothing listens (yet).
func downRelay(t *testing.T) *relay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{t: t, addr: ln.Addr().String()}
	ln.Close()
	t.Cleanup(r.stop)
	return r
}

func (r *relay) start(addr string) {
	r.t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		r.t.Fatalf("relay listen %s: %v", addr, err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &relaySession{r: r}, nil
	}))
	srv.Domain = "relay.test"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	r.mu.Lock()
	r.addr = ln.Addr().String()
	r.srv = srv
	r.mu.Unlock()
	go srv.Serve(ln)
}

func (r *relay) stop() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

func (r *relay) messages() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.msgs...)
}

type relaySession struct {
	r    *relay
	from string
	to   []string
}

func (s *relaySession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.mu.Lock()
	f := s.r.rcptReply
	s.r.mu.Unlock()
	if f != nil {
		if err := f(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}
func (s *relaySession) Data(rd io.Reader) error {
	data, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	r := s.r
	r.mu.Lock()
	r.attempts++
	n := r.attempts
	f := r.dataReply
	hold := r.hold
	r.inData++
	r.maxInData = max(r.maxInData, r.inData)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inData--
		r.mu.Unlock()
	}()
	if hold != nil {
		<-hold
	}
	if f != nil {
		if err := f(n); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.msgs = append(r.msgs, received{s.from, append([]string(nil), s.to...), data})
	r.mu.Unlock()
	return nil
}
func (s *relaySession) Reset()        { s.from, s.to = "", nil }
func (s *relaySession) Logout() error { return nil }

// testOptions runs the outbox on a clock of its own, which moves only
// when the test advances it: a retry happens when the test has moved time
// past it, never by itself.
func testOptions(t *testing.T, dir, relayAddr string) Options {
	return Options{
		Dir:         dir,
		Relay:       relayAddr,
		From:        "dlp@example.com",
		HELOName:    "maildlp.test",
		RetryMin:    30 * time.Second,
		RetryMax:    4 * time.Minute,
		MaxAge:      time.Hour,
		Concurrency: 2,
		Timeout:     5 * time.Second,
		Log:         testutil.Logger(t),
		Clock:       testutil.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)),
	}
}

// clock is the test clock of o.
func clock(o Options) *testutil.Clock { return o.Clock.(*testutil.Clock) }

// running is an Outbox whose Run loop is going.
type running struct {
	*Outbox
	cancel context.CancelFunc
	done   chan error
}

func openRun(t *testing.T, o Options) *running {
	t.Helper()
	ob, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Outbox: ob, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- ob.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// enqueue queues n and returns its id; it fails the test if Enqueue does.
func (r *running) enqueue(t *testing.T, incidentID string, n action.Notice) string {
	t.Helper()
	id, err := r.Enqueue(incidentID, n)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	return id
}

// round wakes the Run loop and waits until it has begun a scheduling
// round after the call, and returns the deliveries under way then.
func (r *running) round(t *testing.T) int {
	t.Helper()
	r.mu.Lock()
	r0 := r.rounds
	r.mu.Unlock()
	r.kick()
	var n int
	testutil.WaitFor(t, "a scheduling round", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		n = r.running
		return r.rounds > r0
	})
	return n
}

// settle waits until the Run loop is at rest: a round that began after
// this call, and after the last delivery ended, found nothing due. What
// the clock has made due by then has been attempted, and has ended.
func (r *running) settle(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	r0 := r.rounds
	r.mu.Unlock()
	r.kick()
	testutil.WaitFor(t, "the outbox at rest", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.running == 0 && r.rounds > r0 && r.rounds > r.ended
	})
}

// schedule reads the attempt count and the time of the next attempt from
// the name of the only notice file in dir.
func schedule(t *testing.T, dir string) (attempt int, next time.Time) {
	t.Helper()
	f := noticeFiles(t, dir)
	if len(f) != 1 {
		t.Fatalf("outbox holds %v, want one notice", f)
	}
	e, err := parseName(filepath.Base(f[0]), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return e.attempt, e.next
}

// attempts is a condition: the only notice in dir has failed n times.
func attempts(t *testing.T, dir string, n int) func() bool {
	return func() bool {
		f := noticeFiles(t, dir)
		if len(f) != 1 {
			return false
		}
		e, err := parseName(filepath.Base(f[0]), time.Time{})
		return err == nil && e.attempt == n
	}
}

func noticeFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+suffix))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var testNotice = action.Notice{
	To:      []string{"alice@example.com", "dlp-team@example.com"},
	Subject: "Message blocked: PCI (incident 7f3a)",
	Body:    "Your message was blocked by policy PCI.\nEvidence: credit_card ****1111 in body\n",
}

func TestDeliveredOnce(t *testing.T) {
	rl := newRelay(t)
	dir := t.TempDir()
	m := metrics.New()
	o := testOptions(t, dir, rl.addr)
	o.Metrics = m
	ob := openRun(t, o)

	id := ob.enqueue(t, "7f3a", testNotice)
	testutil.WaitFor(t, "delivery", func() bool { return len(rl.messages()) == 1 && ob.Depth() == 0 })
	clock(o).Advance(o.MaxAge) // a notice still scheduled would be due now
	ob.settle(t)
	msgs := rl.messages()
	if len(msgs) != 1 {
		t.Fatalf("relay got %d messages, want 1", len(msgs))
	}
	if got := noticeFiles(t, dir); len(got) != 0 {
		t.Errorf("outbox still holds %v after delivery", got)
	}
	// Nothing else is left behind either (no lock or temporary file).
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			t.Errorf("outbox holds %s after delivery", p)
		}
		return nil
	})
	if !bytes.Contains(got0(msgs), []byte("\r\nContent-Transfer-Encoding: 7bit\r\n")) || !bytes.Contains(got0(msgs), []byte("Evidence: credit_card ****1111 in body\r\n")) {
		t.Errorf("ASCII notice not sent as 7bit text:\n%s", got0(msgs))
	}
	got := msgs[0]
	if got.from != "dlp@example.com" {
		t.Errorf("MAIL FROM = %q, want dlp@example.com", got.from)
	}
	if strings.Join(got.to, ",") != "alice@example.com,dlp-team@example.com" {
		t.Errorf("RCPT TO = %v", got.to)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got.data))
	if err != nil {
		t.Fatalf("relay got an unparseable message: %v\n%s", err, got.data)
	}
	for name, want := range map[string]string{
		"Message-Id":         "<" + id + "@example.com>",
		"From":               "dlp@example.com",
		"To":                 "alice@example.com, dlp-team@example.com",
		"Subject":            testNotice.Subject,
		"Auto-Submitted":     "auto-generated",
		"X-Maildlp-Incident": "7f3a",
	} {
		if v := msg.Header.Get(name); v != want {
			t.Errorf("header %s = %q, want %q", name, v, want)
		}
	}
	if _, err := msg.Header.Date(); err != nil {
		t.Errorf("Date header: %v", err)
	}
	body, _ := io.ReadAll(msg.Body)
	if !strings.Contains(string(body), "credit_card ****1111 in body") {
		t.Errorf("body lacks the notice text:\n%s", body)
	}
	if v := gauge(t, m, "maildlp_outbox_depth"); v != 0 {
		t.Errorf("maildlp_outbox_depth = %v after delivery, want 0", v)
	}
	if v := counter(t, m, "maildlp_outbox_attempts_total", "sent"); v != 1 {
		t.Errorf("sent attempts = %v, want 1", v)
	}
}

func TestRelayDownKeptThenDeliveredOnce(t *testing.T) {
	rl := downRelay(t)
	dir := t.TempDir()
	o := testOptions(t, dir, rl.addr)
	clk := clock(o)
	ob := openRun(t, o)
	ob.enqueue(t, "i1", testNotice)
	// Each failed attempt is recorded in the file name with the time of
	// the next one: retry_min, then doubled.
	testutil.WaitFor(t, "a failed attempt", attempts(t, dir, 1))
	if _, next := schedule(t, dir); !next.Equal(clk.Now().Add(o.RetryMin)) {
		t.Errorf("after the first failure the next attempt is at %v, want now + retry_min (%v)", next, clk.Now().Add(o.RetryMin))
	}
	clk.Advance(o.RetryMin - time.Millisecond)
	ob.settle(t)
	if n, _ := schedule(t, dir); n != 1 {
		t.Fatalf("%d attempts a millisecond before retry_min had passed, want 1", n)
	}
	clk.Advance(time.Millisecond)
	testutil.WaitFor(t, "a second failed attempt at retry_min", attempts(t, dir, 2))
	if _, next := schedule(t, dir); !next.Equal(clk.Now().Add(2 * o.RetryMin)) {
		t.Errorf("after the second failure the next attempt is at %v, want now + 2*retry_min (%v)", next, clk.Now().Add(2*o.RetryMin))
	}
	if ob.Depth() != 1 {
		t.Fatalf("Depth = %d while relay is down, want 1", ob.Depth())
	}
	rl.start(rl.addr)
	clk.Advance(2 * o.RetryMin)
	testutil.WaitFor(t, "delivery after the relay came up", func() bool { return len(rl.messages()) == 1 && ob.Depth() == 0 })
	clk.Advance(o.MaxAge)
	ob.settle(t)
	if n := len(rl.messages()); n != 1 {
		t.Fatalf("relay got %d messages, want 1", n)
	}
}

func TestRestartResumesAndSendsOnce(t *testing.T) {
	rl := downRelay(t)
	dir := t.TempDir()
	o := testOptions(t, dir, rl.addr)
	first := openRun(t, o)
	ids := map[string]bool{}
	for i := range 3 {
		id := first.enqueue(t, "inc", action.Notice{To: []string{"a@example.com"}, Subject: "n" + string(rune('0'+i)), Body: "b"})
		ids[id] = true
	}
	testutil.WaitFor(t, "a failed attempt for every notice", func() bool {
		f := noticeFiles(t, dir)
		if len(f) != 3 {
			return false
		}
		for _, p := range f {
			if strings.Contains(filepath.Base(p), "_0_") {
				return false
			}
		}
		return true
	})

	// While the first process holds the directory, nobody else may.
	if _, err := Open(o); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open while the first runs: err = %v, want ErrLocked", err)
	}
	first.stop(t)

	rl.start(rl.addr)
	second := openRun(t, o)
	if second.Depth() != 3 {
		t.Fatalf("restarted outbox Depth = %d, want 3", second.Depth())
	}
	clock(o).Advance(o.RetryMin)
	testutil.WaitFor(t, "three deliveries", func() bool { return len(rl.messages()) == 3 && second.Depth() == 0 })
	clock(o).Advance(o.MaxAge)
	second.settle(t)
	msgs := rl.messages()
	if len(msgs) != 3 {
		t.Fatalf("relay got %d messages, want 3", len(msgs))
	}
	for _, m := range msgs {
		msg, err := mail.ReadMessage(bytes.NewReader(m.data))
		if err != nil {
			t.Fatal(err)
		}
		mid := strings.Trim(msg.Header.Get("Message-Id"), "<>")
		id, _, _ := strings.Cut(mid, "@")
		if !ids[id] {
			t.Errorf("delivered Message-ID %q is not one of the queued notices (or was sent twice)", mid)
		}
		delete(ids, id)
	}
}

func TestTempfailRetriedThenDeliveredOnce(t *testing.T) {
	rl := newRelay(t)
	rl.dataReply = func(n int) error {
		if n == 1 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	}
	m := metrics.New()
	dir := t.TempDir()
	o := testOptions(t, dir, rl.addr)
	o.Metrics = m
	ob := openRun(t, o)
	ob.enqueue(t, "i", testNotice)
	testutil.WaitFor(t, "a deferred attempt", attempts(t, dir, 1))
	clock(o).Advance(o.RetryMin)
	testutil.WaitFor(t, "delivery", func() bool { return len(rl.messages()) == 1 && ob.Depth() == 0 })
	clock(o).Advance(o.MaxAge)
	ob.settle(t)
	if n := len(rl.messages()); n != 1 {
		t.Errorf("relay got %d messages, want 1", n)
	}
	if v := counter(t, m, "maildlp_outbox_attempts_total", "retry"); v != 1 {
		t.Errorf("retry attempts = %v, want 1", v)
	}
}

func TestRecipientDeferredRetriesWholeNotice(t *testing.T) {
	rl := newRelay(t)
	var mu sync.Mutex
	deferred := 0
	rl.rcptReply = func(rcpt string) error {
		mu.Lock()
		defer mu.Unlock()
		if rcpt == "dlp-team@example.com" && deferred == 0 {
			deferred++
			return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "mailbox busy"}
		}
		return nil
	}
	dir := t.TempDir()
	o := testOptions(t, dir, rl.addr)
	ob := openRun(t, o)
	ob.enqueue(t, "i", testNotice)
	testutil.WaitFor(t, "a deferred attempt", attempts(t, dir, 1))
	if n := len(rl.messages()); n != 0 {
		t.Fatalf("relay got %d messages while a recipient was deferred, want 0", n)
	}
	clock(o).Advance(o.RetryMin)
	testutil.WaitFor(t, "delivery", func() bool { return len(rl.messages()) == 1 && ob.Depth() == 0 })
	clock(o).Advance(o.MaxAge)
	ob.settle(t)
	msgs := rl.messages()
	if len(msgs) != 1 || len(msgs[0].to) != 2 {
		t.Fatalf("relay got %v, want one message to both recipients", msgs)
	}
}

func TestPermanentRefusalGoesToDead(t *testing.T) {
	rl := newRelay(t)
	rl.dataReply = func(int) error {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "policy rejection"}
	}
	dir := t.TempDir()
	m := metrics.New()
	o := testOptions(t, dir, rl.addr)
	o.Metrics = m
	ob := openRun(t, o)
	id := ob.enqueue(t, "i", testNotice)
	testutil.WaitFor(t, "dead letter", func() bool { return ob.Depth() == 0 })
	clock(o).Advance(o.MaxAge)
	ob.settle(t)
	rl.mu.Lock()
	attempts := rl.attempts
	rl.mu.Unlock()
	if attempts != 1 {
		t.Errorf("relay saw %d DATA attempts, want 1 (5xx is not retried)", attempts)
	}
	if _, err := os.Stat(filepath.Join(dir, deadDir, id+suffix)); err != nil {
		t.Errorf("dead letter missing: %v", err)
	}
	reason, err := os.ReadFile(filepath.Join(dir, deadDir, id+".reason"))
	if err != nil || !strings.Contains(string(reason), "554 policy rejection") {
		t.Errorf("dead reason = %q, %v; want the relay's 554 reply", reason, err)
	}
	if v := counter(t, m, "maildlp_outbox_attempts_total", "dead"); v != 1 {
		t.Errorf("dead attempts = %v, want 1", v)
	}
}

func TestOneRecipientRefusedOthersDelivered(t *testing.T) {
	rl := newRelay(t)
	rl.rcptReply = func(rcpt string) error {
		if rcpt == "alice@example.com" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}
	ob := openRun(t, testOptions(t, t.TempDir(), rl.addr))
	ob.enqueue(t, "i", testNotice)
	testutil.WaitFor(t, "delivery", func() bool { return len(rl.messages()) == 1 && ob.Depth() == 0 })
	if got := rl.messages()[0].to; len(got) != 1 || got[0] != "dlp-team@example.com" {
		t.Errorf("delivered to %v, want only dlp-team@example.com", got)
	}
}
