package config

import (
	"strings"
	"testing"
	"time"

	"github.com/maildlp/maildlp/policy/detect"
)

func TestOpsSectionsDefaults(t *testing.T) {
	c, err := LoadBytes("maildlp.toml", []byte(""), detect.IsBuiltin)
	if err != nil {
		t.Fatalf("LoadBytes(empty) = %v", err)
	}
	if c.Incidents.Sync != "interval" || c.Incidents.SyncInterval.D() != time.Second {
		t.Errorf("incidents defaults = %+v", c.Incidents)
	}
	n := c.Notify
	if n.RetryMin.D() != 30*time.Second || n.RetryMax.D() != 30*time.Minute || n.MaxAge.D() != 120*time.Hour || n.Concurrency != 4 || n.Timeout.D() != 2*time.Minute || n.MaxQueued != 100000 {
		t.Errorf("notify defaults = %+v", n)
	}
}

func TestOpsSectionsErrors(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{"[incidents]\nsync = \"sometimes\"\n", `maildlp.toml:2: incidents.sync: unknown sync mode "sometimes"`},
		{"[notify]\nrelay = \"127.0.0.1:25\"\nfrom = \"dlp@example.com\"\n", "maildlp.toml:1: notify.outbox_dir: must be set when notify.relay is"},
		{"[notify]\nrelay = \"127.0.0.1:25\"\noutbox_dir = \"/var/lib/maildlp/outbox\"\n", "notify.from: must be set"},
		{"[notify]\nretry_min = \"1h\"\nretry_max = \"1m\"\n", "maildlp.toml:3: notify.retry_max: 1m0s is shorter than retry_min 1h0m0s"},
		{"[notify]\nconcurrency = 1000\n", "maildlp.toml:2: notify.concurrency: 1000 out of range"},
		{"[notify]\nmax_queued = -1\n", "maildlp.toml:2: notify.max_queued: -1 must be at least 1"},
	} {
		_, err := LoadBytes("maildlp.toml", []byte(tc.conf), detect.IsBuiltin)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadBytes(%q) error = %v, want it to contain %q", tc.conf, err, tc.want)
		}
	}
}
