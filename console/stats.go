package console

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/maildlp/maildlp/store"
)

// DashboardDays is how many days the dashboard covers.
const DashboardDays = 14

const dayMicros = int64(24 * time.Hour / time.Microsecond)

// figures are the dashboard's aggregates over the last DashboardDays.
type figures struct {
	At       time.Time
	Since    time.Time            // midnight UTC, DashboardDays-1 days ago
	PerDay   []map[string]int64   // [day] severity -> count
	Policies []count              // most frequent first
	Senders  []count              // most frequent first
	Actions  []count              // most frequent first
	HeldAge  [len(heldAges)]int64 // held messages per age bucket
	Took     time.Duration        // how long the queries took
}

type count struct {
	Key string
	N   int64
}

// heldAges are the buckets of the held-by-age chart, youngest first.
var heldAges = [...]struct {
	Label string
	Upto  time.Duration // 0: no upper bound
}{
	{"< 1 hour", time.Hour},
	{"1-24 hours", 24 * time.Hour},
	{"1-7 days", 7 * 24 * time.Hour},
	{"> 7 days", 0},
}

// statsCache holds the last figures. Every aggregate reads all incidents
// of the period, which at a million incidents costs more than a page may
// take, so the server refreshes them in the background and pages show the
// last ones with their time; only the first page view after a start waits.
//
// The figures are summed from per-day partials. A refresh queries today
// afresh and reuses the partials of earlier days, which change only when
// late incidents arrive (the store's queue after an outage) or retention
// purges: each is queried again once it is older than dayMaxAge, at most
// a few per refresh, so that no refresh reads the whole period again.
type statsCache struct {
	st     *store.Store
	now    func() time.Time
	maxAge time.Duration

	mu   sync.Mutex
	last *figures
	busy sync.Mutex           // one refresh at a time
	days map[int64]*dayCounts // by day number (UTC days since the epoch); under busy
}

// daySenders bounds the senders kept per day: envelope senders are the
// sender's to choose, and a day of forged distinct senders must not grow
// the cache. The top senders of the period are summed from each day's
// top daySenders, exact unless a sender outside every day's top counts
// among the period's (a flat spread far wider than the chart shows).
const daySenders = 200

// dayMaxAge is how long the partials of a past day are reused.
const dayMaxAge = 10 * time.Minute

// staleDaysPerRefresh bounds the past days queried again per refresh.
const staleDaysPerRefresh = 2

// dayCounts are one day's partial aggregates.
type dayCounts struct {
	at         time.Time // when they were queried
	severities map[string]int64
	actions    map[string]int64
	policies   map[string]int64
	senders    map[string]int64
}

// get returns figures at most maxAge old, computing them when there are
// none or they are older than twice maxAge (the refresher is behind).
func (c *statsCache) get(ctx context.Context) (*figures, error) {
	c.mu.Lock()
	f := c.last
	c.mu.Unlock()
	if f != nil && c.now().Sub(f.At) < 2*c.maxAge {
		return f, nil
	}
	return c.refresh(ctx)
}

func (c *statsCache) refresh(ctx context.Context) (*figures, error) {
	c.busy.Lock()
	defer c.busy.Unlock()
	if c.days == nil {
		c.days = map[int64]*dayCounts{}
	}
	f, err := computeFigures(ctx, c.st, c.now(), c.days)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.last = f
	c.mu.Unlock()
	return f, nil
}

// invalidate makes the next get compute afresh (after a change the user
// expects to see, such as a release).
func (c *statsCache) invalidate() {
	c.mu.Lock()
	c.last = nil
	c.mu.Unlock()
}

func computeFigures(ctx context.Context, st *store.Store, now time.Time, days map[int64]*dayCounts) (*figures, error) {
	start := time.Now()
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	f := &figures{At: now, Since: today.AddDate(0, 0, -(DashboardDays - 1))}
	first := f.Since.UnixMicro() / dayMicros
	last := today.UnixMicro() / dayMicros
	for d := range days {
		if d < first || d > last {
			delete(days, d)
		}
	}
	stale := 0
	for d := first; d <= last; d++ {
		dc := days[d]
		if dc != nil && d < last && now.Sub(dc.at) < dayMaxAge {
			continue
		}
		if dc != nil && d < last && stale >= staleDaysPerRefresh {
			continue // the others next time
		}
		if dc != nil && d < last {
			stale++
		}
		q, err := queryDay(ctx, st, d*dayMicros, (d+1)*dayMicros)
		if err != nil {
			return nil, err
		}
		q.at = now
		days[d] = q
	}
	f.PerDay = make([]map[string]int64, DashboardDays)
	policies, senders, actions := map[string]int64{}, map[string]int64{}, map[string]int64{}
	for i := range f.PerDay {
		dc := days[first+int64(i)]
		f.PerDay[i] = dc.severities
		for k, n := range dc.policies {
			policies[k] += n
		}
		for k, n := range dc.senders {
			senders[k] += n
		}
		for k, n := range dc.actions {
			actions[k] += n
		}
	}
	f.Policies, f.Senders, f.Actions = top(policies, 8), top(senders, 8), top(actions, 10)
	nowUs := now.UnixMicro()
	err := st.DB().QueryRowContext(ctx, q(st, `SELECT
		COALESCE(SUM(CASE WHEN held_us > ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN held_us <= ? AND held_us > ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN held_us <= ? AND held_us > ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN held_us <= ? THEN 1 ELSE 0 END), 0)
		FROM quarantine WHERE state = ?`),
		nowUs-us(heldAges[0].Upto),
		nowUs-us(heldAges[0].Upto), nowUs-us(heldAges[1].Upto),
		nowUs-us(heldAges[1].Upto), nowUs-us(heldAges[2].Upto),
		nowUs-us(heldAges[2].Upto), store.HeldHeld).
		Scan(&f.HeldAge[0], &f.HeldAge[1], &f.HeldAge[2], &f.HeldAge[3])
	if err != nil {
		return nil, fmt.Errorf("console: held by age: %w", err)
	}
	f.Took = time.Since(start)
	return f, nil
}

// queryDay reads the partial aggregates of incidents in [lo, hi). Each
// query walks the incidents' time index over that range only (policies
// through the incident's primary key), never the whole table.
func queryDay(ctx context.Context, st *store.Store, lo, hi int64) (*dayCounts, error) {
	dc := &dayCounts{severities: map[string]int64{}, actions: map[string]int64{}, policies: map[string]int64{}, senders: map[string]int64{}}
	rows, err := st.DB().QueryContext(ctx, q(st, `SELECT severity, action, COUNT(*) FROM incidents
		WHERE time_us >= ? AND time_us < ? GROUP BY severity, action`), lo, hi)
	if err != nil {
		return nil, fmt.Errorf("console: dashboard: %w", err)
	}
	for rows.Next() {
		var sev, act string
		var n int64
		if err := rows.Scan(&sev, &act, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("console: dashboard: %w", err)
		}
		dc.severities[sev] += n
		dc.actions[act] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("console: dashboard: %w", err)
	}
	for _, a := range []struct {
		dst   map[string]int64
		query string
	}{
		{dc.senders, `SELECT sender, COUNT(*) FROM incidents WHERE time_us >= ? AND time_us < ?
			GROUP BY sender ORDER BY COUNT(*) DESC, sender LIMIT ` + strconv.Itoa(daySenders)},
		{dc.policies, `SELECT p.name, COUNT(*) FROM incidents i JOIN incident_policies p ON p.incident_id = i.id
			WHERE i.time_us >= ? AND i.time_us < ? GROUP BY p.name`},
	} {
		if err := countInto(ctx, st, a.dst, a.query, lo, hi); err != nil {
			return nil, err
		}
	}
	return dc, nil
}

func us(d time.Duration) int64 { return int64(d / time.Microsecond) }

func countInto(ctx context.Context, st *store.Store, dst map[string]int64, query string, args ...any) error {
	rows, err := st.DB().QueryContext(ctx, q(st, query), args...)
	if err != nil {
		return fmt.Errorf("console: dashboard: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return fmt.Errorf("console: dashboard: %w", err)
		}
		dst[k] += n
	}
	return rows.Err()
}

// top returns the n largest counts, largest first, ties by key.
func top(m map[string]int64, n int) []count {
	out := make([]count, 0, len(m))
	for k, v := range m {
		out = append(out, count{k, v})
	}
	slices.SortFunc(out, func(a, b count) int {
		if a.N != b.N {
			return cmp.Compare(b.N, a.N)
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return out[:min(n, len(out))]
}
