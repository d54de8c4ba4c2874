package ingest

import (
	"fmt"
	"os"
	"testing"
)

// TestReviewQueueShortTornFrameInOldSegment: a segment that is no longer
// the tail and ends in a piece of a frame header (a failed append whose
// cut failed too) is skipped from there like any damaged frame; reading
// it failed every time, and the writer never got past it.
func TestReviewQueueShortTornFrameInOldSegment(t *testing.T) {
	dir := t.TempDir()
	q := openTestQueue(t, dir, 1<<30)
	q.segBytes = 100
	if err := q.Append(fmt.Appendf(nil, "first %0100d", 1)); err != nil {
		t.Fatal(err)
	}
	seg := q.tailSeg
	if err := q.Append([]byte("second")); err != nil { // a new segment
		t.Fatal(err)
	}
	if q.tailSeg == seg {
		t.Fatal("no new segment")
	}
	q.Close()
	f, err := os.OpenFile(q.segPath(seg), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0, 0, 1})
	f.Close()
	q = openTestQueue(t, dir, 1<<30)
	defer q.Close()
	es, err := q.Read(q.Start(), 10)
	if err != nil || len(es) != 2 || string(es[1].Data) != "second" {
		t.Fatalf("Read = %d records, %v; want both", len(es), err)
	}
	if q.Corrupt() != 1 {
		t.Errorf("corrupt = %d, want 1", q.Corrupt())
	}
}
