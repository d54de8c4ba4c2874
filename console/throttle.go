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

// allowed reports whether every key may try now.
func (t *throttle) allowed(keys ...string) bool {
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
		return len(t.keys) < t.limit
	}
	return true
}

// fail counts a failed login against every key.
func (t *throttle) fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range keys {
		a := t.keys[k]
		if a == nil || now.Sub(a.start) >= t.window {
			if a == nil && len(t.keys) >= t.limit {
				t.prune(now)
				if len(t.keys) >= t.limit {
					continue
				}
			}
			a = &attempts{start: now}
			t.keys[k] = a
		}
		a.n++
	}
}

// succeed forgets the user name's failures (not the address's).
func (t *throttle) succeed(key string) {
	t.mu.Lock()
	delete(t.keys, key)
	t.mu.Unlock()
}

func (t *throttle) prune(now time.Time) {
	for k, a := range t.keys {
		if now.Sub(a.start) >= t.window {
			delete(t.keys, k)
		}
	}
}
