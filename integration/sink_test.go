package integration

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/maildlp/maildlp/internal/testutil"
)

// Delivered is one message as the sink received it.
type Delivered struct {
	From string
	To   []string
	Data []byte
	TLS  bool // the session had STARTTLS
	At   time.Time
}

// Header returns the first value of a header field of the delivered message.
func (d Delivered) Header(name string) string {
	m, err := mail.ReadMessage(bytes.NewReader(d.Data))
	if err != nil {
		return ""
	}
	return m.Header.Get(name)
}

// HeaderCount counts the fields named name in the message header.
func (d Delivered) HeaderCount(name string) int {
	head, _, _ := bytes.Cut(d.Data, []byte("\r\n\r\n"))
	n := 0
	for _, line := range strings.Split(string(head), "\r\n") {
		k, _, ok := strings.Cut(line, ":")
		if ok && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t") && strings.EqualFold(strings.TrimSpace(k), name) {
			n++
		}
	}
	return n
}

// Body returns the message body (after the first empty line).
func (d Delivered) Body() []byte {
	_, body, _ := bytes.Cut(d.Data, []byte("\r\n\r\n"))
	return body
}

// Sink is an SMTP server on loopback recording every message delivered to
// it with its envelope. It can be stopped and started again on the same
// port, and told to refuse recipients with a given reply.
type Sink struct {
	t    testing.TB
	port int

	mu       sync.Mutex
	srv      *smtp.Server
	ln       net.Listener
	msgs     []Delivered
	refuse   map[string]*smtp.SMTPError
	changed  chan struct{}
	tlsCfg   *tls.Config
	sessions int
}

// NewSink starts a sink on a free loopback port.
func NewSink(t testing.TB) *Sink {
	t.Helper()
	s := &Sink{t: t, refuse: map[string]*smtp.SMTPError{}, changed: make(chan struct{})}
	if err := s.start(0); err != nil {
		t.Fatalf("sink: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// NewTLSSink starts a sink offering STARTTLS with cfg.
func NewTLSSink(t testing.TB, cfg *tls.Config) *Sink {
	t.Helper()
	s := &Sink{t: t, refuse: map[string]*smtp.SMTPError{}, changed: make(chan struct{}), tlsCfg: cfg}
	if err := s.start(0); err != nil {
		t.Fatalf("sink: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Sink) start(port int) error {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return err
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.mu.Lock()
		s.sessions++
		s.mu.Unlock()
		return &sinkSession{sink: s, conn: c}, nil
	}))
	srv.Domain = "sink.test.example"
	srv.MaxMessageBytes = 64 << 20
	srv.MaxRecipients = 1000
	srv.ReadTimeout = 60 * time.Second
	srv.WriteTimeout = 60 * time.Second
	srv.EnableDSN = true
	srv.TLSConfig = s.tlsCfg
	s.mu.Lock()
	s.srv = srv
	s.ln = ln
	s.port = ln.Addr().(*net.TCPAddr).Port
	s.mu.Unlock()
	go srv.Serve(ln)
	return nil
}

// Addr is the sink's host:port.
func (s *Sink) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port()) }

// Port is the sink's TCP port.
func (s *Sink) Port() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.port
}

// Stop closes the listener and every session: the relay is "down".
func (s *Sink) Stop() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if ln != nil {
		// Closed here too: Serve may not have registered it yet.
		ln.Close()
	}
	if srv != nil {
		srv.Close()
	}
}

// Start listens again on the same port after Stop.
func (s *Sink) Start() {
	s.t.Helper()
	var err error
	ok := testutil.Poll(5*time.Second, func() bool {
		err = s.start(s.Port())
		return err == nil
	})
	if !ok {
		s.t.Fatalf("sink restart on port %d: %v", s.Port(), err)
	}
}

// Refuse makes the sink answer RCPT TO:<rcpt> with reply.
func (s *Sink) Refuse(rcpt string, reply *smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse[strings.ToLower(rcpt)] = reply
}

// Messages returns a copy of what was delivered so far.
func (s *Sink) Messages() []Delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivered(nil), s.msgs...)
}

// Sessions counts SMTP sessions opened to the sink.
func (s *Sink) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Wait waits until at least n messages satisfying match have arrived and
// returns them. It fails t after timeout.
func (s *Sink) Wait(n int, timeout time.Duration, match func(Delivered) bool) []Delivered {
	s.t.Helper()
	var got []Delivered
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		got = got[:0]
		for _, m := range s.msgs {
			if match == nil || match(m) {
				got = append(got, m)
			}
		}
		ch := s.changed
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		left := time.Until(deadline)
		if left <= 0 {
			s.t.Fatalf("sink: %d matching message(s) after %v, want %d; all delivered: %s", len(got), timeout, n, s.describe())
			return got
		}
		select {
		case <-ch:
		case <-time.After(left):
		}
	}
}

// Quiet returns the matching messages after no new message has arrived
// for d: used to prove that nothing (more) is delivered.
func (s *Sink) Quiet(d time.Duration, match func(Delivered) bool) []Delivered {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
			continue
		case <-time.After(d):
		}
		var got []Delivered
		for _, m := range s.Messages() {
			if match == nil || match(m) {
				got = append(got, m)
			}
		}
		return got
	}
}

func (s *Sink) describe() string {
	var b strings.Builder
	for i, m := range s.Messages() {
		fmt.Fprintf(&b, "\n  #%d from=<%s> to=%v message-id=%s subject=%q", i, m.From, m.To, m.Header("Message-Id"), m.Header("Subject"))
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

func (s *Sink) record(d Delivered) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, d)
	close(s.changed)
	s.changed = make(chan struct{})
}

type sinkSession struct {
	sink *Sink
	conn *smtp.Conn
	from string
	to   []string
}

func (ss *sinkSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *sinkSession) Logout() error { return nil }

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.sink.mu.Lock()
	reply := ss.sink.refuse[strings.ToLower(to)]
	ss.sink.mu.Unlock()
	if reply != nil {
		return reply
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(ss.to) == 0 {
		return errors.New("no recipients")
	}
	_, isTLS := ss.conn.TLSConnectionState()
	ss.sink.record(Delivered{From: ss.from, To: append([]string(nil), ss.to...), Data: data, TLS: isTLS, At: time.Now()})
	return nil
}

// countByMessageID counts delivered messages by Message-ID.
func countByMessageID(msgs []Delivered) map[string]int {
	n := map[string]int{}
	for _, m := range msgs {
		n[m.Header("Message-Id")]++
	}
	return n
}
