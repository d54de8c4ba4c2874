package policy

import (
	"context"
	"testing"
)

func TestSlotsTryAcquire(t *testing.T) {
	s := NewSlots(1)
	if !s.TryAcquire() {
		t.Fatal("TryAcquire on a free slot = false")
	}
	if s.TryAcquire() {
		t.Fatal("TryAcquire with every slot held = true")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Acquire(ctx); err == nil {
		t.Fatal("Acquire with every slot held and ctx done = nil")
	}
	s.Release()
	if !s.TryAcquire() || s.InUse() != 1 {
		t.Fatalf("TryAcquire after Release: in use %d, want 1", s.InUse())
	}
	var none *Slots
	if !none.TryAcquire() {
		t.Error("nil Slots: TryAcquire = false, want true (bounds nothing)")
	}
}
