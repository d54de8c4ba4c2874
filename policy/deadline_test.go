package policy

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy/detect"
	"github.com/maildlp/maildlp/policy/extract"
)

// countingEngine is an engine over one text part whose scanner counts the
// bytes it was given and may act after each call.
func countingEngine(t *testing.T, doc, text string, after func(calls int)) (*Engine, *int) {
	t.Helper()
	cfg, err := config.LoadBytes(filepath.Join(t.TempDir(), "maildlp.toml"), []byte(doc), detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	scanned, calls := 0, 0
	var mu sync.Mutex
	scan := func(s string, dst []detect.Match) []detect.Match {
		mu.Lock()
		scanned += len(s)
		calls++
		n := calls
		mu.Unlock()
		dst = fakeScan(s[:min(len(s), 4096)], dst) // cheap: the test counts bytes given
		if after != nil {
			after(n)
		}
		return dst
	}
	e, err := compile(cfg, scan, func(ctx context.Context, r io.Reader, lim extract.Limits) (*extract.Result, error) {
		io.Copy(io.Discard, r)
		return body(text), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, &scanned
}

// TestIssue7DetectionStopsWhenCancelled: a front end that gives up on a
// scan cancels its context; detection over a large part stops at the next
// window instead of scanning the rest, and the verdict is an error (no
// one waits for it), not a decision.
func TestIssue7DetectionStopsWhenCancelled(t *testing.T) {
	text := strings.Repeat("card credit_card:5555555555554444 filler text. ", (16<<20)/48)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, scanned := countingEngine(t, pci, text, func(calls int) {
		if calls == 1 {
			cancel()
		}
	})
	v := e.Evaluate(ctx, Message{Envelope: env, Body: strings.NewReader("x")})
	if !errors.Is(v.Err, context.Canceled) {
		t.Fatalf("verdict = %v, err %v; want a cancelled scan", v.Action, v.Err)
	}
	if max := detectChunk + 2*detectOverlap; *scanned > max {
		t.Errorf("scanned %d bytes of %d after cancellation, want at most one window (%d)", *scanned, len(text), max)
	}
}

// TestIssue7DetectionDeadline: the deadline passing during detection
// leaves the rest of the part unscannable (timeout), never silently
// passed, and what was found before it still counts.
func TestIssue7DetectionDeadline(t *testing.T) {
	text := strings.Repeat("card credit_card:5555555555554444 filler text. ", (16<<20)/48)
	const timeout = 200 * time.Millisecond
	e, scanned := countingEngine(t, pci+"\n[limits]\nscan_timeout = \"200ms\"\n", text, func(calls int) {
		if calls == 2 {
			time.Sleep(timeout + 50*time.Millisecond) // the deadline passes
		}
	})
	v := e.Evaluate(context.Background(), Message{Envelope: env, Body: strings.NewReader("x")})
	if v.Err != nil {
		t.Fatalf("err = %v, want a verdict", v.Err)
	}
	if len(v.Unscannable) == 0 || v.Unscannable[0].Reason != string(extract.Timeout) {
		t.Errorf("unscannable = %v, want a timeout", v.Unscannable)
	}
	if len(v.Detections) == 0 {
		t.Errorf("no detections from the windows scanned before the deadline")
	}
	if max := 2 * (detectChunk + 2*detectOverlap); *scanned > max {
		t.Errorf("scanned %d bytes of %d, want at most two windows (%d)", *scanned, len(text), max)
	}
}

// TestIssue7DetectionWindows: a part scanned in windows gives the same
// matches, at the same offsets, as one pass over it.
func TestIssue7DetectionWindows(t *testing.T) {
	var b strings.Builder
	for b.Len() < 3*detectChunk+5000 {
		b.WriteString("some words credit_card:5555555555554444 more words ")
	}
	text := b.String()
	e := engineFor(t, pci, body(text))
	got, whole := e.detect(context.Background(), text, nil)
	want := fakeScan(text, nil)
	if !whole || len(got) != len(want) {
		t.Fatalf("windows found %d matches (whole %v), one pass %d", len(got), whole, len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("match %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
