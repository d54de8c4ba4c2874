package reinject

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/policy/detect"
)

// blockingEngine reads the message, then waits for release whatever its
// context says (a scan that does not stop by itself).
type blockingEngine struct {
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	calls   int
}

func (b *blockingEngine) Evaluate(ctx context.Context, m policy.Message) action.Verdict {
	io.Copy(io.Discard, m.Body)
	b.mu.Lock()
	b.calls++
	b.mu.Unlock()
	<-b.release
	return action.Verdict{Action: action.Pass}
}

func (b *blockingEngine) free() { b.once.Do(func() { close(b.release) }) }

func (b *blockingEngine) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

// TestIssue7HopScanTimeout: the hop has its own scan deadline and applies
// [failure] on_timeout at it; the abandoned scan keeps its slot until it
// has returned, so the next message gets on_overload when no slot comes
// free; once the scan returns, mail flows again.
func TestIssue7HopScanTimeout(t *testing.T) {
	eng := &blockingEngine{release: make(chan struct{})}
	defer eng.free()
	slots := policy.NewSlots(1)
	mta := newFakeMTA(t, nil)
	rec := &recorder{}
	_, addr := startHop(t, eng, reflectCfg(mta.addr()), WithRecorder(rec),
		WithScanSlots(slots), WithScanTimeout(100*time.Millisecond))
	up := dialUp(t, addr)
	up.hello()

	if got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg); !strings.HasPrefix(got, "451 4.7.1") {
		t.Fatalf("first message: %q, want 451 (on_timeout)", got)
	}
	ds := rec.All()
	if len(ds) != 1 || !errors.Is(ds[0].Err, ErrScanTimeout) || ds[0].Applied != action.TempFail {
		t.Fatalf("decisions = %+v, want one ErrScanTimeout tempfail", ds)
	}
	if n := slots.InUse(); n != 1 {
		t.Fatalf("slots in use = %d, want 1: the abandoned scan still runs", n)
	}

	if got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg); !strings.HasPrefix(got, "451 4.7.1") {
		t.Fatalf("second message: %q, want 451 (on_overload)", got)
	}
	ds = rec.All()
	if len(ds) != 2 || !errors.Is(ds[1].Err, policy.ErrNoSlot) {
		t.Fatalf("second decision = %+v, want ErrNoSlot", ds[len(ds)-1])
	}
	if n := eng.count(); n != 1 {
		t.Fatalf("engine calls = %d, want 1", n)
	}

	eng.free()
	testutil.WaitFor(t, "the abandoned scan to give its slot back", func() bool { return slots.InUse() == 0 })
	if got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg); !strings.HasPrefix(got, "250") {
		t.Fatalf("third message: %q, want 250", got)
	}
	if n := len(mta.messages()); n != 1 {
		t.Fatalf("delivered %d, want 1", n)
	}
}

// TestIssue7HopTimeoutOutcome: on_timeout = "accept" relays the message
// unscanned at the deadline (a documented risk), quarantine holds it.
func TestIssue7HopTimeoutOutcome(t *testing.T) {
	for _, tt := range []struct {
		outcome   config.Outcome
		reply     string
		delivered int
	}{{config.OutcomeAccept, "250", 1}, {config.OutcomeQuarantine, "451 4.7.1", 0}} {
		t.Run(tt.outcome.String(), func(t *testing.T) {
			eng := &blockingEngine{release: make(chan struct{})}
			defer eng.free()
			mta := newFakeMTA(t, nil)
			_, addr := startHop(t, eng, reflectCfg(mta.addr()), WithScanTimeout(50*time.Millisecond),
				WithFailure(config.Failure{OnTimeout: tt.outcome}))
			up := dialUp(t, addr)
			up.hello()
			if got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg); !strings.HasPrefix(got, tt.reply) {
				t.Fatalf("reply %q, want %s", got, tt.reply)
			}
			if n := len(mta.messages()); n != tt.delivered {
				t.Fatalf("delivered %d, want %d", n, tt.delivered)
			}
		})
	}
}

// TestIssue7HopHostileScanStops: the real engine on a message it cannot
// finish within the hop's deadline: on_timeout applies, and the scan is
// cancelled and returns (it does not run on to its own, later deadline).
func TestIssue7HopHostileScanStops(t *testing.T) {
	real := defaultEngine(t)
	done := make(chan action.Verdict, 1)
	eng := evalFunc(func(ctx context.Context, m policy.Message) action.Verdict {
		v := real.Evaluate(ctx, m)
		done <- v
		return v
	})
	mta := newFakeMTA(t, nil)
	rec := &recorder{}
	cfg := reflectCfg(mta.addr())
	_, addr := startHop(t, eng, cfg, WithRecorder(rec), WithScanTimeout(20*time.Millisecond))
	up := dialUp(t, addr)
	up.hello()
	body := strings.Repeat("card 4111 1111 1111 1111 and 5555-5555-5555-4444, IBAN DE89 3704 0044 0532 0130 00\r\n", (16<<20)/84)
	if got := up.sendMessage("a@example.com", []string{"b@example.com"}, "Subject: x\r\n\r\n"+body); !strings.HasPrefix(got, "451") {
		t.Fatalf("reply %q, want 451 (on_timeout)", got)
	}
	if ds := rec.All(); len(ds) != 1 || !errors.Is(ds[0].Err, ErrScanTimeout) {
		t.Fatalf("decisions = %+v", ds)
	}
	select {
	case v := <-done:
		if !errors.Is(v.Err, context.Canceled) {
			t.Fatalf("abandoned scan returned %v, %v; want it cancelled", v.Action, v.Err)
		}
	case <-time.After(real.Limits().ScanTimeout):
		t.Fatal("the abandoned scan did not stop")
	}
}

type evalFunc func(ctx context.Context, m policy.Message) action.Verdict

func (f evalFunc) Evaluate(ctx context.Context, m policy.Message) action.Verdict { return f(ctx, m) }

// TestIssue7HopNULRefused: a NUL byte gets a permanent refusal with its
// reason, not a 451 on every retry; nothing is delivered or scanned.
func TestIssue7HopNULRefused(t *testing.T) {
	eng := &fakeEngine{}
	mta := newFakeMTA(t, nil)
	rec := &recorder{}
	_, addr := startHop(t, eng, reflectCfg(mta.addr()), WithRecorder(rec))
	up := dialUp(t, addr)
	up.hello()
	got := up.sendMessage("a@example.com", []string{"b@example.com"}, "Subject: x\r\n\r\ncard 4111\x001111 1111 1111\r\n")
	if !strings.HasPrefix(got, "550 5.6.0") || !strings.Contains(got, "NUL byte") {
		t.Fatalf("reply %q, want 550 5.6.0 naming the NUL byte", got)
	}
	if ds := rec.All(); len(ds) != 1 || ds[0].Applied != action.Block || !errors.Is(ds[0].Err, ErrNUL) {
		t.Fatalf("decisions = %+v", ds)
	}
	if n := len(eng.envelopes()); n != 0 || len(mta.messages()) != 0 {
		t.Fatalf("scanned %d, delivered %d; want neither", n, len(mta.messages()))
	}
	// The session goes on.
	if got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg); !strings.HasPrefix(got, "250") {
		t.Fatalf("next message: %q", got)
	}
}

// allocated is the bytes f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// chunked holds msg in chunks of chunkSize, as the hop does.
func chunked(msg []byte) [][]byte {
	var out [][]byte
	for len(msg) > 0 {
		n := min(chunkSize, len(msg))
		out = append(out, msg[:n])
		msg = msg[n:]
	}
	return out
}

// TestIssue7HopSplitCost: the header/body split of a message without an
// empty line (all header), of one field folded over the whole message,
// and of an ordinary one, allocates in proportion to its fields, never
// copies of the message: the work at 8n is at most about 8 times that at
// n (it was quadratic: each 64 KiB chunk copied the whole buffer and
// searched it again).
func TestIssue7HopSplitCost(t *testing.T) {
	gens := map[string]func(n int) []byte{
		"no empty line": func(n int) []byte {
			return bytes.Repeat([]byte("X-Filler: "+strings.Repeat("a", 100)+"\r\n"), n/112)
		},
		"one folded field": func(n int) []byte {
			return append([]byte("Subject: x\r\n"), bytes.Repeat([]byte(" "+strings.Repeat("b", 100)+"\r\n"), n/103)...)
		},
		"long lines, no line end": func(n int) []byte {
			return bytes.Repeat([]byte("c"), n)
		},
		"ordinary": func(n int) []byte {
			return append([]byte("From: a@example.com\r\nSubject: x\r\n\r\n"), bytes.Repeat([]byte("body line\r\n"), n/11)...)
		},
	}
	const n = 1 << 20
	for name, gen := range gens {
		t.Run(name, func(t *testing.T) {
			small, large := chunked(gen(n)), chunked(gen(8*n))
			var hs, hl header
			as := allocated(func() { hs = splitChunks(small, "X-Filter-Loop", "Subject") })
			al := allocated(func() { hl = splitChunks(large, "X-Filter-Loop", "Subject") })
			if al > 9*as+64<<10 {
				t.Errorf("allocated %d bytes at n, %d at 8n: not linear", as, al)
			}
			if got, want := len(bytes.Join(hl.parts(nil), nil)), len(bytes.Join(large, nil)); got < want {
				t.Errorf("split lost bytes: %d of %d", got, want)
			}
			if al > 8*n { // never a copy of the message
				t.Errorf("allocated %d bytes for a %d-byte message", al, 8*n)
			}
			_ = hs
		})
	}
}

// TestIssue7HopBodyReadCost: reading DATA whose lines are made of bare
// CRs looks at each byte a bounded number of times (each CR used to send
// the line-end search to the end of the line again).
func TestIssue7HopBodyReadCost(t *testing.T) {
	cfg := config.Reinject{MaxLineLength: 2 << 20}.WithDefaults()
	read := func(lineLen int) (int64, int) {
		line := strings.Repeat("a\r", lineLen/2) + "a\r\n"
		data := strings.Repeat(line, 4) + ".\r\n"
		br := bufio.NewReaderSize(strings.NewReader(data), int(cfg.MaxLineLength)+16)
		b := newDotReader(br, nil, int(cfg.MaxLineLength), int64(cfg.MaxMessageBytes), 0, 0)
		got, err := io.ReadAll(b)
		if err != nil || len(got) != len(data)-3 {
			t.Fatalf("read %d bytes, %v; want %d", len(got), err, len(data)-3)
		}
		return b.examined, len(data)
	}
	const n = 64 << 10
	ws, bs := read(n)
	wl, bl := read(8 * n)
	if wl > 9*ws || wl > 3*int64(bl) {
		t.Errorf("examined %d bytes for %d at n, %d for %d at 8n: not linear", ws, bs, wl, bl)
	}
	t.Logf("examined %d/%d and %d/%d", ws, bs, wl, bl)
}

// TestIssue7HopScanTimeoutFromEngine: without WithScanTimeout the hop
// waits for the engine's own scan_timeout.
func TestIssue7HopScanTimeoutFromEngine(t *testing.T) {
	cfg, err := config.LoadBytes(t.TempDir()+"/maildlp.toml", []byte("[limits]\nscan_timeout = \"3s\"\n"), detect.IsBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := policy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{}
	if got := s.scanTimeout(eng); got != 3*time.Second {
		t.Errorf("scan timeout = %v, want the engine's 3s", got)
	}
	if got := s.scanTimeout(&fakeEngine{}); got != config.DefaultScanTimeout {
		t.Errorf("scan timeout without engine limits = %v, want %v", got, config.DefaultScanTimeout)
	}
}
