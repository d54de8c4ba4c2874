package milter

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/maildlp/maildlp/internal/testutil"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
)

func openFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open files: %v", err)
	}
	return len(es)
}

// TestNoLeakPerSession opens and closes many sessions (complete, aborted in
// the body, dropped without QUIT, dropped while the engine is still
// scanning) and checks that goroutines and open files return to what they
// were.
func TestNoLeakPerSession(t *testing.T) {
	slow := &fakeEngine{evaluate: func(ctx context.Context, m policy.Message) action.Verdict {
		io.Copy(io.Discard, m.Body)
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
		return action.Verdict{}
	}}
	fast := &fakeEngine{verdict: action.Verdict{Action: action.Modify, SubjectPrefix: "[x]"}}
	srvFast, addrFast := startServer(t, fast)
	// The MTA going away during a scan is noticed at the next PROGRESS.
	srvSlow, addrSlow := startServer(t, slow, WithProgressInterval(50*time.Millisecond))

	// Warm up pools and the runtime before taking the baseline.
	simpleMessage().send(t, addrFast)
	testutil.WaitFor(t, "the warm-up session to end", func() bool { return srvFast.Sessions() == 0 })
	runtime.GC()
	// Goroutines waiting for the next connection (at most maxIdleWorkers
	// a server) are kept on purpose; the rest must go.
	idle := func() int { return int(srvFast.idle.Load() + srvSlow.idle.Load()) }
	baseG, baseFD := runtime.NumGoroutine()-idle(), openFDs(t)

	body := bytes.Repeat([]byte("line of business text 0123456789\r\n"), 4096) // 136 KiB
	const rounds = 50
	var wg sync.WaitGroup
	for i := 0; i < rounds; i++ {
		wg.Add(4)
		go func() { // complete message
			defer wg.Done()
			m := simpleMessage()
			m.body = body
			if _, err := m.trySend(addrFast); err != nil {
				t.Error(err)
			}
		}()
		go func() { // aborted in the body: QUIT while the engine reads
			defer wg.Done()
			s := openSession(t, addrFast)
			if s == nil {
				return
			}
			defer s.Close()
			if _, err := s.HeaderField("Subject", " x", nil); err != nil {
				t.Error(err)
			}
			s.HeaderEnd()
			if _, err := s.BodyChunk(body[:60000]); err != nil {
				t.Error(err)
			}
		}()
		go func() { // connection dropped before negotiation
			defer wg.Done()
			c, err := net.Dial("tcp", addrFast)
			if err == nil {
				c.Close()
			}
		}()
		go func() { // dropped at end of message while the engine still scans
			defer wg.Done()
			d := &closingDialer{}
			s := openSession(t, addrSlow, gomilter.WithDialer(d))
			if s == nil {
				return
			}
			defer s.Close()
			s.HeaderEnd()
			time.AfterFunc(50*time.Millisecond, d.close)
			if _, _, err := s.BodyReadFrom(bytes.NewReader(body[:1000])); err == nil {
				t.Error("slow engine answered before the connection was dropped")
			}
		}()
		if i%10 == 9 {
			wg.Wait()
		}
	}
	wg.Wait()

	var g, fd int
	if !testutil.Poll(testutil.WaitTimeout, func() bool {
		runtime.GC()
		g, fd = runtime.NumGoroutine()-idle(), openFDs(t)
		return g <= baseG && fd <= baseFD && srvFast.Sessions() == 0 && srvSlow.Sessions() == 0 &&
			idle() <= 2*maxIdleWorkers
	}) {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("after %d sessions: %d goroutines besides %d idle ones (baseline %d), %d open files (baseline %d), sessions %d/%d\n%s",
			rounds*4, g, idle(), baseG, fd, baseFD, srvFast.Sessions(), srvSlow.Sessions(), buf[:n])
	}
}

// openSession negotiates and sends the envelope up to DATA.
func openSession(t *testing.T, addr string, opts ...gomilter.Option) *gomilter.ClientSession {
	s, err := gomilter.NewClient("tcp", addr, opts...).Session(gomilter.NewMacroBag())
	if err != nil {
		t.Error(err)
		return nil
	}
	steps := []func() (*gomilter.Action, error){
		func() (*gomilter.Action, error) { return s.Conn("h", gomilter.FamilyInet, 1000, "192.0.2.1") },
		func() (*gomilter.Action, error) { return s.Helo("h") },
		func() (*gomilter.Action, error) { return s.Mail("a@example.com", "") },
		func() (*gomilter.Action, error) { return s.Rcpt("b@example.org", "") },
		s.DataStart,
	}
	for i, step := range steps {
		if a, err := step(); err != nil || a.Type != gomilter.ActionContinue {
			t.Errorf("session step %d: %v %v", i, a, err)
			s.Close()
			return nil
		}
	}
	return s
}

// closingDialer keeps the connection it dials so that a test can drop it
// like an MTA that gives up.
type closingDialer struct {
	mu sync.Mutex
	c  net.Conn
}

func (d *closingDialer) Dial(network, addr string) (net.Conn, error) {
	c, err := net.Dial(network, addr)
	d.mu.Lock()
	d.c = c
	d.mu.Unlock()
	return c, err
}

func (d *closingDialer) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c != nil {
		d.c.Close()
	}
}
