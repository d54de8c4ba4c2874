package config

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/policy/detect"
)

func TestMilterDefaults(t *testing.T) {
	m := Milter{}.WithDefaults()
	if len(m.Listen) != 1 || m.Listen[0].String() != "inet:10030@127.0.0.1" || m.Listen[0].Network != "tcp4" ||
		m.Listen[0].Address != "127.0.0.1:10030" || m.SocketMode != 0o660 ||
		m.MaxSessions != 500 || m.WriteTimeout.D() != 10*time.Second || m.ProgressInterval.D() != 2*time.Second ||
		m.EarlyDecision == nil || !*m.EarlyDecision || m.IdleTimeout.D() != time.Hour ||
		len(m.Allow) != 2 || m.Allow[0].String() != "127.0.0.0/8" || m.Allow[1].String() != "::1/128" {
		t.Errorf("Milter{}.WithDefaults() = %+v", m)
	}
	off := false
	m = Milter{Listen: []MilterAddr{MustMilterAddr("unix:/run/m.sock")}, MaxSessions: 7, EarlyDecision: &off}.WithDefaults()
	if m.Listen[0].Address != "/run/m.sock" || m.MaxSessions != 7 || *m.EarlyDecision {
		t.Errorf("set values overridden: %+v", m)
	}
}

// TestMilterErrors: each invalid [milter] value is reported with its line.
func TestMilterErrors(t *testing.T) {
	tests := []struct {
		conf string
		want string // "" for no error
	}{
		{`listen = ["inet:127.0.0.1:10030", "inet6:[::1]:10030", "local:/run/x.sock"]`, ""},
		{`listen = ["127.0.0.1:10030"]`, `m.toml:3: milter.listen[0]: milter address "127.0.0.1:10030": unknown type`},
		{`listen = ["inet:70000@127.0.0.1"]`, "m.toml:3: milter.listen[0]: milter address \"inet:70000@127.0.0.1\": bad port"},
		{`listen = ["unix:relative.sock"]`, "must be absolute"},
		{`socket_mode = "rw-rw----"`, `m.toml:3: milter.socket_mode: "rw-rw----": want an octal permission`},
		{`socket_mode = "01777"`, `m.toml:3: milter.socket_mode: "01777"`},
		{`max_sessions = -1`, "m.toml:3: milter.max_sessions: -1: must not be negative"},
		{`socket_owner = "a:b:c"`, "m.toml:3: milter.socket_owner"},
		{`allow = ["127.0.0.1", "10.0.0.0/33"]`, `m.toml:3: milter.allow[1]: "10.0.0.0/33" is not an IP address or CIDR`},
	}
	for _, tt := range tests {
		conf := "# milter\n[milter]\n" + tt.conf + "\n"
		_, err := LoadBytes("m.toml", []byte(conf), detect.IsBuiltin)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("LoadBytes(%q) = %q, want %q", tt.conf, got, tt.want)
		}
	}
	c, err := LoadBytes("m.toml", []byte("[milter]\nsocket_mode = \"0600\"\n"), detect.IsBuiltin)
	if err != nil || c.Milter.SocketMode != 0o600 {
		t.Errorf("socket_mode 0600: %v, %v", c, err)
	}
}

// TestIssue7MilterGuards: the milter has an idle timeout and a loopback
// client allowlist by default, and the allow entries are parsed at load.
func TestIssue7MilterGuards(t *testing.T) {
	m := Milter{}.WithDefaults()
	if m.IdleTimeout.D() <= 0 || len(m.Allow) == 0 {
		t.Fatalf("defaults: idle_timeout %s, allow %v; want both set", m.IdleTimeout.D(), m.Allow)
	}
	c, err := LoadBytes("m.toml", []byte("[milter]\nallow = [\"::ffff:10.1.2.3\", \"192.0.2.0/24\"]\n"), detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	if !ContainsAddr(c.Milter.Allow, netip.MustParseAddr("10.1.2.3")) || !ContainsAddr(c.Milter.Allow, netip.MustParseAddr("192.0.2.200")) ||
		ContainsAddr(c.Milter.Allow, netip.MustParseAddr("127.0.0.1")) {
		t.Errorf("allow = %v", c.Milter.Allow)
	}
}
