package app

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/internal/testutil"
)

const mainConf = `policy_files = ["policy.toml"]
shutdown_timeout = "%s"

[milter]
enabled = true
listen  = ["inet:127.0.0.1:0"]

[reinject]
enabled    = true
listen     = "127.0.0.1:0"
reflect_to = "127.0.0.1:1"

[metrics]
listen = "127.0.0.1:0"

[incidents]
path = "incidents.jsonl"
`

// keywordPolicy blocks messages containing word.
func keywordPolicy(word string) string {
	return fmt.Sprintf(`[[detector]]
name  = "codeword"
type  = "keywords"
words = [%q]

[[policy]]
name = "Codeword %s"
[policy.rule]
detector = "codeword"
[policy.block]
`, word, word)
}

const badPolicy = `[[policy]]
name = "Broken"
[policy.rule]
detector = "no_such_detector"
[policy.block]
`

type testApp struct {
	*App
	dir    string
	logs   *testutil.LogBuffer
	cancel context.CancelFunc
	done   chan error
}

// writeConfig writes the main config and policy into dir.
func writeConfig(t *testing.T, dir, shutdown, policy string) string {
	t.Helper()
	main := filepath.Join(dir, "maildlp.toml")
	conf := strings.Replace(fmt.Sprintf(mainConf, shutdown), `path = "incidents.jsonl"`, fmt.Sprintf("path = %q", filepath.Join(dir, "incidents.jsonl")), 1)
	conf += fmt.Sprintf("\n[store]\npath = %q\nqueue_dir = %q\n", filepath.Join(dir, "maildlp.db"), filepath.Join(dir, "queue"))
	if err := os.WriteFile(main, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	writePolicy(t, dir, policy)
	return main
}

func writePolicy(t *testing.T, dir, policy string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "policy.toml"), []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
}

// editConfig rewrites the config file at path with edit.
func editConfig(t *testing.T, path string, edit func(conf string) string) {
	t.Helper()
	conf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(edit(string(conf))), 0o600); err != nil {
		t.Fatal(err)
	}
}

func newTestApp(t *testing.T, shutdown, policy string, notifySocket string) *testApp {
	t.Helper()
	dir := t.TempDir()
	return openTestApp(t, dir, writeConfig(t, dir, shutdown, policy), notifySocket)
}

// openTestApp makes the App of the config at path in dir; its log goes
// to the test log and to ta.logs.
func openTestApp(t *testing.T, dir, path, notifySocket string) *testApp {
	t.Helper()
	logs := &testutil.LogBuffer{}
	a, err := New(Options{ConfigPath: path, Log: testutil.Logger(t, logs), NotifySocket: notifySocket})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ta := &testApp{App: a, dir: dir, logs: logs}
	// An App that is never run still has its incident log and store
	// queue open (the store writer opens the database in the
	// background): close them before the test's directory is removed.
	t.Cleanup(func() {
		if ta.done == nil {
			ta.closeState()
		}
	})
	return ta
}

func (ta *testApp) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ta.cancel, ta.done = cancel, make(chan error, 1)
	go func() { ta.done <- ta.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ta.done:
		case <-time.After(15 * time.Second):
			t.Error("Run did not return")
		}
	})
	if !testutil.Poll(testutil.WaitTimeout, ta.Metrics().Ready) {
		t.Fatalf("not ready; logs:\n%s", ta.logs.String())
	}
}

func (ta *testApp) addr(t *testing.T, name string) string {
	t.Helper()
	a := ta.Addrs()[name]
	if len(a) == 0 {
		t.Fatalf("no %s listener", name)
	}
	return a[0].String()
}

func TestReloadKeepsOldEngineOnBadPolicy(t *testing.T) {
	ta := newTestApp(t, "5s", keywordPolicy("alpha"), "")
	first := ta.Engine()

	writePolicy(t, ta.dir, badPolicy)
	err := ta.Reload()
	if err == nil {
		t.Fatal("Reload with a bad policy = nil error")
	}
	if ta.Engine() != first {
		t.Error("a bad policy replaced the running engine")
	}
	if ta.Config().Policies[0].Name != "Codeword alpha" {
		t.Errorf("config after failed reload has policy %q", ta.Config().Policies[0].Name)
	}
	logs := ta.logs.String()
	if !strings.Contains(logs, "policy.toml:4") || !strings.Contains(logs, "no_such_detector") {
		t.Errorf("failed reload not logged with file:line:\n%s", logs)
	}

	writePolicy(t, ta.dir, keywordPolicy("beta"))
	if err := ta.Reload(); err != nil {
		t.Fatalf("Reload with a good policy: %v", err)
	}
	if ta.Engine() == first {
		t.Error("a good reload kept the old engine")
	}
	if got := ta.Config().Policies[0].Name; got != "Codeword beta" {
		t.Errorf("policy after reload = %q, want Codeword beta", got)
	}
	ok, failed := reloadCounts(t, ta.App)
	if ok != 1 || failed != 1 {
		t.Errorf("reload metrics ok=%v failed=%v, want 1 and 1", ok, failed)
	}
}

func reloadCounts(t *testing.T, a *App) (ok, failed float64) {
	t.Helper()
	mfs, err := a.Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "maildlp_config_reloads_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			switch m.GetLabel()[0].GetValue() {
			case "ok":
				ok = m.GetCounter().GetValue()
			case "failed":
				failed = m.GetCounter().GetValue()
			}
		}
	}
	return ok, failed
}

// milterSession opens a milter session to addr, as an MTA would for a
// client, up to HELO; it is closed when the test ends.
func milterSession(t *testing.T, addr string) *gomilter.ClientSession {
	t.Helper()
	c := gomilter.NewClient("tcp", addr, gomilter.WithReadTimeout(10*time.Second), gomilter.WithWriteTimeout(10*time.Second))
	s, err := c.Session(gomilter.NewMacroBag())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Conn("client.example.com", gomilter.FamilyInet, 4000, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Helo("client.example.com"); err != nil {
		t.Fatal(err)
	}
	return s
}

// milterMessage runs one transaction over s; between MAIL and the body it
// calls mid (nil: nothing). It returns the end-of-message action.
func milterMessage(t *testing.T, s *gomilter.ClientSession, body string, mid func()) *gomilter.Action {
	t.Helper()
	if _, err := s.Mail("alice@example.com", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rcpt("bob@example.net", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DataStart(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.HeaderField("Subject", " test", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.HeaderEnd(); err != nil {
		t.Fatal(err)
	}
	if mid != nil {
		mid()
	}
	_, act, err := s.BodyReadFrom(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return act
}

func refused(a *gomilter.Action) bool {
	return a.Type == gomilter.ActionReject || a.Type == gomilter.ActionRejectWithCode
}

func TestInFlightMessageKeepsItsEngine(t *testing.T) {
	ta := newTestApp(t, "5s", keywordPolicy("alpha"), "")
	ta.run(t)
	s := milterSession(t, ta.addr(t, "milter"))
	// The transaction starts on the "alpha" engine; the reload to "beta"
	// happens before its body is sent.
	act := milterMessage(t, s, "the alpha plan\r\n", func() {
		writePolicy(t, ta.dir, keywordPolicy("beta"))
		if err := ta.Reload(); err != nil {
			t.Fatalf("Reload: %v", err)
		}
	})
	if !refused(act) {
		t.Errorf("in-flight message after reload: action %v, want a reject from the engine it started with", act.Type)
	}
	// The next transaction runs on the new engine.
	if act := milterMessage(t, s, "the alpha plan\r\n", nil); act.Type != gomilter.ActionAccept {
		t.Errorf("next message with alpha: action %v, want accept (new engine)", act.Type)
	}
	if act := milterMessage(t, s, "the beta plan\r\n", nil); !refused(act) {
		t.Errorf("next message with beta: action %v, want reject (new engine)", act.Type)
	}
}

// smtpGreet connects to the hop and says EHLO, leaving the session open.
func smtpGreet(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	r := bufio.NewReader(conn)
	readReply(t, r, "220")
	fmt.Fprintf(conn, "EHLO client.example.com\r\n")
	readReply(t, r, "250")
	return conn, r
}

func readReply(t *testing.T, r *bufio.Reader, code string) string {
	t.Helper()
	var all strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read reply: %v (so far %q)", err, all.String())
		}
		all.WriteString(line)
		if !strings.HasPrefix(line, code) {
			t.Fatalf("reply %q, want %s", all.String(), code)
		}
		if len(line) < 4 || line[3] == ' ' {
			return all.String()
		}
	}
}

func TestShutdownWaitsForSessions(t *testing.T) {
	ta := newTestApp(t, "10s", keywordPolicy("alpha"), "")
	ta.run(t)
	conn, r := smtpGreet(t, ta.addr(t, "reinject"))
	defer conn.Close()
	waitSessions(t, ta.App, "reinject", 1)

	ta.cancel()
	testutil.WaitFor(t, "draining to begin", func() bool {
		return strings.Contains(ta.logs.String(), "shutting down: draining sessions")
	})
	if ta.Metrics().Ready() {
		t.Error("still ready while shutting down")
	}
	// While draining, the open session is still served and Run waits.
	fmt.Fprintf(conn, "NOOP\r\n")
	readReply(t, r, "250")
	select {
	case err := <-ta.done:
		t.Fatalf("Run returned (%v) while a session was open", err)
	default:
	}
	fmt.Fprintf(conn, "QUIT\r\n")
	readReply(t, r, "221")
	waitSessions(t, ta.App, "reinject", 0)
	select {
	case err := <-ta.done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
		ta.done <- err // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the last session quit")
	}
}

func TestShutdownTimeoutClosesStuckSessions(t *testing.T) {
	for _, fe := range []string{"milter", "reinject"} {
		t.Run(fe, func(t *testing.T) {
			ta := newTestApp(t, "300ms", keywordPolicy("alpha"), "")
			ta.run(t)
			var conn net.Conn
			if fe == "reinject" {
				conn, _ = smtpGreet(t, ta.addr(t, "reinject"))
			} else {
				var err error
				conn, err = net.DialTimeout("tcp", ta.addr(t, "milter"), 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				waitSessions(t, ta.App, fe, 1)
			}
			defer conn.Close()
			start := time.Now()
			ta.cancel()
			select {
			case <-ta.done:
				ta.done <- nil
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return after shutdown_timeout")
			}
			if d := time.Since(start); d < 250*time.Millisecond {
				t.Errorf("Run returned after %v, before shutdown_timeout (300ms)", d)
			}
			// The stuck session was closed: reads end with EOF, not a timeout.
			conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, 512)
			for {
				_, err := conn.Read(buf)
				if err == nil {
					continue
				}
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Errorf("%s session still open after shutdown", fe)
				}
				break
			}
			if !strings.Contains(ta.logs.String(), "sessions still open at shutdown_timeout") {
				t.Errorf("forced close not logged:\n%s", ta.logs.String())
			}
		})
	}
}

// waitSessions waits until the sessions-in-flight gauge of frontend is n.
func waitSessions(t *testing.T, a *App, frontend string, n float64) {
	t.Helper()
	testutil.WaitFor(t, fmt.Sprintf("maildlp_sessions_in_flight{frontend=%q} to be %v", frontend, n), func() bool {
		mfs, err := a.Metrics().Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "maildlp_sessions_in_flight" {
				continue
			}
			for _, m := range mf.GetMetric() {
				if m.GetLabel()[0].GetValue() == frontend && m.GetGauge().GetValue() == n {
					return true
				}
			}
		}
		return false
	})
}

func TestSdNotify(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	states := make(chan string, 16)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := pc.Read(buf)
			if err != nil {
				close(states)
				return
			}
			states <- string(buf[:n])
		}
	}()
	next := func() string {
		t.Helper()
		select {
		case s := <-states:
			return s
		case <-time.After(5 * time.Second):
			t.Fatal("no sd_notify datagram")
			return ""
		}
	}

	ta := newTestApp(t, "5s", keywordPolicy("alpha"), sock)
	ta.run(t)
	if s := next(); !strings.HasPrefix(s, "READY=1") {
		t.Errorf("first state %q, want READY=1", s)
	}
	if err := ta.Reload(); err != nil {
		t.Fatal(err)
	}
	if s := next(); !strings.HasPrefix(s, "RELOADING=1") {
		t.Errorf("state at reload %q, want RELOADING=1", s)
	}
	if s := next(); !strings.HasPrefix(s, "READY=1") {
		t.Errorf("state after reload %q, want READY=1", s)
	}
	ta.cancel()
	if s := next(); !strings.HasPrefix(s, "STOPPING=1") {
		t.Errorf("state at shutdown %q, want STOPPING=1", s)
	}
}

func TestNotifierAbstractAndMissing(t *testing.T) {
	if err := (notifier{}).notify("READY=1"); err != nil {
		t.Errorf("notify without a socket = %v, want nil", err)
	}
	if err := (notifier{socket: "relative/path"}).notify("READY=1"); err == nil {
		t.Error("notify to a relative path = nil, want an error")
	}
	name := fmt.Sprintf("@maildlp-test-%d", os.Getpid())
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Skipf("abstract sockets unavailable: %v", err)
	}
	defer pc.Close()
	if err := (notifier{socket: name}).notify("READY=1"); err != nil {
		t.Fatalf("notify to abstract socket: %v", err)
	}
	buf := make([]byte, 64)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := pc.Read(buf)
	if err != nil || string(buf[:n]) != "READY=1" {
		t.Errorf("abstract socket got %q, %v", buf[:n], err)
	}
}

func TestNoFrontendEnabled(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "maildlp.toml")
	os.WriteFile(path, []byte("[milter]\nenabled = false\n[reinject]\nenabled = false\n[store]\ndriver = \"none\"\n"), 0o600)
	a, err := New(Options{ConfigPath: path, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "no front end enabled") {
		t.Errorf("Run with no front end = %v", err)
	}
}

func TestEmbeddedDefaultLoads(t *testing.T) {
	t.Chdir(t.TempDir()) // the embedded default keeps its store under ./run
	a, err := New(Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("New with the embedded default: %v", err)
	}
	defer a.closeState()
	if a.Config().Path != "" || a.Engine() == nil {
		t.Errorf("embedded default: path %q, engine %v", a.Config().Path, a.Engine())
	}
}
