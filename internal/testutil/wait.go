package testutil

import (
	"testing"
	"time"
)

// WaitTimeout bounds [WaitFor]. A condition that needs longer on a loaded
// machine is waiting for the wrong thing.
const WaitTimeout = 10 * time.Second

// WaitFor polls cond until it holds and fails the test, naming what it
// waited for, when it has not held within [WaitTimeout]. It waits for
// something to happen; it cannot show that something did not: for that,
// give the code under test a clock, a channel or a counter.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !Poll(WaitTimeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", WaitTimeout, what)
	}
}

// Poll calls cond until it returns true or timeout has passed, and says
// whether it returned true. The pause between calls grows from 1ms to
// 50ms, so a quick condition is seen at once and a slow one costs little.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}
