package ingest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func frame(data []byte) []byte {
	f := make([]byte, headerBytes+len(data))
	binary.BigEndian.PutUint32(f[:4], uint32(len(data)))
	binary.BigEndian.PutUint32(f[4:8], crc32.Checksum(data, crcTable))
	copy(f[headerBytes:], data)
	return f
}

// FuzzQueueSegment opens a queue whose only segment holds arbitrary bytes
// (a crash, a damaged disk). Oracle: every record read is a whole frame
// of the input with a valid checksum, in order; the queue's byte count
// never goes negative; and a record appended afterwards is read back
// last, byte for byte, also after a reopen.
func FuzzQueueSegment(f *testing.F) {
	f.Add([]byte{})
	f.Add(frame([]byte("one")))
	f.Add(append(frame([]byte("one")), frame([]byte("two"))...))
	f.Add(append(frame([]byte("one")), 0, 0, 0, 9, 1))
	f.Add(append(frame([]byte("one")), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0))
	bad := frame([]byte("bad"))
	bad[5] ^= 1
	f.Add(append(bad, frame([]byte("after"))...))
	f.Fuzz(func(t *testing.T, seg []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "00000000000000000001.seg"), seg, 0o640); err != nil {
			t.Fatal(err)
		}
		q, err := OpenQueue(dir, 1<<30, time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		es, err := q.Read(q.Start(), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		off := int64(0)
		for _, e := range es {
			end := e.End.Off
			if end <= off || end > int64(len(seg)) || !bytes.Equal(seg[end-int64(len(e.Data)):end], e.Data) {
				t.Fatalf("record %q ending at %d is not a frame of the input", e.Data, end)
			}
			if !bytes.Equal(frame(e.Data), seg[end-int64(len(e.Data))-headerBytes:end]) {
				t.Fatalf("record %q read from a frame with a bad header", e.Data)
			}
			off = end
		}
		if q.Bytes() < 0 {
			t.Fatalf("Bytes = %d", q.Bytes())
		}
		if err := q.Append([]byte("marker")); err != nil {
			t.Fatal(err)
		}
		q.Close()
		q, err = OpenQueue(dir, 1<<30, time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		es, err = q.Read(q.Start(), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 || string(es[len(es)-1].Data) != "marker" {
			t.Fatalf("appended record not read back last: %d records", len(es))
		}
		if q.Bytes() < 0 {
			t.Fatalf("Bytes = %d after reopen", q.Bytes())
		}
	})
}
