package reinject

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildlp/maildlp/report/reporttest"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/metrics"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

// fakeEngine decides by a function of the message; it records what it saw.
type fakeEngine struct {
	mu     sync.Mutex
	decide func(env policy.Envelope, body []byte) action.Verdict
	seen   []policy.Envelope
	bodies [][]byte
}

func (f *fakeEngine) Evaluate(ctx context.Context, m policy.Message) action.Verdict {
	b, err := io.ReadAll(m.Body)
	if err != nil {
		return action.Verdict{Err: err}
	}
	f.mu.Lock()
	f.seen = append(f.seen, m.Envelope)
	f.bodies = append(f.bodies, b)
	f.mu.Unlock()
	if f.decide == nil {
		return action.Verdict{Action: action.Pass}
	}
	return f.decide(m.Envelope, b)
}

func (f *fakeEngine) envelopes() []policy.Envelope {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]policy.Envelope(nil), f.seen...)
}

// recorder keeps the decisions it is given.
type recorder = reporttest.Recorder

// testLogger sends logs to t.Log until the test ends.
func testLogger(t testing.TB) *slog.Logger { return testutil.Logger(t) }

// fakeMTA is a scripted downstream: it records every command line and
// every message, answers with replies the test chooses, verbatim.
type fakeMTA struct {
	t        testing.TB
	ln       net.Listener
	ehlo     []string // keywords after the first line
	tls      *tls.Config
	greeting string
	// reply, when it returns non-empty, is sent instead of the default
	// reply (raw, lines separated by \r\n, without the final \r\n).
	reply func(cmd string) string
	// discard keeps no message data (benchmarks).
	discard bool
	// stall, when set, is the command whose reply never comes (until the
	// fake is closed).
	stall    string
	stopped  chan struct{}
	stopOnce sync.Once

	mu    sync.Mutex
	lines []string
	msgs  []fakeMsg
	wg    sync.WaitGroup
}

type fakeMsg struct {
	Mail  string
	Rcpts []string
	Data  []byte
	TLS   bool
	XFwd  []string
	Peer  string // the client address the downstream saw
}

func newFakeMTA(t testing.TB, setup func(*fakeMTA)) *fakeMTA {
	f := &fakeMTA{t: t, ln: testutil.Listen(t), stopped: make(chan struct{}), greeting: "220 fake.test ESMTP",
		ehlo: []string{"PIPELINING", "SIZE 100000000", "8BITMIME", "DSN", "ENHANCEDSTATUSCODES", "XFORWARD NAME ADDR PROTO HELO IDENT SOURCE"}}
	if setup != nil {
		setup(f)
	}
	go f.serve()
	t.Cleanup(f.close)
	return f
}

func (f *fakeMTA) addr() string { return f.ln.Addr().String() }

func (f *fakeMTA) close() {
	f.ln.Close()
	f.stopOnce.Do(func() { close(f.stopped) })
	f.wg.Wait()
}

func (f *fakeMTA) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.session(c)
		}()
	}
}

func (f *fakeMTA) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lines...)
}

func (f *fakeMTA) messages() []fakeMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeMsg(nil), f.msgs...)
}

func (f *fakeMTA) session(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	w := func(s string) { io.WriteString(c, s+"\r\n") }
	w(f.greeting)
	if !strings.HasPrefix(f.greeting, "220") {
		return
	}
	var cur fakeMsg
	isTLS := false
	var xfwd []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		f.mu.Lock()
		f.lines = append(f.lines, line)
		f.mu.Unlock()
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		if f.stall != "" && verb == f.stall {
			<-f.stopped
			return
		}
		if f.reply != nil {
			if r := f.reply(line); r != "" {
				w(r)
				if verb == "MAIL" && strings.HasPrefix(r, "2") {
					cur = fakeMsg{Mail: line, TLS: isTLS, XFwd: xfwd}
				}
				if verb == "QUIT" {
					return
				}
				continue
			}
		}
		switch verb {
		case "EHLO":
			var keys []string
			for _, k := range f.ehlo {
				if !(k == "STARTTLS" && isTLS) {
					keys = append(keys, k)
				}
			}
			if len(keys) == 0 {
				w("250 fake.test")
				continue
			}
			w("250-fake.test")
			for i, k := range keys {
				if i == len(keys)-1 {
					w("250 " + k)
				} else {
					w("250-" + k)
				}
			}
		case "HELO":
			w("250 fake.test")
		case "STARTTLS":
			if f.tls == nil {
				w("502 5.5.1 no TLS")
				continue
			}
			w("220 2.0.0 go ahead")
			tc := tls.Server(c, f.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c = tc
			br = bufio.NewReader(tc)
			isTLS = true
		case "XFORWARD":
			xfwd = append(xfwd, line)
			w("250 2.0.0 Ok")
		case "MAIL":
			cur = fakeMsg{Mail: line, TLS: isTLS, XFwd: xfwd, Peer: c.RemoteAddr().String()}
			w("250 2.1.0 Ok")
		case "RCPT":
			cur.Rcpts = append(cur.Rcpts, line)
			w("250 2.1.5 Ok")
		case "DATA":
			w("354 End data with <CR><LF>.<CR><LF>")
			var data bytes.Buffer
			for bol := true; f.discard; {
				// Nothing kept, nothing allocated per line (benchmarks).
				l, err := br.ReadSlice('\n')
				if err != nil && err != bufio.ErrBufferFull {
					return
				}
				if bol && string(l) == ".\r\n" {
					break
				}
				bol = err == nil
			}
			for !f.discard {
				l, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				if strings.HasPrefix(l, ".") {
					l = l[1:]
				}
				data.WriteString(l)
			}
			if f.stall == "DOT" {
				<-f.stopped
				return
			}
			cur.Data = data.Bytes()
			if f.discard {
				cur.Data = nil
			}
			f.mu.Lock()
			f.msgs = append(f.msgs, cur)
			n := len(f.msgs)
			f.mu.Unlock()
			cur = fakeMsg{}
			xfwd = nil
			w(fmt.Sprintf("250 2.0.0 Ok: queued as FAKE%d", n))
		case "RSET":
			cur = fakeMsg{}
			xfwd = nil
			w("250 2.0.0 Ok")
		case "NOOP":
			w("250 2.0.0 Ok")
		case "QUIT":
			w("221 2.0.0 Bye")
			return
		default:
			w("502 5.5.2 Error: command not recognized")
		}
	}
}

// startHop starts a hop on 127.0.0.1:0 and returns its address.
func startHop(t testing.TB, eng Evaluator, cfg config.Reinject, opts ...Option) (*Server, string) {
	t.Helper()
	if cfg.HELOName == "" {
		cfg.HELOName = "hop.test"
	}
	// Every hop counts panics in a registry of its own; unless the test
	// brings its own (it provokes panics and checks them), any panic fails
	// the test.
	m := metrics.New()
	opts = append([]Option{WithLogger(testLogger(t)), WithMetrics(m)}, opts...)
	cfg = cfg.WithDefaults()
	if err := cfg.TLS.Load(); err != nil {
		t.Fatal(err)
	}
	s := New(cfg, func() Evaluator { return eng }, opts...)
	t.Cleanup(func() {
		if s.metrics != m {
			return
		}
		for _, c := range []string{"engine", "reinject"} {
			if n := m.Value("maildlp_panics_total", c); n != 0 {
				t.Errorf("%v unexpected recovered panic(s) in %s", n, c)
			}
		}
	})
	ln := testutil.Listen(t)
	testutil.Serve(t, func() error { return s.Serve(ln) }, s.Shutdown)
	return s, ln.Addr().String()
}

// upstream is a raw SMTP client: it sends lines and returns replies exactly
// as read.
type upstream struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func dialUp(t testing.TB, addr string) *upstream {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &upstream{t: t, c: c, br: bufio.NewReader(c)}
}

// read returns one reply, lines joined by "\n" with their code prefixes.
func (u *upstream) read() string {
	u.t.Helper()
	var lines []string
	for {
		l, err := u.br.ReadString('\n')
		if err != nil {
			lines = append(lines, "ERR "+err.Error())
			return strings.Join(lines, "\n")
		}
		l = strings.TrimRight(l, "\r\n")
		lines = append(lines, l)
		if len(l) < 4 || l[3] != '-' {
			return strings.Join(lines, "\n")
		}
	}
}

func (u *upstream) send(raw string) {
	u.t.Helper()
	if _, err := io.WriteString(u.c, raw); err != nil {
		u.t.Fatalf("write: %v", err)
	}
}

func (u *upstream) cmd(line string) string {
	u.t.Helper()
	u.send(line + "\r\n")
	return u.read()
}

// expect sends line and fails unless the reply starts with want.
func (u *upstream) expect(line, want string) string {
	u.t.Helper()
	got := u.cmd(line)
	if !strings.HasPrefix(got, want) {
		u.t.Fatalf("%s -> %q, want prefix %q", line, got, want)
	}
	return got
}

// hello reads the greeting and says EHLO.
func (u *upstream) hello() string {
	u.t.Helper()
	if g := u.read(); !strings.HasPrefix(g, "220 ") {
		u.t.Fatalf("greeting %q", g)
	}
	return u.expect("EHLO client.test", "250")
}

// sendMessage runs MAIL, RCPT..., DATA and returns the final reply.
func (u *upstream) sendMessage(from string, rcpts []string, msg string) string {
	u.t.Helper()
	u.expect("MAIL FROM:<"+from+">", "250")
	for _, r := range rcpts {
		u.expect("RCPT TO:<"+r+">", "250")
	}
	u.expect("DATA", "354")
	if !strings.HasSuffix(msg, "\r\n") {
		msg += "\r\n"
	}
	u.send(msg + ".\r\n")
	return u.read()
}

const testMsg = "From: a@example.com\r\nTo: b@example.com\r\nSubject: hello\r\n\r\nbody line\r\n"

// pki is a CA and certificates made at run time.
type pki struct {
	dir    string
	caFile string
	pool   *x509.CertPool
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "maildlp test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &pki{dir: t.TempDir(), ca: ca, caKey: key, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.caFile = filepath.Join(p.dir, "ca.pem")
	os.WriteFile(p.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	return p
}

// issue makes a server certificate for names (DNS names or IPs) and
// returns its file paths and a tls.Config serving it.
func (p *pki) issue(t testing.TB, name string, names ...string) (certFile, keyFile string, cfg *tls.Config) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile = filepath.Join(p.dir, name+".pem")
	keyFile = filepath.Join(p.dir, name+".key")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	os.WriteFile(certFile, certPEM, 0o600)
	os.WriteFile(keyFile, keyPEM, 0o600)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, &tls.Config{Certificates: []tls.Certificate{cert}}
}

func newReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }
