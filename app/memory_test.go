package app

import (
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/maildlp/maildlp/config"
)

// TestIssue7MemoryLimit: the soft memory limit comes from GOMEMLIMIT when
// set, else from [limits] memory_limit, and is applied to the runtime.
func TestIssue7MemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	log := slog.New(slog.DiscardHandler)

	t.Setenv("GOMEMLIMIT", "")
	got, from := applyMemoryLimit(config.Limits{MemoryLimit: 512 << 20}, log)
	if got != 512<<20 || from != "memory_limit" || debug.SetMemoryLimit(-1) != 512<<20 {
		t.Errorf("memory_limit 512MiB: got %d from %s, runtime %d", got, from, debug.SetMemoryLimit(-1))
	}
	got, from = applyMemoryLimit(config.Limits{}, log)
	if from != "default" && from != "cgroup memory.max" || got <= 0 {
		t.Errorf("default: got %d from %s", got, from)
	}

	t.Setenv("GOMEMLIMIT", "300MiB")
	before := debug.SetMemoryLimit(-1)
	if _, from := applyMemoryLimit(config.Limits{MemoryLimit: 512 << 20}, log); from != "GOMEMLIMIT" || debug.SetMemoryLimit(-1) != before {
		t.Errorf("GOMEMLIMIT set: limit from %s, runtime changed to %d", from, debug.SetMemoryLimit(-1))
	}
}

func TestIssue7CgroupMemoryMax(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		content string
		want    int64
		ok      bool
	}{{"2147483648\n", 2 << 30, true}, {"max\n", 0, false}, {"", 0, false}} {
		p := filepath.Join(dir, "memory.max")
		os.WriteFile(p, []byte(tt.content), 0o644)
		if got, ok := readMemoryMax(p); got != tt.want || ok != tt.ok {
			t.Errorf("memory.max %q = %d, %v; want %d, %v", tt.content, got, ok, tt.want, tt.ok)
		}
	}
}
