package outbox

import "time"

// Clock is the outbox's time. The schedule of every notice (when it is
// due, its backoff, its age against max_age) and the Run loop's wait for
// the next due notice all read it, so that a test moves time instead of
// sleeping through it. Connection deadlines of a delivery attempt stay on
// the system clock: they bound real network I/O.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// systemClock is the default [Clock]: the time of the system.
type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
