package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maildlp/maildlp/internal/testutil"
)

// Postfix is a throwaway Postfix instance: its own config_directory,
// queue_directory and data_directory under a temporary directory, smtpd on
// a free loopback port, relayhost pointing at a test sink, logs in
// Dir/maillog through postlogd.
type Postfix struct {
	t       testing.TB
	Dir     string
	ConfDir string
	Port    int    // the main smtpd listener
	Relay   string // relayhost, host:port
	started bool
}

// PostfixConfig says how to build an instance.
type PostfixConfig struct {
	Relay string // host:port of the relayhost (the sink); required
	// Main lines are appended to main.cf after the base settings (later
	// settings win in main.cf).
	Main []string
	// Master entries replace base master.cf entries with the same service
	// name and type, or are added.
	Master []string
	// Fragments are contrib files (paths relative to the repository)
	// appended to main.cf or merged into master.cf (by base name) after
	// Rewrite has been applied to their text.
	Fragments []string
	// Rewrite maps text in the fragments to its test value, e.g. default
	// ports to test ports. Keys that look like numbers match whole numbers.
	Rewrite map[string]string
	// Port of the main smtpd; chosen when 0.
	Port int
}

// NewPostfix writes the instance's configuration and starts it. The
// instance is stopped and its logs dumped on failure at cleanup.
func NewPostfix(t testing.TB, cfg PostfixConfig) *Postfix {
	t.Helper()
	needEnv(t)
	p := &Postfix{t: t, Dir: tempDir(t, "maildlp-postfix-"), Relay: cfg.Relay, Port: cfg.Port}
	if p.Port == 0 {
		p.Port = freePort(t)
	}
	p.ConfDir = filepath.Join(p.Dir, "etc")
	for _, d := range []string{"etc", "spool", "data"} {
		if err := os.MkdirAll(filepath.Join(p.Dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pf, err := user.Lookup("postfix")
	if err != nil {
		t.Fatalf("postfix user: %v", err)
	}
	uid, _ := strconv.Atoi(pf.Uid)
	gid, _ := strconv.Atoi(pf.Gid)
	if err := os.Chown(filepath.Join(p.Dir, "data"), uid, gid); err != nil {
		t.Fatal(err)
	}

	main := p.baseMain()
	master := p.baseMaster()
	for _, frag := range cfg.Fragments {
		raw, err := os.ReadFile(filepath.Join(repoRoot, frag))
		if err != nil {
			t.Fatalf("contrib fragment: %v", err)
		}
		rw := map[string]string{"/etc/postfix/": p.ConfDir + "/"}
		for k, v := range cfg.Rewrite {
			rw[k] = v
		}
		text := rewrite(string(raw), rw)
		base := filepath.Base(frag)
		switch {
		case strings.Contains(base, "master"):
			master = mergeMaster(master, parseMaster(text), p.Port)
		case strings.Contains(base, "main"):
			main = append(main, "", "# "+frag, text)
		default:
			// A lookup table or other file the fragments name under
			// /etc/postfix/: installed in the instance's config directory.
			p.write(base, text)
			switch filepath.Ext(base) {
			case ".cidr", ".pcre", ".regexp", ".md", ".txt", ".conf":
			default:
				p.postmap(base) // in case it is used as hash: or lmdb:
			}
		}
	}
	main = append(main, "", "# test overrides")
	main = append(main, cfg.Main...)
	// The instance's own locations always win over fragments.
	main = append(main, p.pinned()...)
	master = mergeMaster(master, parseMaster(strings.Join(cfg.Master, "\n")), p.Port)

	p.write("main.cf", strings.Join(main, "\n")+"\n")
	p.write("master.cf", renderMaster(master))
	t.Cleanup(p.cleanup)
	p.Start()
	return p
}

func (p *Postfix) write(name, text string) {
	if err := os.WriteFile(filepath.Join(p.ConfDir, name), []byte(text), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// pinned are the settings that keep the instance apart from any other.
func (p *Postfix) pinned() []string {
	return []string{
		"queue_directory = " + filepath.Join(p.Dir, "spool"),
		"data_directory = " + filepath.Join(p.Dir, "data"),
		"maillog_file = " + filepath.Join(p.Dir, "maillog"),
		"maillog_file_prefixes = " + p.Dir,
		"inet_interfaces = 127.0.0.1",
		"inet_protocols = ipv4",
		"mail_owner = postfix",
		"setgid_group = postdrop",
		"relayhost = [" + strings.Replace(p.Relay, ":", "]:", 1),
	}
}

func (p *Postfix) baseMain() []string {
	return append([]string{
		"# throwaway instance written by the maildlp integration tests",
		"compatibility_level = 3.6",
		"myhostname = mta.test.example",
		"mydomain = test.example",
		"myorigin = $mydomain",
		"mydestination =",
		"mynetworks = 127.0.0.0/8",
		"alias_maps =",
		"alias_database =",
		"local_recipient_maps =",
		"biff = no",
		"smtputf8_enable = no",
		"smtp_dns_support_level = disabled",
		"smtp_connect_timeout = 5s",
		"smtp_helo_timeout = 30s",
		"queue_run_delay = 1s",
		"minimal_backoff_time = 1s",
		"maximal_backoff_time = 2s",
		"delay_warning_time = 0",
		"in_flow_delay = 0",
		"smtpd_error_sleep_time = 0",
		"smtpd_soft_error_limit = 1000",
		"smtpd_hard_error_limit = 1000",
		"smtpd_junk_command_limit = 1000",
		"message_size_limit = 52428800",
		"default_process_limit = 100",
		"smtp_tls_security_level = none",
		"smtpd_tls_security_level = none",
	}, p.pinned()...)
}

// masterEntry is one master.cf service: its name/type key and all lines.
type masterEntry struct {
	key   string
	lines []string
}

// masterServices is the service list of a throwaway instance, shared
// with the benchmark scripts.
const masterServices = "integration/testdata/master.cf"

// baseMaster is the instance's smtpd listener and the shared services.
func (p *Postfix) baseMaster() []masterEntry {
	services, err := os.ReadFile(filepath.Join(repoRoot, masterServices))
	if err != nil {
		p.t.Fatalf("master.cf services: %v", err)
	}
	return parseMaster(fmt.Sprintf("127.0.0.1:%d inet n - n - - smtpd\n", p.Port) + string(services))
}

// parseMaster splits master.cf text into entries; comments and blank
// lines are dropped, continuation lines (leading white space) kept.
func parseMaster(text string) []masterEntry {
	var out []masterEntry
	for _, line := range strings.Split(text, "\n") {
		trim := strings.TrimSpace(line)
		if trim == "" || strings.HasPrefix(trim, "#") {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(out) > 0 {
				out[len(out)-1].lines = append(out[len(out)-1].lines, line)
			}
			continue
		}
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		// chroot off: the instance has no chroot jail set up.
		f[4] = "n"
		out = append(out, masterEntry{key: f[0] + "/" + f[1], lines: []string{strings.Join(f, " ")}})
	}
	return out
}

// mergeMaster replaces entries of base with those of add that have the
// same key and appends the others. The service "smtp/inet" (port 25) and
// any inet entry on port 25 become the instance's main listener.
func mergeMaster(base, add []masterEntry, port int) []masterEntry {
	main := fmt.Sprintf("127.0.0.1:%d/inet", port)
	for _, e := range add {
		if e.key == "smtp/inet" || e.key == "25/inet" || e.key == "127.0.0.1:25/inet" || e.key == "localhost:25/inet" {
			f := strings.Fields(e.lines[0])
			f[0] = fmt.Sprintf("127.0.0.1:%d", port)
			e.lines[0] = strings.Join(f, " ")
			e.key = main
		}
		replaced := false
		for i := range base {
			if base[i].key == e.key {
				base[i] = e
				replaced = true
			}
		}
		if !replaced {
			base = append(base, e)
		}
	}
	return base
}

func renderMaster(es []masterEntry) string {
	var b strings.Builder
	b.WriteString("# throwaway instance written by the maildlp integration tests\n")
	for _, e := range es {
		for _, l := range e.lines {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

var numberKey = regexp.MustCompile(`^[0-9]+$`)

// rewrite replaces the keys of m in text: numeric keys as whole numbers
// only (10025 but not 100250), others literally.
// Literal keys are replaced first, longest first, so that
// "inet:127.0.0.1:10030" can be rewritten before "10030".
func rewrite(text string, m map[string]string) string {
	var lit, num []string
	for k := range m {
		if numberKey.MatchString(k) {
			num = append(num, k)
		} else {
			lit = append(lit, k)
		}
	}
	sort.Slice(lit, func(i, j int) bool { return len(lit[i]) > len(lit[j]) })
	for _, k := range lit {
		text = strings.ReplaceAll(text, k, m[k])
	}
	for _, k := range num {
		re := regexp.MustCompile(`(^|[^0-9])` + k + `([^0-9]|$)`)
		text = re.ReplaceAllString(text, "${1}"+m[k]+"${2}")
	}
	return text
}

// postmap builds the indexed form of a table in the config directory.
func (p *Postfix) postmap(name string) {
	out, err := exec.Command("postmap", "-c", p.ConfDir, filepath.Join(p.ConfDir, name)).CombinedOutput()
	if err != nil {
		p.t.Fatalf("postmap %s: %v\n%s", name, err, out)
	}
}

// Addr is the main smtpd's host:port.
func (p *Postfix) Addr() string { return "127.0.0.1:" + strconv.Itoa(p.Port) }

func (p *Postfix) run(name string, args ...string) (string, error) {
	ctx := append([]string{"-c", p.ConfDir}, args...)
	cmd := exec.Command(name, ctx...)
	cmd.Env = append(os.Environ(), "MAIL_CONFIG="+p.ConfDir)
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
		err = fmt.Errorf("%s %v: timed out", name, args)
	}
	return string(out), err
}

// Start starts the instance and waits for its smtpd.
func (p *Postfix) Start() {
	p.t.Helper()
	if out, err := p.run("postfix", "check"); err != nil {
		p.t.Fatalf("postfix check: %v\n%s\n%s", err, out, p.Log())
	}
	if out, err := p.run("postfix", "start"); err != nil {
		p.t.Fatalf("postfix start: %v\n%s\n%s", err, out, p.Log())
	}
	p.started = true
	if !waitTCP(p.Addr(), 20*time.Second) {
		p.t.Fatalf("postfix smtpd on %s did not come up\n%s", p.Addr(), p.Log())
	}
}

// Stop stops the instance and waits for its master to exit.
func (p *Postfix) Stop() {
	if !p.started {
		return
	}
	p.started = false
	pid := p.masterPID()
	p.run("postfix", "stop")
	if pid > 0 && !testutil.Poll(15*time.Second, func() bool { return syscall.Kill(pid, 0) != nil }) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

func (p *Postfix) masterPID() int {
	b, err := os.ReadFile(filepath.Join(p.Dir, "spool", "pid", "master.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func (p *Postfix) cleanup() {
	if p.t.Failed() {
		p.t.Logf("postfix instance %s main.cf/master.cf kept in log below; maillog:\n%s", p.Dir, tail(p.Log(), 150))
		if b, err := os.ReadFile(filepath.Join(p.ConfDir, "master.cf")); err == nil {
			p.t.Logf("master.cf:\n%s", b)
		}
	}
	p.Stop()
}

// Log returns the instance's maillog.
func (p *Postfix) Log() string {
	b, _ := os.ReadFile(filepath.Join(p.Dir, "maillog"))
	return string(b)
}

// WaitLog waits until the maillog matches re and returns the match.
func (p *Postfix) WaitLog(re string, timeout time.Duration) []string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	var m []string
	if !testutil.Poll(timeout, func() bool {
		m = rx.FindStringSubmatch(p.Log())
		return m != nil
	}) {
		p.t.Fatalf("postfix log: no line matching %q after %v\n%s", re, timeout, tail(p.Log(), 60))
	}
	return m
}

// QueueIDOf finds the queue id Postfix gave the message with Message-ID
// id (without brackets) in the maillog; the first one wins.
func (p *Postfix) QueueIDOf(id string) string {
	p.t.Helper()
	m := p.WaitLog(`([0-9A-F]+): message-id=<`+regexp.QuoteMeta(id)+`>`, 10*time.Second)
	return m[1]
}

// QueueEntry is one message of `postqueue -j`.
type QueueEntry struct {
	QueueName  string `json:"queue_name"`
	QueueID    string `json:"queue_id"`
	Sender     string `json:"sender"`
	Recipients []struct {
		Address     string `json:"address"`
		DelayReason string `json:"delay_reason"`
	} `json:"recipients"`
}

// Queue lists the queue with `postqueue -j`.
func (p *Postfix) Queue() []QueueEntry {
	p.t.Helper()
	out, err := p.run("postqueue", "-j")
	if err != nil {
		p.t.Fatalf("postqueue -j: %v\n%s", err, out)
	}
	var q []QueueEntry
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e QueueEntry
		if err := json.Unmarshal(line, &e); err != nil {
			p.t.Fatalf("postqueue -j line %q: %v", line, err)
		}
		q = append(q, e)
	}
	return q
}

// WaitQueue waits until the queue satisfies cond.
func (p *Postfix) WaitQueue(timeout time.Duration, what string, cond func([]QueueEntry) bool) []QueueEntry {
	p.t.Helper()
	var q []QueueEntry
	if !testutil.Poll(timeout, func() bool {
		q = p.Queue()
		return cond(q)
	}) {
		p.t.Fatalf("postfix queue: %s not reached after %v; queue: %+v\n%s", what, timeout, q, tail(p.Log(), 60))
	}
	return q
}

// Flush asks the queue manager to retry deferred mail now.
func (p *Postfix) Flush() {
	if out, err := p.run("postqueue", "-f"); err != nil {
		p.t.Fatalf("postqueue -f: %v\n%s", err, out)
	}
}

// Release moves a held message (or ALL) back to the active queue.
func (p *Postfix) Release(id string) {
	if out, err := p.run("postsuper", "-H", id); err != nil {
		p.t.Fatalf("postsuper -H %s: %v\n%s", id, err, out)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
