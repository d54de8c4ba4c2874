package ingest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func openTestQueue(t *testing.T, dir string, max int64) *Queue {
	t.Helper()
	q, err := OpenQueue(dir, max, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func readAll(t *testing.T, q *Queue) []Entry {
	t.Helper()
	es, err := q.Read(q.Start(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestIssue10QueueReplayAfterReopen(t *testing.T) {
	dir := t.TempDir()
	q := openTestQueue(t, dir, 1<<30)
	q.segBytes = 1000 // many segments
	for i := range 100 {
		if err := q.Append(fmt.Appendf(nil, "record %03d %s", i, make([]byte, 40))); err != nil {
			t.Fatal(err)
		}
	}
	es := readAll(t, q)
	if len(es) != 100 {
		t.Fatalf("read %d records, want 100", len(es))
	}
	// The store took the first 37.
	if err := q.Ack(es[36].End); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	q = openTestQueue(t, dir, 1<<30)
	defer q.Close()
	es = readAll(t, q)
	if len(es) != 63 || string(es[0].Data[:10]) != "record 037" || string(es[62].Data[:10]) != "record 099" {
		t.Fatalf("after reopen read %d records from %q", len(es), es[0].Data[:10])
	}
	if len(segs) >= 9 {
		t.Errorf("%d segments left after acknowledging 37 of 100 records in ~9 segments: consumed ones not deleted", len(segs))
	}
	want := int64(0)
	for _, e := range es {
		want += int64(len(e.Data)) + headerBytes
	}
	if q.Bytes() != want {
		t.Errorf("Bytes = %d, want %d", q.Bytes(), want)
	}
}

func TestIssue10QueueTornTail(t *testing.T) {
	dir := t.TempDir()
	q := openTestQueue(t, dir, 1<<30)
	for i := range 5 {
		q.Append(fmt.Appendf(nil, "r%d", i))
	}
	q.Close()
	// A crash in the middle of a write: half a frame at the end.
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	f, _ := os.OpenFile(segs[len(segs)-1], os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{0, 0, 0, 50, 1, 2, 3, 4, 'x'})
	f.Close()
	q = openTestQueue(t, dir, 1<<30)
	defer q.Close()
	q.Append([]byte("after"))
	es := readAll(t, q)
	if len(es) != 6 || string(es[5].Data) != "after" {
		t.Fatalf("read %d records, last %q; want 6 ending with after", len(es), es[len(es)-1].Data)
	}
	if q.Corrupt() != 0 {
		t.Errorf("Corrupt = %d", q.Corrupt())
	}
}

func TestIssue10QueueCorruptRecordCounted(t *testing.T) {
	dir := t.TempDir()
	q := openTestQueue(t, dir, 1<<30)
	q.Append([]byte("good one"))
	q.Append([]byte("bad one!"))
	q.Sync()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	f, _ := os.OpenFile(segs[0], os.O_WRONLY, 0)
	f.WriteAt([]byte("X"), int64(2*headerBytes+8+2)) // a byte of the second record
	f.Close()
	es := readAll(t, q)
	if len(es) != 1 || q.Corrupt() != 1 {
		t.Errorf("read %d records with %d corrupt; want 1 and 1", len(es), q.Corrupt())
	}
	q.Close()
}

func TestIssue10QueueBound(t *testing.T) {
	q := openTestQueue(t, t.TempDir(), 100)
	defer q.Close()
	rec := make([]byte, 42) // 50 bytes with its header
	if err := q.Append(rec); err != nil {
		t.Fatal(err)
	}
	if err := q.Append(rec); err != nil {
		t.Fatalf("second record (at the bound): %v", err)
	}
	if err := q.Append(rec); !errors.Is(err, ErrFull) {
		t.Fatalf("past the bound: %v, want ErrFull", err)
	}
	es := readAll(t, q)
	q.Ack(es[0].End)
	if err := q.Append(rec); err != nil {
		t.Fatalf("after an ack: %v", err)
	}
	if err := q.Append(make([]byte, MaxRecord+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("huge record: %v", err)
	}
}

func TestIssue10QueueOneProcess(t *testing.T) {
	dir := t.TempDir()
	q := openTestQueue(t, dir, 1<<20)
	defer q.Close()
	if _, err := OpenQueue(dir, 1<<20, time.Second, nil); err == nil {
		t.Fatal("a second open of the same queue succeeded")
	}
}
