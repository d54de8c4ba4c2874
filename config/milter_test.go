package config

import (
	"strings"
	"testing"
	"time"
)

func TestMilterDefaults(t *testing.T) {
	m := Milter{}.WithDefaults()
	if len(m.Listen) != 1 || m.Listen[0] != "inet:10030@127.0.0.1" || m.SocketMode != "0660" ||
		m.MaxSessions != 500 || m.WriteTimeout.D() != 10*time.Second || m.ProgressInterval.D() != 2*time.Second ||
		m.EarlyDecision == nil || !*m.EarlyDecision || m.IdleTimeout.D() != time.Hour ||
		len(m.Allow) != 2 || m.Allow[0] != "127.0.0.0/8" || m.Allow[1] != "::1/128" {
		t.Errorf("Milter{}.WithDefaults() = %+v", m)
	}
	off := false
	m = Milter{Listen: []string{"unix:/run/m.sock"}, MaxSessions: 7, EarlyDecision: &off}.WithDefaults()
	if m.Listen[0] != "unix:/run/m.sock" || m.MaxSessions != 7 || *m.EarlyDecision {
		t.Errorf("set values overridden: %+v", m)
	}
}

func TestMilterCheck(t *testing.T) {
	tests := []struct {
		m    Milter
		want string // "" for no error
	}{
		{Milter{}.WithDefaults(), ""},
		{Milter{Listen: []string{"inet:127.0.0.1:10030", "inet6:[::1]:10030", "local:/run/x.sock"}}, ""},
		{Milter{Listen: []string{"127.0.0.1:10030"}}, `milter.listen: milter address "127.0.0.1:10030": unknown type`},
		{Milter{Listen: []string{"inet:70000@127.0.0.1"}}, "bad port"},
		{Milter{Listen: []string{"unix:relative.sock"}}, "must be absolute"},
		{Milter{SocketMode: "rw-rw----"}, `milter.socket_mode "rw-rw----"`},
		{Milter{SocketMode: "01777"}, `milter.socket_mode "01777"`},
		{Milter{MaxSessions: -1}, "milter.max_sessions -1"},
		{Milter{SocketOwner: "a:b:c"}, "milter.socket_owner"},
	}
	for _, tt := range tests {
		errs := tt.m.Check()
		var got string
		for _, e := range errs {
			got += e.Error() + "\n"
		}
		if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("Check(%+v) = %q, want %q", tt.m, got, tt.want)
		}
	}
	if mode, err := (Milter{SocketMode: "0600"}).Mode(); err != nil || mode != 0o600 {
		t.Errorf("Mode() = %o, %v", mode, err)
	}
}

// TestIssue7MilterGuards: the milter has an idle timeout and a loopback
// client allowlist by default, and a bad allow entry is an error.
func TestIssue7MilterGuards(t *testing.T) {
	m := Milter{}.WithDefaults()
	if m.IdleTimeout.D() <= 0 || len(m.Allow) == 0 {
		t.Fatalf("defaults: idle_timeout %s, allow %v; want both set", m.IdleTimeout.D(), m.Allow)
	}
	bad := Milter{Allow: []string{"10.0.0.0/33"}}.WithDefaults()
	if errs := bad.Check(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "milter.allow") {
		t.Errorf("Check(allow 10.0.0.0/33) = %v, want one milter.allow error", errs)
	}
}
