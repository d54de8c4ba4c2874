//go:build !linux

package detect

import "time"

func threadCPU() (time.Duration, bool) { return 0, false }
