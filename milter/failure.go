package milter

import "errors"

// Failure classes, recorded in report.Decision.Err (errors.Is works).
var (
	ErrScanTimeout = errors.New("milter: scan deadline exceeded")
	ErrOverload    = errors.New("milter: too many concurrent sessions")
	ErrEngine      = errors.New("milter: engine error")
	// ErrPassHeaders: more pass header fields than pass_header.max_incoming.
	ErrPassHeaders = errors.New("milter: too many incoming pass header fields")
	// ErrPassHeaderKept: the message arrived with a pass header and the MTA
	// did not grant the change-header action to remove it.
	ErrPassHeaderKept = errors.New("milter: incoming pass header cannot be removed")
	// ErrNUL is the cause recorded for a message refused for a NUL byte.
	ErrNUL = errors.New("milter: NUL byte in message data")
	// ErrHold: the message could not be held for the scan (its spill
	// file past limits.spill_bytes could not be created or written).
	ErrHold = errors.New("milter: message could not be held")
)
