//go:build !linux

package fsutil

import (
	"errors"
	"os"
)

// openUnnamed is Linux's O_TMPFILE; elsewhere the caller creates and
// unlinks a named file (TempUnnamed).
func openUnnamed(string) (*os.File, error) { return nil, errors.ErrUnsupported }
