package reinject

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/detect"
)

// loadReinject loads a main config with the given [reinject] keys, as the
// service does.
func loadReinject(t *testing.T, keys string) config.Reinject {
	t.Helper()
	c, err := config.LoadBytes(filepath.Join(t.TempDir(), "maildlp.toml"), []byte("[reinject]\nhelo_name = \"hop.test\"\n"+keys), detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	return c.Reinject
}

// mustHops parses next_hops entries.
func mustHops(t testing.TB, hops ...string) []config.NextHop {
	t.Helper()
	out := make([]config.NextHop, len(hops))
	for i, h := range hops {
		if err := out[i].UnmarshalText([]byte(h)); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestIssue9AllowParsedAtLoad: the allowlist the hop applies is the one
// parsed when the config was loaded.
func TestIssue9AllowParsedAtLoad(t *testing.T) {
	mta := newFakeMTA(t, nil)
	for _, tt := range []struct {
		allow string
		want  string
	}{
		{`["127.0.0.2"]`, "554 5.7.1 "},
		{`["127.0.0.0/30"]`, "220 "},
		{`["::ffff:127.0.0.1"]`, "220 "}, // an IPv4-mapped entry is its IPv4 address
	} {
		cfg := loadReinject(t, fmt.Sprintf("reflect_to = %q\nallow = %s\n", mta.addr(), tt.allow))
		_, addr := startHop(t, &fakeEngine{}, cfg)
		up := dialUp(t, addr)
		if got := up.read(); !strings.HasPrefix(got, tt.want) {
			t.Errorf("allow = %s: greeting to 127.0.0.1 = %q, want %q", tt.allow, got, tt.want)
		}
	}
}

// TestIssue9NextHopParsedAtLoad: in forwarding mode the hop delivers to
// the next hop parsed at load.
func TestIssue9NextHopParsedAtLoad(t *testing.T) {
	mta := newFakeMTA(t, nil)
	cfg := loadReinject(t, fmt.Sprintf("mode = \"forward\"\nnext_hops = [%q]\n", mta.addr()))
	if len(cfg.NextHops) != 1 || cfg.NextHops[0].MX {
		t.Fatalf("next_hops = %+v", cfg.NextHops)
	}
	_, addr := startHop(t, &fakeEngine{}, cfg)
	up := dialUp(t, addr)
	up.hello()
	if got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg); !strings.HasPrefix(got, "250") {
		t.Fatalf("final reply = %q, want 250 from the next hop", got)
	}
}
