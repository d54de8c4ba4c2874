package console

import (
	"context"
	"fmt"
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
type statsCache struct {
	st     *store.Store
	now    func() time.Time
	maxAge time.Duration

	mu   sync.Mutex
	last *figures
	busy sync.Mutex // one refresh at a time
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
	f, err := computeFigures(ctx, c.st, c.now())
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

func computeFigures(ctx context.Context, st *store.Store, now time.Time) (*figures, error) {
	start := time.Now()
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	f := &figures{At: now, Since: today.AddDate(0, 0, -(DashboardDays - 1))}
	since := f.Since.UnixMicro()
	db := st.DB()
	f.PerDay = make([]map[string]int64, DashboardDays)
	for i := range f.PerDay {
		f.PerDay[i] = map[string]int64{}
	}
	rows, err := db.QueryContext(ctx, q(st, `SELECT time_us / ?, severity, COUNT(*) FROM incidents
		WHERE time_us >= ? GROUP BY time_us / ?, severity`), dayMicros, since, dayMicros)
	if err != nil {
		return nil, fmt.Errorf("console: incidents per day: %w", err)
	}
	first := since / dayMicros
	for rows.Next() {
		var d, n int64
		var sev string
		if err := rows.Scan(&d, &sev, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("console: incidents per day: %w", err)
		}
		if i := d - first; i >= 0 && i < DashboardDays {
			f.PerDay[i][sev] += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("console: incidents per day: %w", err)
	}
	for _, a := range []struct {
		dst   *[]count
		query string
	}{
		{&f.Policies, `SELECT name, COUNT(*) FROM incident_policies WHERE time_us >= ? GROUP BY name ORDER BY COUNT(*) DESC, name LIMIT 8`},
		{&f.Senders, `SELECT sender, COUNT(*) FROM incidents WHERE time_us >= ? GROUP BY sender ORDER BY COUNT(*) DESC, sender LIMIT 8`},
		{&f.Actions, `SELECT action, COUNT(*) FROM incidents WHERE time_us >= ? GROUP BY action ORDER BY COUNT(*) DESC, action LIMIT 10`},
	} {
		if *a.dst, err = counts(ctx, st, a.query, since); err != nil {
			return nil, err
		}
	}
	nowUs := now.UnixMicro()
	err = db.QueryRowContext(ctx, q(st, `SELECT
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

func us(d time.Duration) int64 { return int64(d / time.Microsecond) }

func counts(ctx context.Context, st *store.Store, query string, since int64) ([]count, error) {
	rows, err := st.DB().QueryContext(ctx, q(st, query), since)
	if err != nil {
		return nil, fmt.Errorf("console: dashboard: %w", err)
	}
	defer rows.Close()
	var out []count
	for rows.Next() {
		var c count
		if err := rows.Scan(&c.Key, &c.N); err != nil {
			return nil, fmt.Errorf("console: dashboard: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
