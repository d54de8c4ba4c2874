package milter

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/metrics"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/report"

	"github.com/maildlp/maildlp/internal/testutil"
)

// rawSession sends one message the way Postfix batches it (see
// postfixSession) and returns the final code of the end-of-message reply
// and how many PROGRESS packets came before it; quit ends the session.
func rawSession(t *testing.T, addr string, body []byte, wait time.Duration) (final byte, progress int, quit func()) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(wait))
	batches := postfixSession(body)
	buf := make([]byte, 5)
	for i, batch := range batches[:4] {
		if _, err := c.Write(batch); err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				t.Fatalf("batch %d: %v", i, err)
			}
			n := binary.BigEndian.Uint32(buf[:4])
			if _, err := io.CopyN(io.Discard, c, int64(n-1)); err != nil {
				t.Fatal(err)
			}
			if code := buf[4]; code == respProgress {
				progress++
			} else if !modCode(code) {
				final = code
				break
			}
		}
	}
	return final, progress, func() {
		c.Write(batches[4])
		io.Copy(io.Discard, c)
		c.Close()
	}
}

// TestIssue12InlineScan: a small message whose scan slot is free is
// scanned by the connection's own goroutine, itself one kept from an
// earlier connection (no goroutine started per message); a message past
// spill_bytes keeps a goroutine of its own. Both get the engine's verdict.
func TestIssue12InlineScan(t *testing.T) {
	for _, tt := range []struct {
		name  string
		spill config.ByteSize
		// goroutines started per message: the scan's when it has one (the
		// runtime may start one of its own now and then)
		min, max float64
	}{
		{"held in memory", 0, 0, 0.5},
		{"past spill_bytes", 1 << 10, 1, 1.5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			eng := &fakeEngine{limits: config.Limits{SpillBytes: tt.spill, SpillDir: t.TempDir()}}
			_, addr := startServer(t, eng, WithScanSlots(policy.NewSlots(1)))
			body := testutil.BusinessText(4 << 10)
			_, _, quit := rawSession(t, addr, body, 10*time.Second) // warm-up
			quit()
			const n = 20
			g0 := goroutinesCreated()
			for range n {
				final, _, quit := rawSession(t, addr, body, 10*time.Second)
				quit()
				if final != respAccept {
					t.Fatalf("final reply %q, want accept", final)
				}
			}
			if got := float64(goroutinesCreated()-g0) / n; got < tt.min || got >= tt.max {
				t.Errorf("%.2f goroutines started per message, want %v", got, tt.min)
			}
			if calls, _, _ := eng.snapshot(); calls != n+1 {
				t.Errorf("engine called %d times, want %d", calls, n+1)
			}
		})
	}
}

// TestIssue12LongScanProgressAndDeadline: a scan that runs past the
// progress interval gets PROGRESS packets, and at the scan deadline the
// MTA gets the on_timeout answer, on both paths: the inline scan of a
// small message, and the goroutine of a message past spill_bytes; also
// from an engine that does not look at its context, which still holds
// its slot until it returns.
func TestIssue12LongScanProgressAndDeadline(t *testing.T) {
	const progress, deadline = 50 * time.Millisecond, time.Second
	for _, tt := range []struct {
		name     string
		spill    config.ByteSize
		obeysCtx bool
	}{
		{"inline", 0, true},
		{"own goroutine", 1 << 10, true},
		{"inline, engine ignores ctx", 0, false},
		{"own goroutine, engine ignores ctx", 1 << 10, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			returned := make(chan struct{})
			eng := &fakeEngine{limits: config.Limits{SpillBytes: tt.spill, SpillDir: t.TempDir()},
				evaluate: func(ctx context.Context, m policy.Message) action.Verdict {
					defer close(returned)
					io.Copy(io.Discard, m.Body)
					if tt.obeysCtx {
						<-ctx.Done()
					} else {
						<-release
					}
					return action.Verdict{Action: action.Pass}
				}}
			slots := policy.NewSlots(1)
			rec := &recorder{}
			_, addr := startServer(t, eng, WithScanSlots(slots), WithRecorder(rec),
				WithLimits(deadline), WithProgressInterval(progress))
			start := time.Now()
			final, n, quit := rawSession(t, addr, testutil.BusinessText(8<<10), 10*time.Second)
			took := time.Since(start)
			defer quit()
			if final != 't' && final != 'y' {
				t.Fatalf("final reply %q, want a tempfail", final)
			}
			// 19 are due before the deadline; a loaded machine delays timers.
			if n < 3 {
				t.Errorf("%d PROGRESS packets in %v, want at least 3", n, took)
			}
			if took < deadline || took > deadline+3*time.Second {
				t.Errorf("answer after %v, want about %v", took, deadline)
			}
			if ds := waitDecisions(t, rec, 1); !errors.Is(ds[0].Err, ErrScanTimeout) || ds[0].Applied != action.TempFail {
				t.Errorf("decision %v %v, want a tempfail for ErrScanTimeout", ds[0].Applied, ds[0].Err)
			}
			if !tt.obeysCtx {
				if got := slots.InUse(); got != 1 {
					t.Errorf("slots in use while the engine still runs: %d, want 1", got)
				}
				close(release)
			}
			// An inline scan's connection reads the MTA's next command
			// once the engine has returned.
			select {
			case <-returned:
			case <-time.After(10 * time.Second):
				t.Fatal("the engine never returned")
			}
		})
	}
}

// TestIssue12WatchNext: the inline scan's timer wakes for each PROGRESS
// and for the deadline, whichever is next.
func TestIssue12WatchNext(t *testing.T) {
	ms := time.Millisecond
	for _, tt := range []struct {
		progress, timeout, elapsed, want time.Duration
	}{
		{2000 * ms, 20000 * ms, 0, 2000 * ms},
		{2000 * ms, 20000 * ms, 2001 * ms, 1999 * ms},
		{2000 * ms, 3000 * ms, 2000 * ms, 1000 * ms},
		{2000 * ms, 1000 * ms, 0, 1000 * ms},
		{0, 1000 * ms, 0, 1000 * ms},
		{0, 1000 * ms, 1000 * ms, 1},
		{2000 * ms, 0, 500 * ms, 1500 * ms},
		{0, 0, 0, 0},
	} {
		w := &watch{progress: tt.progress, timeout: tt.timeout}
		if got := w.next(tt.elapsed); got != tt.want {
			t.Errorf("progress %v timeout %v: next(%v) = %v, want %v", tt.progress, tt.timeout, tt.elapsed, got, tt.want)
		}
	}
}

// panicOnce is a recorder whose first Record panics.
type panicOnce struct {
	recorder
	once sync.Once
}

func (p *panicOnce) Record(d report.Decision) {
	p.once.Do(func() { panic("recorder bug") })
	p.recorder.Record(d)
}

// TestIssue12PanicInDeadlineAnswer: a panic while the answer at the scan
// deadline of an inline scan is made (here in the recorder) is recovered
// and counted as the session's own are, and the MTA gets the on_error
// answer.
func TestIssue12PanicInDeadlineAnswer(t *testing.T) {
	eng := &fakeEngine{evaluate: func(ctx context.Context, m policy.Message) action.Verdict {
		io.Copy(io.Discard, m.Body)
		<-ctx.Done()
		return action.Verdict{Action: action.Pass}
	}}
	rec := &panicOnce{}
	m := metrics.New()
	_, addr := startServer(t, eng, WithRecorder(rec), WithMetrics(m), WithLimits(200*time.Millisecond))
	final, _, quit := rawSession(t, addr, testutil.BusinessText(1<<10), 10*time.Second)
	defer quit()
	if final != 'y' && final != 't' {
		t.Fatalf("final reply %q, want a tempfail", final)
	}
	if ds := waitDecisions(t, &rec.recorder, 1); !errors.Is(ds[0].Err, ErrEngine) {
		t.Errorf("decision error = %v, want ErrEngine", ds[0].Err)
	}
	if n := m.Value("maildlp_panics_total", "milter"); n != 1 {
		t.Errorf("maildlp_panics_total{component=milter} = %v, want 1", n)
	}
}
