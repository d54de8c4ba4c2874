package policy

import (
	"context"
	"errors"
)

// ErrNoSlot reports that no scan slot came free before the caller gave up.
var ErrNoSlot = errors.New("policy: no scan slot free (max_concurrent_scans)")

// Slots bounds the scans that run at once in the process, across both
// front ends and across engine reloads: scans are CPU- and memory-bound,
// and a sender who can start more of them than there are processors only
// makes every scan slower and the process larger.
//
// A front end takes a slot before it calls [Engine.Evaluate] and gives it
// back when Evaluate has returned, never when the front end stopped
// waiting: a scan it abandoned at its deadline still runs (it was
// cancelled and stops within a few milliseconds) and still holds its
// slot, so abandoned scans and MTA retries cannot add up. A nil *Slots
// bounds nothing.
type Slots struct {
	ch chan struct{}
}

// NewSlots returns room for n concurrent scans (n < 1 means 1).
func NewSlots(n int) *Slots {
	return &Slots{ch: make(chan struct{}, max(n, 1))}
}

// Acquire waits for a free slot until ctx is done; then it returns
// ErrNoSlot and the caller holds nothing.
func (s *Slots) Acquire(ctx context.Context) error {
	if s == nil {
		return nil
	}
	select {
	case s.ch <- struct{}{}:
		return nil
	default:
	}
	select {
	case s.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ErrNoSlot
	}
}

// TryAcquire takes a slot if one is free now, without waiting; it
// reports whether it did (a nil *Slots always has one).
func (s *Slots) TryAcquire() bool {
	if s == nil {
		return true
	}
	select {
	case s.ch <- struct{}{}:
		return true
	default:
		return false
	}
}

// Release gives back a slot taken by Acquire or TryAcquire.
func (s *Slots) Release() {
	if s != nil {
		<-s.ch
	}
}

// InUse is the number of slots held.
func (s *Slots) InUse() int {
	if s == nil {
		return 0
	}
	return len(s.ch)
}

// Cap is the number of slots.
func (s *Slots) Cap() int {
	if s == nil {
		return 0
	}
	return cap(s.ch)
}
