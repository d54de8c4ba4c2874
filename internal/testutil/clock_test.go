package testutil

import (
	"testing"
	"time"
)

func TestClockFiresOnlyWhenAdvancedPastDue(t *testing.T) {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	c := NewClock(start)
	ch := c.After(time.Minute)
	c.Advance(time.Minute - time.Nanosecond)
	select {
	case <-ch:
		t.Fatal("After(1m) fired when the clock had moved less than 1m")
	default:
	}
	c.Advance(time.Nanosecond)
	select {
	case got := <-ch:
		if want := start.Add(time.Minute); !got.Equal(want) {
			t.Errorf("After(1m) sent %v, want %v", got, want)
		}
	default:
		t.Fatal("After(1m) did not fire when the clock reached 1m")
	}
	if got := c.Now(); !got.Equal(start.Add(time.Minute)) {
		t.Errorf("Now = %v, want %v", got, start.Add(time.Minute))
	}
	select {
	case <-c.After(0):
	default:
		t.Error("After(0) did not fire at once")
	}
}

func TestPoll(t *testing.T) {
	n := 0
	if !Poll(time.Second, func() bool { n++; return n == 3 }) || n != 3 {
		t.Errorf("Poll stopped after %d calls, want true after 3", n)
	}
	if Poll(0, func() bool { return false }) {
		t.Error("Poll of a condition that never holds returned true")
	}
}
