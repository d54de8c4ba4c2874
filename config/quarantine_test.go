package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestQuarantineSection(t *testing.T) {
	dir := t.TempDir()
	c, err := LoadBytes(filepath.Join(dir, "m.toml"), []byte("[quarantine]\n"))
	if err != nil {
		t.Fatal(err)
	}
	q := c.Quarantine
	if q.MTA != "postfix" || time.Duration(q.PollInterval) != time.Second ||
		time.Duration(*q.SyncInterval) != 30*time.Second || !*q.Worker || q.MaxListingBytes != 64<<20 || q.SendmailQueueDir != "/var/spool/mqueue" {
		t.Errorf("defaults: %+v", q)
	}
	for _, tc := range []struct{ in, want string }{
		{"[quarantine]\nmta = \"exim\"\n", `m.toml:2: quarantine.mta: "exim" is not one of postfix, sendmail`},
		{"[quarantine]\npostfix_config_dir = \"etc/postfix\"\n", "not an absolute path"},
		{"[quarantine]\npoll_interval = \"1ms\"\n", "at least 10ms"},
		{"[reinject]\nenabled = true\nquarantine_action = \"hold\"\n", "needs a hold mark key"},
	} {
		_, err := LoadBytes(filepath.Join(dir, "m.toml"), []byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadBytes(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
	key := filepath.Join(dir, "hold.key")
	os.WriteFile(key, []byte("short\n"), 0o600)
	in := "[reinject]\nenabled = true\nquarantine_action = \"hold\"\n[quarantine]\nhold_key_file = \"" + key + "\"\n"
	if _, err := LoadBytes(filepath.Join(dir, "m.toml"), []byte(in)); err == nil || !strings.Contains(err.Error(), "shorter than 16") {
		t.Errorf("short key: %v", err)
	}
	os.WriteFile(key, []byte("0123456789abcdef0123\n"), 0o600)
	c, err = LoadBytes(filepath.Join(dir, "m.toml"), []byte(in))
	if err != nil {
		t.Fatalf("good key: %v", err)
	}
	if k, err := c.Quarantine.HoldKey(); err != nil || string(k) != "0123456789abcdef0123" {
		t.Errorf("HoldKey = %q, %v", k, err)
	}
}
