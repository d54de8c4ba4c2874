package reinject

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
)

// TestIssue7HopIdle: a connection that stays outside a mail transaction
// longer than timeouts.idle gets 421 and is closed, however many NOOPs it
// sends, and its max_connections slot is released. The idle clock starts
// again when a transaction ends.
func TestIssue7HopIdle(t *testing.T) {
	const idle = 300 * time.Millisecond
	mta := newFakeMTA(t, nil)
	cfg := reflectCfg(mta.addr())
	cfg.Timeouts.Idle = config.Duration(idle)
	cfg.MaxConnections = 1
	_, addr := startHop(t, &fakeEngine{}, cfg)

	up := dialUp(t, addr)
	up.hello()
	if got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg); !strings.HasPrefix(got, "250 ") {
		t.Fatalf("transaction: %q", got)
	}
	end := time.Now()
	var last string
	for n := 0; ; n++ {
		last = up.cmd("NOOP")
		if !strings.HasPrefix(last, "250") {
			break
		}
		if time.Since(end) > 20*idle {
			t.Fatalf("still open %s after the transaction (%d NOOPs), want 421 after %s", time.Since(end), n, idle)
		}
		time.Sleep(idle / 10) // pacing the NOOPs: each one is activity that must not count
	}
	if !strings.HasPrefix(last, "421 4.4.2") {
		t.Fatalf("idle connection got %q, want 421 4.4.2", last)
	}
	if d := time.Since(end); d < idle {
		t.Errorf("closed %s after the transaction ended, before timeouts.idle %s", d, idle)
	}
	// The slot is free again: a new client is greeted, not refused.
	waitGreeting(t, addr)
}

// waitGreeting connects until the hop greets with 220 (the slot of a
// closed connection is released when its session has ended).
func waitGreeting(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		u := dialUp(t, addr)
		g := u.read()
		u.c.Close()
		if strings.HasPrefix(g, "220 ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("greeting %q, want 220 once the idle connection is gone", g)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestIssue7HopIdleDefault(t *testing.T) {
	if d := (config.Reinject{}).WithDefaults().Timeouts.Idle.D(); d <= 0 || d > 5*time.Minute {
		t.Errorf("default timeouts.idle = %s, want a short non-zero bound", d)
	}
}

// dialFrom is dialUp from a chosen loopback address.
func dialFrom(t *testing.T, addr, local string) *upstream {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &upstream{t: t, c: c, br: bufio.NewReader(c)}
}

// TestIssue7XForwardTrusted: XFORWARD is offered to and accepted from the
// clients in xforward_from only; another allowed client is not offered
// it, is refused it, and cannot make the engine see a forged client.
func TestIssue7XForwardTrusted(t *testing.T) {
	mta := newFakeMTA(t, nil)
	cfg := reflectCfg(mta.addr())
	cfg.Allow = config.MustNetworks("127.0.0.1", "127.0.0.2")
	cfg.XForwardFrom = config.MustNetworks("127.0.0.1")
	eng := &fakeEngine{}
	_, addr := startHop(t, eng, cfg)

	for _, tt := range []struct {
		from      string
		trusted   bool
		wantReply string
		wantAddr  string
	}{
		{"127.0.0.2", false, "550 5.7.0", "127.0.0.2"},
		{"127.0.0.1", true, "250 2.0.0", "192.0.2.99"},
	} {
		up := dialFrom(t, addr, tt.from)
		ehlo := up.hello()
		if got := strings.Contains(ehlo, "XFORWARD"); got != tt.trusted {
			t.Errorf("client %s: EHLO offers XFORWARD = %v, want %v:\n%s", tt.from, got, tt.trusted, ehlo)
		}
		if got := up.cmd("XFORWARD ADDR=192.0.2.99 NAME=trusted.example"); !strings.HasPrefix(got, tt.wantReply) {
			t.Errorf("client %s: XFORWARD -> %q, want %s", tt.from, got, tt.wantReply)
		}
		if got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg); !strings.HasPrefix(got, "250 ") {
			t.Fatalf("client %s: transaction %q", tt.from, got)
		}
		envs := eng.envelopes()
		if env := envs[len(envs)-1]; env.ClientAddr != tt.wantAddr {
			t.Errorf("client %s: engine saw client %q, want %q", tt.from, env.ClientAddr, tt.wantAddr)
		}
	}

	def := (config.Reinject{}).WithDefaults().XForwardFrom
	if len(def) != 2 || def[0].String() != "127.0.0.0/8" || def[1].String() != "::1/128" {
		t.Errorf("default xforward_from = %v, want loopback only", def)
	}
}
