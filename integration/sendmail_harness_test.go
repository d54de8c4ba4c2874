package integration

import (
	"bufio"
	"fmt"
	"github.com/maildlp/maildlp/internal/testutil"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Sendmail is a throwaway Sendmail 8.17 instance run from the Debian
// packages that scripts/deps.sh unpacks (never installs: sendmail-bin
// conflicts with the Postfix the other tests need) into sendmailPrefix.
//
// Its sendmail.cf is generated with m4 and the sendmail-cf package's cf
// files from integration/testdata/sendmail-test.mc, which includes
// contrib/sendmail/sendmail.mc with only the milter socket replaced. The
// instance has its own config, queue (with its quarantine) and pid file
// under Dir, listens on a loopback port and relays everything to the test
// sink. Nothing reads or writes /etc/mail.
//
// Sendmail looks up its own host name before it reads its configuration
// and sleeps a minute when the name has no dot and does not resolve to
// one. Every sendmail process of the harness therefore runs in its own
// UTS namespace whose host name is mta.test.example (unshare --uts): the
// machine's host name and /etc/hosts are left alone.
type Sendmail struct {
	t       testing.TB
	Dir     string
	Port    int
	Relay   string // host:port of the sink
	Milter  string // the socket given to the contrib INPUT_MAIL_FILTER line
	CF      string // the generated sendmail.cf
	Wrapper string // Dir/bin/sendmail: the packaged binary with -C CF, in its namespace

	cmd  *exec.Cmd
	done chan struct{}
}

// SendmailConfig says how to build an instance.
type SendmailConfig struct {
	Relay  string // host:port of the sink; required
	Milter string // socket in Sendmail's form (inet:port@127.0.0.1, unix:/path)
	Port   int    // chosen when 0
}

// sendmailHostname is the host name of the instances' UTS namespace.
const sendmailHostname = "mta.test.example"

// contribMilterSocket is the socket the contrib .mc names; the harness
// replaces exactly this text and nothing else.
const contribMilterSocket = "S=inet:10030@127.0.0.1"

// sendmailPrefix is where scripts/deps.sh unpacked the Sendmail packages.
func sendmailPrefix() string {
	if p := os.Getenv("MAILDLP_SENDMAIL_PREFIX"); p != "" {
		return p
	}
	return "/opt/maildlp-test/sendmail"
}

func sendmailBinary() string {
	return filepath.Join(sendmailPrefix(), "usr", "libexec", "sendmail", "sendmail")
}

func sendmailCFDir() string {
	return filepath.Join(sendmailPrefix(), "usr", "share", "sendmail", "cf")
}

// needSendmail stops t when the unpacked Sendmail, m4 or unshare is
// missing: a failure under CI, a skip otherwise.
func needSendmail(t testing.TB) {
	t.Helper()
	needEnv(t)
	problem := ""
	if _, err := os.Stat(sendmailBinary()); err != nil {
		problem = "Sendmail not unpacked under " + sendmailPrefix() + " (run scripts/deps.sh integration)"
	} else if _, err := os.Stat(filepath.Join(sendmailCFDir(), "m4", "cf.m4")); err != nil {
		problem = "sendmail-cf not unpacked under " + sendmailPrefix() + " (run scripts/deps.sh integration)"
	}
	for _, tool := range []string{"m4", "unshare", "hostname"} {
		if _, err := exec.LookPath(tool); err != nil && problem == "" {
			problem = tool + " not installed (run scripts/deps.sh integration)"
		}
	}
	if problem == "" {
		return
	}
	if inCI() {
		t.Fatalf("CI=true but %s", problem)
	}
	t.Skip(problem)
}

// NewSendmail writes the instance's configuration and starts its daemon.
// It is stopped at cleanup, with its SMTP transcript logged on failure.
func NewSendmail(t testing.TB, cfg SendmailConfig) *Sendmail {
	t.Helper()
	needSendmail(t)
	s := &Sendmail{t: t, Dir: tempDir(t, "maildlp-sendmail-"), Port: cfg.Port, Relay: cfg.Relay, Milter: cfg.Milter}
	if s.Port == 0 {
		s.Port = freePort(t)
	}
	for _, d := range []string{"etc", "bin"} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Sendmail refuses a queue directory others can write to.
	if err := os.Mkdir(filepath.Join(s.Dir, "mqueue"), 0o700); err != nil {
		t.Fatal(err)
	}

	contrib := readFile(t, filepath.Join(repoRoot, "contrib", "sendmail", "sendmail.mc"))
	if strings.Count(contrib, contribMilterSocket) != 1 {
		t.Fatalf("contrib/sendmail/sendmail.mc: want exactly one %q to point at the test milter", contribMilterSocket)
	}
	s.write("maildlp.m4", strings.Replace(contrib, contribMilterSocket, "S="+cfg.Milter, 1))

	_, sinkPort, ok := strings.Cut(cfg.Relay, ":")
	if !ok {
		t.Fatalf("sink address %q has no port", cfg.Relay)
	}
	mc := readFile(t, filepath.Join(repoRoot, "integration", "testdata", "sendmail-test.mc"))
	mc = strings.NewReplacer(
		"@DIR@", s.Dir,
		"@PORT@", strconv.Itoa(s.Port),
		"@SINKPORT@", sinkPort,
		"@MILTER@", filepath.Join(s.Dir, "maildlp.m4"),
	).Replace(mc)
	s.write("test.mc", mc)

	s.CF = filepath.Join(s.Dir, "etc", "sendmail.cf")
	m4 := exec.Command("m4", "-D_CF_DIR_="+sendmailCFDir()+"/", filepath.Join(sendmailCFDir(), "m4", "cf.m4"), filepath.Join(s.Dir, "test.mc"))
	out, err := m4.Output()
	if err != nil {
		t.Fatalf("m4 test.mc: %v\n%s", err, stderrOf(err))
	}
	if !strings.Contains(string(out), "\nXmaildlp, S="+cfg.Milter+", F=T") {
		t.Fatalf("generated sendmail.cf has no maildlp filter on %s:\n%s", cfg.Milter, grepLines(string(out), "^X|InputMailFilters"))
	}
	s.write("etc/sendmail.cf", string(out))
	s.write("etc/aliases", "postmaster: root\n")
	s.write("etc/service.switch", "hosts files\naliases files\n")
	s.write("etc/hosts", "127.0.0.1 localhost "+sendmailHostname+"\n")
	s.write("etc/helpfile", "")

	s.Wrapper = filepath.Join(s.Dir, "bin", "sendmail")
	wrapper := fmt.Sprintf("#!/bin/sh\n# %s with the test instance's sendmail.cf, in a namespace whose host name is qualified\nexec unshare --uts sh -c 'hostname %s && exec \"$0\" \"$@\"' %s -C %s \"$@\"\n",
		sendmailBinary(), sendmailHostname, sendmailBinary(), s.CF)
	if err := os.WriteFile(s.Wrapper, []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.cleanup)
	s.Start()
	return s
}

func (s *Sendmail) write(name, text string) {
	if err := os.WriteFile(filepath.Join(s.Dir, name), []byte(text), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

func grepLines(text, re string) string {
	rx := regexp.MustCompile(re)
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if rx.MatchString(l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Addr is the daemon's host:port.
func (s *Sendmail) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// Start runs the daemon in the foreground (-bD, so the harness holds its
// PID) with a queue run every second, and waits until it accepts.
func (s *Sendmail) Start() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatal("sendmail already running")
	}
	logf, err := os.OpenFile(filepath.Join(s.Dir, "sendmail.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	// -X records the SMTP traffic of the daemon and its mailers: Sendmail
	// itself logs only to syslog, which a test machine may not have.
	cmd := exec.Command(s.Wrapper, "-bD", "-q1s", "-X", filepath.Join(s.Dir, "transcript"))
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		s.t.Fatalf("start sendmail: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	s.cmd, s.done = cmd, done
	// The greeting must be this daemon's: another process may have taken
	// the port between freePort and the bind.
	var greeting Reply
	if !testutil.Poll(30*time.Second, func() bool {
		select {
		case <-done:
			return true
		default:
		}
		c, g := Dial(s.Addr())
		if c == nil {
			return false
		}
		c.Close()
		greeting = g
		return true
	}) || !strings.Contains(greeting.Text(), "Sendmail") {
		s.t.Fatalf("sendmail on %s did not come up (greeting %v)\n%s", s.Addr(), greeting, s.Output())
	}
}

// Stop ends the daemon (SIGTERM, then SIGKILL) and the processes it
// started (its process group), by PID.
func (s *Sendmail) Stop() {
	if s.cmd == nil {
		return
	}
	pid := s.cmd.Process.Pid
	syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-s.done
	}
	// Children that outlived the daemon (a delivery in progress).
	syscall.Kill(-pid, syscall.SIGKILL)
	s.cmd = nil
}

func (s *Sendmail) cleanup() {
	if s.t.Failed() {
		s.t.Logf("sendmail instance %s output:\n%s\ntranscript (tail):\n%s", s.Dir, s.Output(), tail(s.Transcript(), 80))
	}
	s.Stop()
}

// Output is what the daemon printed (its errors: it logs to syslog).
func (s *Sendmail) Output() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "sendmail.out"))
	return string(b)
}

// Transcript is the -X traffic log.
func (s *Sendmail) Transcript() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "transcript"))
	return string(b)
}

// Run runs the instance's sendmail with args (through Wrapper) and
// returns its combined output.
func (s *Sendmail) Run(args ...string) (string, error) {
	cmd := exec.Command(s.Wrapper, args...)
	cmd.Dir = s.Dir
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		if cmd.Process != nil {
			cmd.Process.Kill()
		}
		<-done
		err = fmt.Errorf("sendmail %v: timed out", args)
	}
	return string(out), err
}

// SendmailEntry is one job of Sendmail's queue listing (sendmail -bp).
type SendmailEntry struct {
	ID         string
	Sender     string
	Recipients []string
	Quarantine string // the QUARANTINE: reason, "" when not quarantined
	Status     string // the last delivery status, in parentheses
}

var sendmailJobRe = regexp.MustCompile(`^([0-9A-Za-z]{14})[*X-]?\s+-?\d+\s+.{16}\s+(\S+)`)

// Queue lists the normal queue, or with quarantined the quarantine queue
// (sendmail -bp -qQ, which is mailq -qQ).
func (s *Sendmail) Queue(quarantined bool) []SendmailEntry {
	s.t.Helper()
	args := []string{"-bp"}
	if quarantined {
		args = append(args, "-qQ")
	}
	out, err := s.Run(args...)
	if err != nil {
		s.t.Fatalf("sendmail %v: %v\n%s", args, err, out)
	}
	return parseSendmailQueue(s.t, out)
}

func parseSendmailQueue(t testing.TB, out string) []SendmailEntry {
	t.Helper()
	var q []SendmailEntry
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \r")
		text := strings.TrimSpace(line)
		switch {
		case text == "" || strings.HasPrefix(text, "-----Q-ID") || strings.HasPrefix(text, "Total requests") ||
			strings.HasSuffix(text, " is empty") || strings.HasSuffix(text, "request)") || strings.HasSuffix(text, "requests)"):
		case line[0] != ' ' && line[0] != '\t':
			m := sendmailJobRe.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("sendmail queue listing: unexpected line %q in\n%s", line, out)
			}
			q = append(q, SendmailEntry{ID: m[1], Sender: strings.Trim(m[2], "<>")})
		case len(q) == 0:
			t.Fatalf("sendmail queue listing: %q before any job in\n%s", line, out)
		case strings.HasPrefix(text, "QUARANTINE:"):
			q[len(q)-1].Quarantine = strings.TrimSpace(strings.TrimPrefix(text, "QUARANTINE:"))
		case strings.HasPrefix(text, "("):
			q[len(q)-1].Status = text
		default:
			q[len(q)-1].Recipients = append(q[len(q)-1].Recipients, strings.Trim(text, "<>"))
		}
	}
	return q
}

// WaitQueue waits until the queue (or the quarantine queue) satisfies cond.
func (s *Sendmail) WaitQueue(quarantined bool, timeout time.Duration, what string, cond func([]SendmailEntry) bool) []SendmailEntry {
	s.t.Helper()
	var q []SendmailEntry
	if !testutil.Poll(timeout, func() bool {
		q = s.Queue(quarantined)
		return cond(q)
	}) {
		s.t.Fatalf("sendmail queue: %s not reached after %v; queue: %+v", what, timeout, q)
	}
	return q
}

// Settle waits until the normal queue is empty. Sendmail writes a job's
// control file before it answers 250 and removes it only once the next
// hop has accepted the message, so after Settle everything this instance
// accepted has reached the sink or been dropped: counting at the sink
// then proves "delivered once" or "not delivered" without waiting for
// time to pass. Quarantined jobs are not in the normal queue.
func (s *Sendmail) Settle() {
	s.t.Helper()
	s.WaitQueue(false, 30*time.Second, "an empty queue", func(q []SendmailEntry) bool { return len(q) == 0 })
}

// RunQueue runs the queue once, in the foreground (sendmail -q).
func (s *Sendmail) RunQueue() {
	s.t.Helper()
	if out, err := s.Run("-q"); err != nil {
		s.t.Fatalf("sendmail -q: %v\n%s", err, out)
	}
}

// countID counts the messages with Message-ID id the sink has now.
func countID(s *Sink, id string) int {
	n := 0
	for _, d := range s.Messages() {
		if withID(id)(d) {
			n++
		}
	}
	return n
}
