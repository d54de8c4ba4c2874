//go:build !linux

package reinject

import (
	"errors"
	"os"
)

// openUnnamed is Linux's O_TMPFILE; elsewhere the caller creates and
// unlinks a named file.
func openUnnamed(string) (*os.File, error) { return nil, errors.ErrUnsupported }
