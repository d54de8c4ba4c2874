package reinject

import (
	"context"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/maildlp/maildlp/config"
)

func TestForwardFailover(t *testing.T) {
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := closed.Addr().String()
	closed.Close()
	busy := newFakeMTA(t, func(f *fakeMTA) { f.greeting = "421 4.7.0 busy.test too busy" })
	good := newFakeMTA(t, nil)

	cfg := config.Reinject{Mode: config.HopForward, NextHops: mustHops(t, dead, busy.addr(), good.addr())}
	_, addr := startHop(t, &fakeEngine{}, cfg)
	up := dialUp(t, addr)
	up.hello()
	if got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg); !strings.HasPrefix(got, "250 2.0.0 Ok: queued as FAKE1") {
		t.Fatalf("reply = %q", got)
	}
	if n := len(good.messages()); n != 1 {
		t.Fatalf("the answering hop got %d messages", n)
	}

	// All hops down: 4xx, nothing lost.
	cfg2 := config.Reinject{Mode: config.HopForward, NextHops: mustHops(t, dead, busy.addr())}
	_, addr2 := startHop(t, &fakeEngine{}, cfg2)
	up2 := dialUp(t, addr2)
	up2.hello()
	if got := up2.cmd("MAIL FROM:<a@example.com>"); !strings.HasPrefix(got, "451 4.4.1 ") {
		t.Fatalf("all hops down: %q, want 451 4.4.1", got)
	}
}

// fakeDNS serves a fixed zone on 127.0.0.1:0 (UDP).
func fakeDNS(t testing.TB, zone map[string][]dns.RR, rcode map[string]int) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		if rc, ok := rcode[q.Name]; ok {
			m.Rcode = rc
		}
		for _, rr := range zone[q.Name] {
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

func rr(t testing.TB, s string) dns.RR {
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMXLookup(t *testing.T) {
	zone := map[string][]dns.RR{
		"example.test.": {rr(t, "example.test. 60 IN MX 20 backup.example.test."), rr(t, "example.test. 60 IN MX 10 a.example.test."),
			rr(t, "example.test. 60 IN MX 10 b.example.test.")},
		"null.test.":         {rr(t, "null.test. 60 IN MX 0 .")},
		"nomx.test.":         {rr(t, "nomx.test. 60 IN A 127.0.0.1")},
		"a.example.test.":    {rr(t, "a.example.test. 60 IN A 127.0.0.1"), rr(t, "a.example.test. 60 IN AAAA ::1")},
		"mail.example.test.": {rr(t, "mail.example.test. 60 IN MX 10 mx1.example.test.")},
		"mx1.example.test.":  {rr(t, "mx1.example.test. 60 IN A 127.0.0.1")},
	}
	server := fakeDNS(t, zone, map[string]int{"gone.test.": dns.RcodeNameError})
	r := &resolver{server: server, timeout: 2 * time.Second}
	ctx := context.Background()

	seen := map[string]int{}
	for i := 0; i < 40; i++ {
		hosts, err := r.lookupMX(ctx, "example.test")
		if err != nil {
			t.Fatal(err)
		}
		if len(hosts) != 3 || hosts[2] != "backup.example.test" {
			t.Fatalf("lookupMX = %q, want the two preference-10 hosts first", hosts)
		}
		seen[hosts[0]]++
	}
	if seen["a.example.test"] == 0 || seen["b.example.test"] == 0 {
		t.Errorf("equal preferences not randomised: first hosts %v", seen)
	}
	if _, err := r.lookupMX(ctx, "null.test"); err != errNullMX {
		t.Errorf("null MX: err = %v, want errNullMX", err)
	}
	if hosts, err := r.lookupMX(ctx, "nomx.test"); err != nil || !slices.Equal(hosts, []string{"nomx.test"}) {
		t.Errorf("no MX: %q, %v, want the domain itself", hosts, err)
	}
	if _, err := r.lookupMX(ctx, "gone.test"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("NXDOMAIN: err = %v", err)
	}
	addrs, err := r.lookupAddrs(ctx, "a.example.test")
	if err != nil || len(addrs) != 2 || addrs[0].String() != "127.0.0.1" || addrs[1].String() != "::1" {
		t.Errorf("lookupAddrs = %v, %v", addrs, err)
	}

	// Forwarding through an MX name: the hop resolves and delivers.
	mta := newFakeMTA(t, nil)
	_, port, _ := net.SplitHostPort(mta.addr())
	cfg := config.Reinject{Mode: config.HopForward, Resolver: config.MustHostPort(server), NextHops: mustHops(t, "mx:null.test", "mx:mail.example.test:"+port)}
	_, addr := startHop(t, &fakeEngine{}, cfg)
	up := dialUp(t, addr)
	up.hello()
	if got := up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg); !strings.HasPrefix(got, "250 ") {
		t.Fatalf("reply = %q", got)
	}
	if n := len(mta.messages()); n != 1 {
		t.Fatalf("delivered %d", n)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		mta := newFakeMTA(t, nil)
		s := New(reflectCfg(mta.addr()), func() Evaluator { return &fakeEngine{} }, WithLogger(testLogger(t)))
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		done := make(chan error, 1)
		go func() { done <- s.Serve(ln) }()
		for i := 0; i < 5; i++ {
			up := dialUp(t, ln.Addr().String())
			up.hello()
			up.sendMessage("a@example.com", []string{"b@example.com"}, testMsg)
			up.expect("MAIL FROM:<a@example.com>", "250") // left open mid-transaction
			up.c.Close()
		}
		time.Sleep(50 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		<-done
		mta.close()
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after shutdown, %d before\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// A forced shutdown in the middle of DATA delivers nothing and never
// answers 250.
func TestShutdownMidData(t *testing.T) {
	mta := newFakeMTA(t, nil)
	s := New(reflectCfg(mta.addr()), func() Evaluator { return &fakeEngine{} }, WithLogger(testLogger(t)))
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	up := dialUp(t, ln.Addr().String())
	up.hello()
	up.expect("MAIL FROM:<a@example.com>", "250")
	up.expect("RCPT TO:<b@example.com>", "250")
	up.expect("DATA", "354")
	up.send("Subject: x\r\n\r\nhalf a message")
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); err == nil {
		t.Fatal("Shutdown returned nil with a session open")
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if got := up.read(); strings.HasPrefix(got, "250") {
		t.Fatalf("upstream got %q after a shutdown mid-data", got)
	}
	if n := len(mta.messages()); n != 0 {
		t.Fatalf("delivered %d, want 0", n)
	}
}
