package edm

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// Open maps an index file read-only and checks it against key (see
// [Parse]). The mapping is released by Close, or when the index is no
// longer reachable: an engine replaced by a reload keeps its index until
// its last scan ends.
func Open(path string, key *Key) (*Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("edm: open index: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("edm: open index: %w", err)
	}
	size := fi.Size()
	if size < headerSize+4 || size > 1<<40 {
		return nil, fmt.Errorf("%w: %s: size %d", ErrCorrupt, path, size)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("edm: map index %s: %w", path, err)
	}
	x, err := Parse(data, key)
	if err != nil {
		syscall.Munmap(data)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var once bool
	unmap := func(d []byte) {
		if !once {
			once = true
			syscall.Munmap(d)
		}
	}
	c := runtime.AddCleanup(x, unmap, data)
	x.unmap = func() {
		c.Stop()
		unmap(data)
	}
	return x, nil
}
