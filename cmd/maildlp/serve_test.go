package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/maildlp/maildlp/app"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func waitLog(t *testing.T, buf *lockedBuffer, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(buf.String(), what) {
		if time.Now().After(deadline) {
			t.Fatalf("log never showed %q:\n%s", what, buf.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServeSignals runs the serve command in-process and sends it real
// signals: SIGHUP reloads (a bad policy is refused and reported with
// file:line), SIGTERM stops it with status 0.
func TestServeSignals(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "maildlp.toml")
	pol := filepath.Join(dir, "policy.toml")
	os.WriteFile(conf, []byte(`policy_files = ["policy.toml"]
[milter]
enabled = true
listen = ["inet:127.0.0.1:0"]
[reinject]
enabled = false
[store]
driver = "none"
[log]
format = "text"
`), 0o600)
	os.WriteFile(pol, []byte("[[policy]]\nname = \"Cards\"\n[policy.rule]\ndetector = \"credit_card\"\n[policy.block]\n"), 0o600)

	var logs lockedBuffer
	code := make(chan int, 1)
	go func() { code <- serviceMain("serve", app.Enabled, []string{"--config", conf}, &logs) }()
	waitLog(t, &logs, "maildlp ready")

	os.WriteFile(pol, []byte("[[policy]]\nname = \"Cards\"\n[policy.rule]\ndetector = \"no_such\"\n[policy.block]\n"), 0o600)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitLog(t, &logs, "reload failed")
	if !strings.Contains(logs.String(), "policy.toml:4") {
		t.Errorf("failed reload does not name file:line:\n%s", logs.String())
	}

	os.WriteFile(pol, []byte("[[policy]]\nname = \"Cards2\"\n[policy.rule]\ndetector = \"credit_card\"\n[policy.block]\n"), 0o600)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitLog(t, &logs, "reloaded config and policies")

	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("serve exit status %d after SIGTERM, want 0:\n%s", c, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	if !strings.Contains(logs.String(), "maildlp stopped") {
		t.Errorf("no stop line:\n%s", logs.String())
	}
}

func TestServeBadConfig(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "maildlp.toml")
	os.WriteFile(conf, []byte("[milter]\nenabled = \"yes\"\nbogus = 1\n"), 0o600)
	var logs lockedBuffer
	if c := serviceMain("serve", app.Enabled, []string{"--config", conf}, &logs); c != 2 {
		t.Errorf("exit %d with a bad config, want 2", c)
	}
	out := logs.String()
	if !strings.Contains(out, "maildlp.toml:2") || !strings.Contains(out, "maildlp.toml:3") {
		t.Errorf("not every error reported with file:line:\n%s", out)
	}
	if c := serviceMain("milter", app.MilterOnly, []string{"--config", filepath.Join(dir, "missing.toml")}, &logs); c != 2 {
		t.Errorf("exit %d with a missing explicit config, want 2", c)
	}
	if c := serviceMain("reinject", app.ReinjectOnly, []string{"extra"}, &logs); c != 2 {
		t.Errorf("exit %d with an extra argument, want 2", c)
	}
}
