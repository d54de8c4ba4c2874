package config

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/policy/detect"
)

// TestIssue7ProcessLimits: the process-wide limits load, default and
// validate like the others.
func TestIssue7ProcessLimits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "maildlp.toml")
	c, err := LoadBytes(path, []byte("[limits]\nmax_concurrent_scans = 3\nmemory_limit = \"512MiB\"\n[milter]\nmax_packet_bytes = \"2MiB\"\n"), detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	if c.Limits.ScanSlots() != 3 || c.Limits.MemoryLimit != 512<<20 || c.Milter.WithDefaults().MaxPacketBytes != 2<<20 {
		t.Errorf("loaded %d slots, memory %d, packet %d", c.Limits.ScanSlots(), c.Limits.MemoryLimit, c.Milter.WithDefaults().MaxPacketBytes)
	}
	d, err := Default(detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Limits.ScanSlots(), max(2, runtime.GOMAXPROCS(0)); got != want {
		t.Errorf("default scan slots = %d, want %d", got, want)
	}
	if d.Milter.WithDefaults().MaxPacketBytes != DefaultMilterMaxPacket {
		t.Errorf("default max_packet_bytes = %d", d.Milter.WithDefaults().MaxPacketBytes)
	}
	_, err = LoadBytes(path, []byte("[limits]\nmax_concurrent_scans = -1\n"), detect.IsBuiltin)
	if err == nil || !strings.Contains(err.Error(), "max_concurrent_scans") {
		t.Errorf("negative max_concurrent_scans: %v", err)
	}
}
