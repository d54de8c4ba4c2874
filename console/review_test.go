package console

import (
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
)

// TestReviewLoginThrottleConcurrent: guesses sent at once are counted
// before the password is checked, so a burst gets no more tries than
// login_attempts (the check takes tens of milliseconds, during which a
// throttle that counted only after it let every request in).
func TestReviewLoginThrottleConcurrent(t *testing.T) {
	f := newFixture(t, config.Console{LoginAttempts: 3, LoginWindow: config.Duration(time.Hour)})
	const n = 12
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := f.client()
			c.addr = "198.51.100." + string(rune('1'+i%9)) + ":1000"
			codes <- c.post("/login", url.Values{"name": {"analyst"}, "password": {"wrong password"}}).code
		}()
	}
	wg.Wait()
	close(codes)
	tried := 0
	for c := range codes {
		switch c {
		case http.StatusUnauthorized:
			tried++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("login answered %d", c)
		}
	}
	if tried > 3 {
		t.Fatalf("%d passwords checked in one burst, want at most 3", tried)
	}
}

// TestReviewThrottleKeyBounded: the throttle keeps a key per user name
// tried, for a window; a name is at most 64 characters, so a key longer
// than that would only let a flood of huge typed names (a form holds
// 64 KiB) grow the table's memory a thousandfold.
func TestReviewThrottleKeyBounded(t *testing.T) {
	f := newFixture(t, config.Console{})
	c := f.client()
	if r := c.post("/login", url.Values{"name": {strings.Repeat("n", 60000)}, "password": {"wrong password"}}); r.code != http.StatusUnauthorized {
		t.Fatalf("login = %d, want 401", r.code)
	}
	f.srv.throttle.mu.Lock()
	defer f.srv.throttle.mu.Unlock()
	for k := range f.srv.throttle.keys {
		if len(k) > 100 {
			t.Fatalf("throttle key of %d bytes", len(k))
		}
	}
}

// TestReviewArgonConcurrencyBounded: each password check holds 19 MiB
// while it runs; logins from many addresses, each within its throttle,
// queue for a bounded number of checks instead of each holding its own.
func TestReviewArgonConcurrencyBounded(t *testing.T) {
	var mu sync.Mutex
	cur, peak := 0, 0
	orig := argonKey
	argonKey = func(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		mu.Lock()
		cur++
		peak = max(peak, cur)
		mu.Unlock()
		defer func() { mu.Lock(); cur--; mu.Unlock() }()
		return orig(pw, salt, time, memory, threads, keyLen)
	}
	defer func() { argonKey = orig }()
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			VerifyPassword(dummyHash, "wrong password")
		}()
	}
	wg.Wait()
	if want := max(2, runtime.GOMAXPROCS(0)); peak > want {
		t.Fatalf("%d password checks ran at once, want at most %d", peak, want)
	}
}
