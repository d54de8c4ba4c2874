package milter

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
)

// TestIssue7AbandonedScanHoldsSlot: a scan the milter stopped waiting for
// at its deadline keeps its slot until it has really returned, so the next
// message waits for a slot (and gets on_overload when none comes free),
// and abandoned scans cannot pile up.
func TestIssue7AbandonedScanHoldsSlot(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	eng := &fakeEngine{evaluate: func(ctx context.Context, m policy.Message) action.Verdict {
		io.Copy(io.Discard, m.Body)
		<-release // a scan that does not look at ctx
		return action.Verdict{Action: action.Pass}
	}}
	slots := policy.NewSlots(1)
	rec := &recorder{}
	_, addr := startServer(t, eng, WithRecorder(rec), WithScanSlots(slots), WithLimits(100*time.Millisecond))

	r := simpleMessage().send(t, addr)
	if r.end == nil || r.end.SMTPCode != 451 {
		t.Fatalf("first message: %v, want 451 at the deadline", r.end)
	}
	if ds := waitDecisions(t, rec, 1); !errors.Is(ds[0].Err, ErrScanTimeout) {
		t.Fatalf("first decision error = %v, want ErrScanTimeout", ds[0].Err)
	}
	if n := slots.InUse(); n != 1 {
		t.Fatalf("slots in use after the front end gave up = %d, want 1 (the scan still runs)", n)
	}

	r = simpleMessage().send(t, addr)
	if r.end == nil || r.end.SMTPCode != 451 {
		t.Fatalf("second message: %v, want 451 (no slot)", r.end)
	}
	ds := waitDecisions(t, rec, 2)
	if !errors.Is(ds[1].Err, ErrOverload) || !errors.Is(ds[1].Err, policy.ErrNoSlot) || ds[1].Applied != action.TempFail {
		t.Fatalf("second decision = %v %v, want on_overload (no scan slot)", ds[1].Applied, ds[1].Err)
	}
	if calls, _, _ := eng.snapshot(); calls != 1 {
		t.Fatalf("engine calls = %d, want 1: the second scan never got a slot", calls)
	}

	once.Do(func() { close(release) })
	waitFor(t, func() bool { return slots.InUse() == 0 })
	r = simpleMessage().send(t, addr)
	if r.end == nil || r.end.Type != gomilter.ActionAccept {
		t.Fatalf("third message: %v, want accept once the slot is free", r.end)
	}
}

// TestIssue7OverloadOutcomeQuarantine: no slot within the deadline takes
// the configured on_overload outcome.
func TestIssue7OverloadOutcomeQuarantine(t *testing.T) {
	slots := policy.NewSlots(1)
	if err := slots.Acquire(context.Background()); err != nil { // held by another scan
		t.Fatal(err)
	}
	defer slots.Release()
	rec := &recorder{}
	_, addr := startServer(t, &fakeEngine{}, WithRecorder(rec), WithScanSlots(slots),
		WithLimits(50*time.Millisecond), WithFailure(config.Failure{OnOverload: config.OutcomeQuarantine}))
	r := simpleMessage().send(t, addr)
	if r.end == nil || r.end.Type != gomilter.ActionAccept || len(r.mods) != 1 || !strings.Contains(r.mods[0].String(), "too many concurrent scans") {
		t.Fatalf("end = %v, mods = %v; want accept with a quarantine naming the scan limit", r.end, modStrings(r.mods))
	}
	if ds := waitDecisions(t, rec, 1); ds[0].Applied != action.Quarantine || !errors.Is(ds[0].Err, policy.ErrNoSlot) {
		t.Fatalf("decision = %v %v", ds[0].Applied, ds[0].Err)
	}
}

// TestIssue7HostileScanStops: a message the real engine cannot finish
// within the milter's deadline ends with the on_timeout outcome, and its
// scan stops: the engine returns a cancelled verdict (it did not run to
// the end, and not to its own, later deadline).
func TestIssue7HostileScanStops(t *testing.T) {
	cfg, err := config.Default(detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	real, err := policy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan action.Verdict, 1)
	eng := &fakeEngine{evaluate: func(ctx context.Context, m policy.Message) action.Verdict {
		v := real.Evaluate(ctx, m)
		done <- v
		return v
	}}
	rec := &recorder{}
	_, addr := startServer(t, eng, WithRecorder(rec), WithLimits(20*time.Millisecond))
	m := simpleMessage()
	m.body = []byte(strings.Repeat("card 4111 1111 1111 1111 and 5555-5555-5555-4444, IBAN DE89 3704 0044 0532 0130 00\r\n", (16<<20)/84))
	r := m.send(t, addr)
	if r.end == nil || r.end.SMTPCode != 451 {
		t.Fatalf("end = %v, want 451 (on_timeout)", r.end)
	}
	if ds := waitDecisions(t, rec, 1); !errors.Is(ds[0].Err, ErrScanTimeout) {
		t.Fatalf("decision error = %v, want ErrScanTimeout", ds[0].Err)
	}
	select {
	case v := <-done:
		if !errors.Is(v.Err, context.Canceled) {
			t.Fatalf("abandoned scan returned %v, %v, %d detections; want it cancelled", v.Action, v.Err, len(v.Detections))
		}
	case <-time.After(cfg.Limits.ScanTimeout.D()):
		t.Fatal("the abandoned scan did not stop")
	}
}

// TestIssue7NULRefused: a NUL byte in the message gets a permanent,
// explained refusal, not a scan whose outcome depends on how the engine
// reads the bytes around it.
func TestIssue7NULRefused(t *testing.T) {
	eng := &fakeEngine{}
	rec := &recorder{}
	_, addr := startServer(t, eng, WithRecorder(rec))
	m := simpleMessage()
	m.body = []byte("card 4111\x001111 1111 1111\r\n")
	r := m.send(t, addr)
	if r.end == nil || r.end.SMTPCode != 550 || !strings.Contains(r.end.SMTPReply, "5.6.0") || !strings.Contains(r.end.SMTPReply, "NUL byte") {
		t.Fatalf("end = %v, want 550 5.6.0 naming the NUL byte", r.end)
	}
	if ds := waitDecisions(t, rec, 1); ds[0].Applied != action.Block || !errors.Is(ds[0].Err, ErrNUL) {
		t.Fatalf("decision = %v %v, want block ErrNUL", ds[0].Applied, ds[0].Err)
	}
	if calls, _, _ := eng.snapshot(); calls != 0 {
		t.Errorf("engine calls = %d, want 0", calls)
	}
	// The same session's next message is scanned as usual.
	if r := simpleMessage().send(t, addr); r.end == nil || r.end.Type != gomilter.ActionAccept {
		t.Fatalf("clean message after: %v", r.end)
	}
}

// TestIssue7PacketLengthNotTrusted: a peer that declares a huge packet
// has its connection closed before the length is allocated; one that
// declares an empty packet (which go-milter would index, panicking
// outside any recover) too.
func TestIssue7PacketLengthNotTrusted(t *testing.T) {
	_, addr := startServer(t, &fakeEngine{})
	for _, declared := range []uint32{512 << 20, 64 << 20, config.DefaultMilterMaxPacket + 1, 0} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		hdr := binary.BigEndian.AppendUint32(nil, declared)
		c.Write(append(hdr, 'O', 0, 0, 0, 6))
		n, err := c.Read(make([]byte, 64))
		c.Close()
		if err == nil || n != 0 {
			t.Fatalf("declared %d: read %d, %v; want the connection closed", declared, n, err)
		}
		runtime.ReadMemStats(&after)
		if grown := after.TotalAlloc - before.TotalAlloc; grown > 16<<20 {
			t.Errorf("declared %d bytes: %d bytes allocated", declared, grown)
		}
	}
	// A normal session still works.
	if r := simpleMessage().send(t, addr); r.end == nil || r.end.Type != gomilter.ActionAccept {
		t.Fatalf("session after: %v", r.end)
	}
}
