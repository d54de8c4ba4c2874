package fsutil

import (
	"os"

	"golang.org/x/sys/unix"
)

// openUnnamed opens a file in dir that has no name (O_TMPFILE): one
// system call instead of a create and an unlink. It fails where the file
// system cannot (TempUnnamed then creates and unlinks a named file).
func openUnnamed(dir string) (*os.File, error) {
	return os.OpenFile(dir, os.O_RDWR|unix.O_TMPFILE, 0o600)
}
