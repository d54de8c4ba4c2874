package extract

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/maildlp/maildlp/internal/testutil"
)

// TestIssue7LyingZipAllocation: members that declare 200 MiB each but hold
// 4 KiB cost allocations in proportion to what they hold, not to what they
// declare.
func TestIssue7LyingZipAllocation(t *testing.T) {
	z := lyingZip(8<<10, 1<<20) // under max_decompressed_bytes, so each member is read
	zr, err := zipReader(z)
	if err != nil {
		t.Fatal(err)
	}
	real := int64(len(zr.File)) * 4096 // each member inflates to 4 KiB
	msg := attach("a.zip", "application/zip", z)
	lim := DefaultLimits()
	run(t, msg, lim) // warm the inflater pool
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := run(t, msg, lim)
	runtime.ReadMemStats(&after)
	alloc := int64(after.TotalAlloc - before.TotalAlloc)
	t.Logf("%d members, %d bytes real, %d bytes message: %d bytes allocated", len(zr.File), real, len(msg), alloc)
	if bound := 8 * (real + int64(len(msg))); alloc > bound {
		t.Errorf("Extract allocated %d bytes for %d real bytes declared as 1 MiB each, want at most %d", alloc, real, bound)
	}
	if len(res.Parts) < len(zr.File) {
		t.Errorf("%d parts, want the %d members read:\n%s", len(res.Parts), len(zr.File), dump(res))
	}
}

// TestIssue7ScanMemory: a member that needs more buffer than max_scan_memory
// is too_large with a detail naming the limit; one that fits is read; the
// budget is given back after each member.
func TestIssue7ScanMemory(t *testing.T) {
	big := bytes.Repeat([]byte("a "+card+"\n"), 40000) // 720 KB
	msg := attach("a.zip", "application/zip", testutil.Zip(
		testutil.File{Name: "1.txt", Data: big},
		testutil.File{Name: "2.txt", Data: big},
	))
	for _, tc := range []struct {
		memory int64
		read   bool
	}{
		{memory: 4 << 20, read: true},    // each member fits, one after the other
		{memory: 256 << 10, read: false}, // neither fits
	} {
		lim := DefaultLimits()
		lim.MaxScanMemory = tc.memory
		res := run(t, msg, lim)
		for _, name := range []string{"1.txt", "2.txt"} {
			loc := `attachment "a.zip" > "` + name + `"`
			_, found := textAt(res, loc)
			tooLarge := hasUnscannable(res, loc, TooLarge)
			if found != tc.read || tooLarge == tc.read {
				t.Errorf("max_scan_memory %d: %s read %v, too_large %v; want read %v:\n%s", tc.memory, name, found, tooLarge, tc.read, dump(res))
			}
		}
		for _, u := range res.Unscannable {
			if u.Reason == TooLarge && !strings.Contains(u.Detail, "max_scan_memory") {
				t.Errorf("detail %q does not name max_scan_memory", u.Detail)
			}
		}
	}
}

// TestIssue7TNEFLyingRTFSize: compressed RTF whose header declares 192 MiB
// costs what its data expands to; one declaring more than the
// decompression room is too_large, not a parse error.
func TestIssue7TNEFLyingRTFSize(t *testing.T) {
	rtf := func(raw uint32) []byte {
		b := []byte{0, 0, 0, 0, byte(raw), byte(raw >> 8), byte(raw >> 16), byte(raw >> 24), 'L', 'Z', 'F', 'u', 0, 0, 0, 0}
		return append(b, 0x00, 'h', 'i', ' ', 'x', 'y', 'z', '!', '!')
	}
	msg := func(raw uint32) []byte {
		return attach("winmail.dat", "application/ms-tnef", testutil.TNEF(testutil.TNEFAttr{Level: 1, ID: 0x00069003, Data: testutil.MAPIBinary(0x1009, rtf(raw))}))
	}
	lim := DefaultLimits()
	small := msg(192 << 20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := run(t, small, lim)
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("a 9-byte RTF body declaring 192 MiB: %d bytes allocated, want under 1 MiB", alloc)
	}
	if got, _ := textAt(res, `attachment "winmail.dat" > body`); !strings.Contains(got, "hi xyz") {
		t.Errorf("body text %q, want the decompressed text:\n%s", got, dump(res))
	}
	res = run(t, msg(1<<30), lim)
	if !hasUnscannable(res, `attachment "winmail.dat" > body`, TooLarge) {
		t.Errorf("RTF declaring 1 GiB: want too_large:\n%s", dump(res))
	}
}
