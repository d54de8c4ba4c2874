package console

import (
	"sync"
	"time"
)

// throttle counts failed logins per key (a client address, a user name)
// in fixed windows. Past max failures in a window a key is refused until
// the window ends, whatever the password, so that guessing costs an
// attacker a window per few tries. The table is bounded: when full, keys
// whose window has ended are dropped, and if none has, new keys are
// refused (a flood of addresses cannot grow memory or open the door).
type throttle struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	now    func() time.Time
	keys   map[string]*attempts
	limit  int // most keys held
}

type attempts struct {
	start time.Time
	n     int
}

func newThrottle(max int, window time.Duration, now func() time.Time) *throttle {
	return &throttle{max: max, window: window, now: now, keys: map[string]*attempts{}, limit: 100000}
}

// try reports whether every key may try now and, when they may, counts
// the try against each of them before the password is checked: a burst
// of concurrent guesses cannot all pass a check made before any of them
// had failed. A successful login gives its try back (succeed).
func (t *throttle) try(keys ...string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range keys {
		a := t.keys[k]
		if a != nil && now.Sub(a.start) < t.window && a.n >= t.max {
			return false
		}
	}
	if len(t.keys) >= t.limit {
		t.prune(now)
		if len(t.keys) >= t.limit {
			return false
		}
	}
	for _, k := range keys {
		a := t.keys[k]
		if a == nil || now.Sub(a.start) >= t.window {
			a = &attempts{start: now}
			t.keys[k] = a
		}
		a.n++
	}
	return true
}

// succeed forgets the user name's failures and gives the address back
// the try of this login, which did not fail.
func (t *throttle) succeed(user, addr string) {
	t.mu.Lock()
	delete(t.keys, user)
	if a := t.keys[addr]; a != nil && a.n > 0 {
		a.n--
	}
	t.mu.Unlock()
}

func (t *throttle) prune(now time.Time) {
	for k, a := range t.keys {
		if now.Sub(a.start) >= t.window {
			delete(t.keys, k)
		}
	}
}
