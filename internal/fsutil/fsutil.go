// Package fsutil holds the file operations several packages need with the
// same guarantees: a file replaced atomically and durably, a directory
// synced, a temporary file that leaves nothing behind.
package fsutil

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteAtomic writes data to path so that a reader sees the old file or
// the new one, never a part, and a crash after it returns loses neither:
// a temporary file beside path (named by pattern, as os.CreateTemp), set
// to perm, written, synced, renamed over path, then the directory synced.
// A file already mapped or open by a reader keeps its old contents.
func WriteAtomic(path string, data []byte, perm os.FileMode, pattern string) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		return SyncDir(dir)
	}
	os.Remove(tmp)
	return err
}

// SyncDir makes the entries of dir (a rename, a new file) durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}

// TempUnnamed opens a read-write file in dir ("": os.TempDir) that has
// no name, so that nothing is left behind whatever happens to the
// process; its space goes with its last descriptor. On Linux that is one
// system call (O_TMPFILE); where the file system or the system cannot, a
// named file is created and unlinked at once.
func TempUnnamed(dir string) (*os.File, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	if f, err := openUnnamed(dir); err == nil {
		return f, nil
	}
	f, err := os.CreateTemp(dir, "maildlp-msg-*")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
