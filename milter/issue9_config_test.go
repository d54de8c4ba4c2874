package milter

import (
	"net"
	"path/filepath"
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/detect"
)

// TestIssue9AllowParsedAtLoad: the milter's allowlist, listen address and
// session bound are the values parsed when the config was loaded, taken
// by New as the [milter] section.
func TestIssue9AllowParsedAtLoad(t *testing.T) {
	c, err := config.LoadBytes(filepath.Join(t.TempDir(), "maildlp.toml"),
		[]byte("[milter]\nlisten = [\"inet:0@127.0.0.1\"]\nallow = [\"127.0.0.2\", \"::ffff:192.0.2.0/120\"]\nmax_sessions = 3\n"), detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	s := New(c.Milter, func() *policy.Engine { return nil })
	for ip, want := range map[string]bool{"127.0.0.1": false, "127.0.0.2": true, "192.0.2.9": true, "::1": false} {
		if got := s.allowed(&net.TCPAddr{IP: net.ParseIP(ip)}); got != want {
			t.Errorf("allowed(%s) = %v, want %v", ip, got, want)
		}
	}
	if s.o.cfg.MaxSessions != 3 {
		t.Errorf("max_sessions = %d, want 3", s.o.cfg.MaxSessions)
	}
	ln, err := ListenAddr(c.Milter.Listen[0], 0, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if a := ln.Addr().(*net.TCPAddr); !a.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("listening on %s, want 127.0.0.1", a)
	}
}
