package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DLPConfig describes a generated maildlp main config. Every address is a
// free loopback port chosen by the harness.
type DLPConfig struct {
	Milter   bool   // milter on TCP and on a unix socket
	Reinject string // the [reinject] body (TOML lines) or "" for off; listen is set by the harness
	// Policies is TOML with [[detector]] and [[policy]] tables, written to
	// policies.toml and listed in policy_files. Empty: the default policy
	// from contrib/policies/default.toml.
	Policies    string
	TrialMode   bool
	NotifyRelay string // host:port; "" leaves notices undeliverable
	Extra       string // more top-level TOML (sections), appended
	// Store is the body of [store] (TOML lines); "" is a SQLite file in
	// the instance's directory.
	Store string
}

// Maildlp is a running maildlp process.
type Maildlp struct {
	t          testing.TB
	Dir        string
	ConfigPath string
	MilterPort int
	MilterSock string
	HopPort    int
	Metrics    int
	args       []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// MilterInet is the milter address in Postfix syntax.
func (m *Maildlp) MilterInet() string { return "inet:127.0.0.1:" + strconv.Itoa(m.MilterPort) }

// HopAddr is the reinjection hop's host:port.
func (m *Maildlp) HopAddr() string { return "127.0.0.1:" + strconv.Itoa(m.HopPort) }

// IncidentsPath is the incident log (JSON lines).
func (m *Maildlp) IncidentsPath() string { return filepath.Join(m.Dir, "incidents.jsonl") }

// NewMaildlp writes the config and starts `maildlp serve`.
func NewMaildlp(t testing.TB, c DLPConfig) *Maildlp {
	t.Helper()
	needMaildlp(t)
	m := &Maildlp{t: t, Dir: tempDir(t, "maildlp-dlp-")}
	m.MilterPort = freePort(t)
	m.MilterSock = filepath.Join(m.Dir, "milter.sock")
	m.HopPort = freePort(t)
	m.Metrics = freePort(t)
	m.ConfigPath = filepath.Join(m.Dir, "maildlp.toml")
	m.write(c)
	m.args = []string{"serve", "--config", m.ConfigPath}
	t.Cleanup(m.cleanup)
	m.Start()
	return m
}

func (m *Maildlp) write(c DLPConfig) {
	var b strings.Builder
	policyFile := filepath.Join(repoRoot, "contrib", "policies", "default.toml")
	if c.Policies != "" {
		policyFile = filepath.Join(m.Dir, "policies.toml")
		if err := os.WriteFile(policyFile, []byte(c.Policies), 0o644); err != nil {
			m.t.Fatal(err)
		}
	}
	fmt.Fprintf(&b, "policy_files = [%q]\n", policyFile)
	fmt.Fprintf(&b, "trial_mode = %v\n", c.TrialMode)
	fmt.Fprintf(&b, "internal_domains = [\"test.example\"]\n\n")
	fmt.Fprintf(&b, "[log]\nformat = \"json\"\nlevel = \"info\"\n\n")
	fmt.Fprintf(&b, "[incidents]\npath = %q\n\n", m.IncidentsPath())
	if c.Store != "" {
		fmt.Fprintf(&b, "[store]\n%s\nqueue_dir = %q\n\n", c.Store, filepath.Join(m.Dir, "incident-queue"))
	} else {
		fmt.Fprintf(&b, "[store]\npath = %q\nqueue_dir = %q\n\n", filepath.Join(m.Dir, "maildlp.db"), filepath.Join(m.Dir, "incident-queue"))
	}
	relay := c.NotifyRelay
	if relay == "" {
		relay = "127.0.0.1:" + strconv.Itoa(freePort(m.t))
	}
	fmt.Fprintf(&b, "[notify]\nrelay = %q\nfrom = \"dlp@test.example\"\noutbox_dir = %q\nretry_min = \"1s\"\nretry_max = \"2s\"\n\n",
		relay, filepath.Join(m.Dir, "outbox"))
	fmt.Fprintf(&b, "[metrics]\nlisten = \"127.0.0.1:%d\"\n\n", m.Metrics)
	fmt.Fprintf(&b, "[milter]\nenabled = %v\nlisten = [\"inet:%d@127.0.0.1\", \"unix:%s\"]\nsocket_mode = \"0666\"\n\n",
		c.Milter, m.MilterPort, m.MilterSock)
	if c.Reinject != "" {
		fmt.Fprintf(&b, "[reinject]\nenabled = true\nlisten = \"127.0.0.1:%d\"\n%s\n\n", m.HopPort, c.Reinject)
	}
	b.WriteString(c.Extra)
	if err := os.WriteFile(m.ConfigPath, []byte(b.String()), 0o644); err != nil {
		m.t.Fatal(err)
	}
}

// Start runs the process and waits until its listeners accept.
func (m *Maildlp) Start() {
	m.t.Helper()
	m.mu.Lock()
	if m.cmd != nil {
		m.mu.Unlock()
		m.t.Fatal("maildlp already running")
	}
	var err error
	if m.log == nil {
		m.log, err = os.OpenFile(filepath.Join(m.Dir, "maildlp.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			m.mu.Unlock()
			m.t.Fatal(err)
		}
	}
	cmd := exec.Command(maildlpBin, m.args...)
	cmd.Dir = m.Dir
	cmd.Stdout = m.log
	cmd.Stderr = m.log
	// Its own process group (signals to the test do not reach it), and
	// killed if the test process dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		m.mu.Unlock()
		m.t.Fatalf("start maildlp: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	m.cmd, m.done = cmd, done
	m.mu.Unlock()

	cfg, _ := os.ReadFile(m.ConfigPath)
	ready := func() bool {
		select {
		case <-done:
			return true
		default:
		}
		if bytes.Contains(cfg, []byte("[milter]\nenabled = true")) {
			if !waitTCP("127.0.0.1:"+strconv.Itoa(m.MilterPort), 0) || !waitUnix(m.MilterSock, 0) {
				return false
			}
		}
		if bytes.Contains(cfg, []byte("[reinject]\nenabled = true")) && !waitTCP(m.HopAddr(), 0) {
			return false
		}
		return true
	}
	if !waitFor(15*time.Second, 50*time.Millisecond, ready) {
		m.t.Fatalf("maildlp did not open its listeners within 15s\n%s", m.Log())
	}
	select {
	case <-done:
		m.mu.Lock()
		m.cmd = nil
		m.mu.Unlock()
		m.t.Fatalf("maildlp exited at start: %v\nconfig:\n%s\nlog:\n%s", cmd.ProcessState, cfg, m.Log())
	default:
	}
}

// Stop sends SIGTERM and waits (bounded) for the process to exit.
func (m *Maildlp) Stop() { m.stop(syscall.SIGTERM) }

// Kill stops the process with SIGKILL (a crash).
func (m *Maildlp) Kill() { m.stop(syscall.SIGKILL) }

func (m *Maildlp) stop(sig syscall.Signal) {
	m.mu.Lock()
	cmd, done := m.cmd, m.done
	m.cmd = nil
	m.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		m.t.Errorf("maildlp did not exit within 20s of %v; killing it", sig)
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// Signal sends sig to the running process.
func (m *Maildlp) Signal(sig syscall.Signal) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		m.cmd.Process.Signal(sig)
	}
}

// Restart stops and starts the process with the same config.
func (m *Maildlp) Restart() {
	m.t.Helper()
	m.Stop()
	m.Start()
}

func (m *Maildlp) cleanup() {
	m.Stop()
	if m.t.Failed() {
		cfg, _ := os.ReadFile(m.ConfigPath)
		m.t.Logf("maildlp config %s:\n%s\nmaildlp log:\n%s", m.ConfigPath, cfg, tail(m.Log(), 150))
	}
	if m.log != nil {
		m.log.Close()
	}
}

// Log returns everything the process wrote.
func (m *Maildlp) Log() string {
	b, _ := os.ReadFile(filepath.Join(m.Dir, "maildlp.log"))
	return string(b)
}

// LogLines returns the JSON log lines (decoded) that contain substr.
func (m *Maildlp) LogLines(substr string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(m.Log()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if !strings.Contains(sc.Text(), substr) {
			continue
		}
		var v map[string]any
		if json.Unmarshal(sc.Bytes(), &v) == nil {
			out = append(out, v)
		}
	}
	return out
}

// Incidents returns the decoded incident log.
func (m *Maildlp) Incidents() []map[string]any {
	b, _ := os.ReadFile(m.IncidentsPath())
	var out []map[string]any
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal(line, &v); err != nil {
			m.t.Errorf("incident line %q: %v", line, err)
			continue
		}
		out = append(out, v)
	}
	return out
}

// WaitIncidents waits until at least n incidents satisfy match.
func (m *Maildlp) WaitIncidents(n int, timeout time.Duration, match func(map[string]any) bool) []map[string]any {
	m.t.Helper()
	var got []map[string]any
	if !waitFor(timeout, 100*time.Millisecond, func() bool {
		got = got[:0]
		for _, inc := range m.Incidents() {
			if match == nil || match(inc) {
				got = append(got, inc)
			}
		}
		return len(got) >= n
	}) {
		b, _ := os.ReadFile(m.IncidentsPath())
		m.t.Fatalf("incidents: %d matching after %v, want %d; incident log:\n%s", len(got), timeout, n, b)
	}
	return got
}

// Decisions returns the decision log lines (one per decided message) for
// a Postfix queue id.
func (m *Maildlp) Decisions(queueID string) []map[string]any {
	var out []map[string]any
	for _, l := range m.LogLines(`"queue_id":"` + queueID + `"`) {
		if l["msg"] == "decision" {
			out = append(out, l)
		}
	}
	return out
}
