package app

import (
	"bufio"
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/maildlp/maildlp/config"
)

// cgroupRoot is where the cgroup v2 hierarchy is mounted (tests change it).
var cgroupRoot = "/sys/fs/cgroup"

// applyMemoryLimit sets the Go runtime's soft memory limit: the
// GOMEMLIMIT environment variable when set (the runtime has applied it),
// else [limits] memory_limit, else three quarters of the cgroup's
// memory.max (systemd MemoryMax=), else config.DefaultMemoryLimit. Near
// the soft limit the garbage collector runs more often instead of letting
// the heap grow towards the hard limit, where the kernel would kill the
// process. It returns the limit and where it came from.
func applyMemoryLimit(l config.Limits, log *slog.Logger) (int64, string) {
	if os.Getenv("GOMEMLIMIT") != "" {
		limit := debug.SetMemoryLimit(-1)
		log.Info("memory limit", "bytes", limit, "from", "GOMEMLIMIT")
		return limit, "GOMEMLIMIT"
	}
	limit, from := int64(l.MemoryLimit), "memory_limit"
	if limit == 0 {
		if max, ok := cgroupMemoryMax(); ok {
			limit, from = max/4*3, "cgroup memory.max"
		} else {
			limit, from = config.DefaultMemoryLimit, "default"
		}
	}
	debug.SetMemoryLimit(limit)
	log.Info("memory limit", "bytes", limit, "from", from)
	return limit, from
}

// cgroupMemoryMax is the memory.max of this process's cgroup (v2), if it
// has one that is not "max".
func cgroupMemoryMax() (int64, bool) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// cgroup v2: "0::/system.slice/maildlp.service"
		rest, ok := strings.CutPrefix(sc.Text(), "0::")
		if !ok {
			continue
		}
		return readMemoryMax(filepath.Join(cgroupRoot, rest, "memory.max"))
	}
	return 0, false
}

func readMemoryMax(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil || v <= 0 {
		return 0, false // "max": no limit
	}
	return v, true
}
