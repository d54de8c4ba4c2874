package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/fsutil"
	"github.com/maildlp/maildlp/metrics"
	"github.com/maildlp/maildlp/policy/action"
)

// Defaults of the settings in config.Notify, which holds their values.
const (
	DefaultRetryMin    = config.DefaultNotifyRetryMin
	DefaultRetryMax    = config.DefaultNotifyRetryMax
	DefaultMaxAge      = config.DefaultNotifyMaxAge
	DefaultConcurrency = config.DefaultNotifyConcurrency
	DefaultTimeout     = config.DefaultNotifyTimeout
	DefaultMaxQueued   = config.DefaultNotifyMaxQueued
)

// ErrLocked is returned by Open when another process holds the directory.
var ErrLocked = errors.New("outbox: directory in use by another process")

// ErrFull is returned by Enqueue when MaxQueued notices are waiting.
var ErrFull = errors.New("outbox: full (notify.max_queued notices waiting)")

// Options configure an Outbox (the [notify] config section). Zero values
// take the defaults above.
type Options struct {
	Dir         string // the outbox directory (created if missing)
	Relay       string // host:port of the SMTP relay
	From        string // envelope and header sender of notices
	HELOName    string // EHLO name; default the host name
	RetryMin    time.Duration
	RetryMax    time.Duration
	MaxAge      time.Duration
	Concurrency int
	Timeout     time.Duration // one delivery attempt
	MaxQueued   int           // notices waiting at most; past it Enqueue fails with ErrFull
	Log         *slog.Logger
	Metrics     *metrics.Metrics
	Clock       Clock // default: the system clock
}

// Outbox is a directory of notices waiting for delivery.
type Outbox struct {
	o    Options
	lock *os.File

	mu       sync.Mutex
	entries  map[string]*entry
	reserved int // Enqueue calls writing a file
	wake     chan struct{}

	// running counts the deliveries under way, rounds the Run loop's
	// scheduling rounds, and ended the round that was the latest when a
	// delivery last ended: with running == 0 and rounds > ended, the latest
	// round saw every delivery finished, had every slot free and found
	// nothing due. Tests read them to see the loop at rest.
	running int
	rounds  uint64
	ended   uint64
}

// entry is the schedule of one notice, mirrored in its file name.
type entry struct {
	id      string
	attempt int       // failed attempts so far
	next    time.Time // earliest time of the next attempt
	created time.Time
	file    string // current file name in the outbox directory
	busy    bool   // an attempt is under way
}

// stored is the content of a notice file.
type stored struct {
	ID         string    `json:"id"`
	IncidentID string    `json:"incident_id,omitempty"`
	Created    time.Time `json:"created"`
	From       string    `json:"from"`
	To         []string  `json:"to"`
	Message    string    `json:"message"` // RFC 5322, CRLF line endings
}

const (
	suffix    = ".notice"
	tmpPrefix = ".tmp-"
	deadDir   = "dead"
)

// Open opens (creating if needed) the outbox directory, takes its lock,
// removes temporary files left by a crash (their Enqueue never returned)
// and loads the schedule of every queued notice.
func Open(o Options) (*Outbox, error) {
	if o.Dir == "" {
		return nil, errors.New("outbox: no directory configured (notify.outbox_dir)")
	}
	if o.RetryMin <= 0 {
		o.RetryMin = DefaultRetryMin
	}
	if o.RetryMax <= 0 {
		o.RetryMax = DefaultRetryMax
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = o.RetryMin
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxQueued <= 0 {
		o.MaxQueued = DefaultMaxQueued
	}
	if o.HELOName == "" {
		o.HELOName, _ = os.Hostname()
		if o.HELOName == "" {
			o.HELOName = "localhost"
		}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	o.Log = o.Log.With("component", "outbox")
	if err := os.MkdirAll(filepath.Join(o.Dir, deadDir), 0o750); err != nil {
		return nil, fmt.Errorf("outbox: create %s: %w", o.Dir, err)
	}
	// The lock is on the directory itself, so the outbox holds nothing but
	// notices.
	lock, err := os.Open(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("outbox: open %s: %w", o.Dir, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, o.Dir)
		}
		return nil, fmt.Errorf("outbox: lock %s: %w", o.Dir, err)
	}
	ob := &Outbox{o: o, lock: lock, entries: map[string]*entry{}, wake: make(chan struct{}, 1)}
	if err := ob.load(); err != nil {
		ob.Close()
		return nil, err
	}
	ob.o.Metrics.SetOutboxDepth(ob.Depth())
	return ob, nil
}

// Rescan adds the notice files that appeared in the directory since Open
// (a dead letter moved back by an operator) and returns how many. The
// service calls it on reload.
func (ob *Outbox) Rescan() (int, error) {
	des, err := os.ReadDir(ob.o.Dir)
	if err != nil {
		return 0, fmt.Errorf("outbox: read %s: %w", ob.o.Dir, err)
	}
	added := 0
	ob.mu.Lock()
	for _, de := range des {
		name := de.Name()
		if de.IsDir() || strings.HasPrefix(name, tmpPrefix) || !strings.HasSuffix(name, suffix) {
			continue
		}
		e, err := parseName(name, ob.o.Clock.Now())
		if err != nil {
			continue
		}
		if _, known := ob.entries[e.id]; known {
			continue
		}
		// A delivery removes the file before it forgets the entry: a file
		// listed above whose entry is gone may have been sent since.
		if _, err := os.Stat(filepath.Join(ob.o.Dir, name)); err != nil {
			continue
		}
		ob.entries[e.id] = e
		added++
	}
	depth := len(ob.entries)
	ob.mu.Unlock()
	if added > 0 {
		ob.o.Log.Info("outbox: notices added by rescan", "added", added)
		ob.o.Metrics.SetOutboxDepth(depth)
		ob.kick()
	}
	return added, nil
}

func (ob *Outbox) load() error {
	des, err := os.ReadDir(ob.o.Dir)
	if err != nil {
		return fmt.Errorf("outbox: read %s: %w", ob.o.Dir, err)
	}
	for _, de := range des {
		name := de.Name()
		switch {
		case de.IsDir():
		case strings.HasPrefix(name, tmpPrefix):
			if err := os.Remove(filepath.Join(ob.o.Dir, name)); err != nil {
				ob.o.Log.Warn("remove incomplete notice file", "file", name, "error", err)
			}
		case strings.HasSuffix(name, suffix):
			e, err := parseName(name, ob.o.Clock.Now())
			if err != nil {
				ob.o.Log.Warn("ignoring file with unknown name in outbox", "file", name, "error", err)
				continue
			}
			if old, dup := ob.entries[e.id]; dup {
				ob.o.Log.Warn("two files for one notice; keeping the later attempt", "id", e.id)
				if old.attempt > e.attempt {
					os.Remove(filepath.Join(ob.o.Dir, name))
					continue
				}
				os.Remove(filepath.Join(ob.o.Dir, old.file))
			}
			ob.entries[e.id] = e
		}
	}
	if len(ob.entries) > 0 {
		ob.o.Log.Info("outbox resumed", "queued", len(ob.entries))
	}
	return nil
}

// Close releases the directory lock. Call it after Run has returned.
func (ob *Outbox) Close() error {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if ob.lock == nil {
		return nil
	}
	err := ob.lock.Close() // closing the descriptor drops the flock
	ob.lock = nil
	return err
}

// Depth is the number of notices waiting for delivery.
func (ob *Outbox) Depth() int {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	return len(ob.entries)
}

// Enqueue renders notice n and stores it durably: when Enqueue returns nil
// the notice is on disk and will be delivered even if the process dies.
// It returns the notice id (the local part of its Message-ID).
func (ob *Outbox) Enqueue(incidentID string, n action.Notice) (string, error) {
	if len(n.To) == 0 {
		return "", errors.New("outbox: notice without recipients")
	}
	for _, rcpt := range n.To {
		if rcpt == "" || strings.ContainsAny(rcpt, "\r\n<> ") {
			return "", fmt.Errorf("outbox: invalid notice recipient %q", rcpt)
		}
	}
	ob.mu.Lock()
	if len(ob.entries)+ob.reserved >= ob.o.MaxQueued {
		ob.mu.Unlock()
		ob.o.Metrics.OutboxFull()
		return "", ErrFull
	}
	ob.reserved++
	ob.mu.Unlock()
	defer func() {
		ob.mu.Lock()
		ob.reserved--
		ob.mu.Unlock()
	}()
	now := ob.o.Clock.Now()
	id, err := newID(now)
	if err != nil {
		return "", err
	}
	msg, err := render(id, ob.o.From, now, incidentID, n)
	if err != nil {
		return "", err
	}
	data, err := json.Marshal(stored{ID: id, IncidentID: incidentID, Created: now.UTC(), From: ob.o.From, To: n.To, Message: string(msg)})
	if err != nil {
		return "", fmt.Errorf("outbox: encode notice: %w", err)
	}
	e := &entry{id: id, created: now, next: now}
	e.file = e.fileName()
	if err := writeFileSync(ob.o.Dir, e.file, data); err != nil {
		return "", err
	}
	ob.mu.Lock()
	if _, dup := ob.entries[id]; !dup { // a concurrent Rescan may have found the file first
		ob.entries[id] = e
	}
	depth := len(ob.entries)
	ob.mu.Unlock()
	ob.o.Metrics.SetOutboxDepth(depth)
	ob.kick()
	return id, nil
}

func (ob *Outbox) kick() {
	select {
	case ob.wake <- struct{}{}:
	default:
	}
}

// Run delivers queued notices until ctx is cancelled, with at most
// Concurrency deliveries at a time. On cancel it stops starting attempts,
// aborts the ones that have not yet sent the end of data, waits for the
// others, and returns nil.
func (ob *Outbox) Run(ctx context.Context) error {
	sem := make(chan struct{}, ob.o.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		if ctx.Err() != nil {
			return nil
		}
		now := ob.o.Clock.Now()
		var due []*entry
		var earliest time.Time
		ob.mu.Lock()
		ob.rounds++
		for _, e := range ob.entries {
			if e.busy {
				continue
			}
			if !e.next.After(now) {
				due = append(due, e)
			} else if earliest.IsZero() || e.next.Before(earliest) {
				earliest = e.next
			}
		}
		sort.Slice(due, func(i, j int) bool { return due[i].next.Before(due[j].next) })
		for _, e := range due {
			select {
			case sem <- struct{}{}:
			default:
				continue
			}
			e.busy = true
			ob.running++
			wg.Add(1)
			go func(e *entry) {
				defer wg.Done()
				ob.deliver(ctx, e)
				ob.mu.Lock()
				ob.running--
				ob.ended = ob.rounds
				ob.mu.Unlock()
				<-sem
				ob.kick()
			}(e)
		}
		ob.mu.Unlock()

		wait := time.Hour
		if !earliest.IsZero() {
			wait = max(earliest.Sub(now), time.Millisecond)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ob.wake:
		case <-ob.o.Clock.After(wait):
		}
	}
}

// deliver makes one attempt and updates the file and schedule of e.
func (ob *Outbox) deliver(ctx context.Context, e *entry) {
	log := ob.o.Log.With("notice_id", e.id)
	path := filepath.Join(ob.o.Dir, e.file)
	data, err := os.ReadFile(path)
	var st stored
	if err == nil {
		err = json.Unmarshal(data, &st)
	}
	if err != nil {
		log.Error("unreadable notice file; moved to dead", "file", path, "error", err)
		ob.bury(e, fmt.Sprintf("unreadable notice file: %v", err))
		ob.o.Metrics.OutboxAttempt("dead")
		return
	}
	res := send(ctx, ob.o, st)
	switch {
	case res.aborted:
		ob.release(e)
	case res.err == nil:
		if err := removeSync(ob.o.Dir, e.file); err != nil {
			// Keeping the entry would send the notice again: drop it from
			// the schedule and say so; the file is resent after a restart.
			log.Error("notice sent but its file could not be removed", "error", err)
		}
		ob.forget(e)
		ob.o.Metrics.OutboxAttempt("sent")
		log.Info("notice sent", "relay", ob.o.Relay, "rcpt_count", len(res.accepted), "attempt", e.attempt+1, "incident_id", st.IncidentID)
		for _, r := range res.refused {
			log.Warn("notice recipient refused by relay", "rcpt", r.rcpt, "error", r.err)
		}
	case res.permanent:
		log.Error("notice refused by relay; moved to dead", "relay", ob.o.Relay, "error", res.err, "incident_id", st.IncidentID)
		ob.bury(e, res.err.Error())
		ob.o.Metrics.OutboxAttempt("dead")
	case ob.o.Clock.Now().Sub(e.created) >= ob.o.MaxAge:
		log.Error("notice not delivered within max_age; moved to dead", "relay", ob.o.Relay, "attempts", e.attempt+1, "error", res.err, "incident_id", st.IncidentID)
		ob.bury(e, fmt.Sprintf("max_age %s reached after %d attempts; last error: %v", ob.o.MaxAge, e.attempt+1, res.err))
		ob.o.Metrics.OutboxAttempt("dead")
	default:
		next := *e
		next.attempt++
		next.next = ob.o.Clock.Now().Add(ob.backoff(next.attempt))
		err := renameSync(ob.o.Dir, e.file, next.fileName())
		if err != nil {
			// The schedule still advances in memory; the file keeps its
			// old name and the next restart retries it at once.
			log.Error("reschedule notice", "error", err)
		}
		ob.mu.Lock()
		e.attempt, e.next = next.attempt, next.next
		if err == nil {
			e.file = next.fileName()
		}
		ob.mu.Unlock()
		ob.o.Metrics.OutboxAttempt("retry")
		log.Warn("notice delivery failed; will retry", "relay", ob.o.Relay, "attempt", next.attempt, "next_attempt", next.next.UTC().Format(time.RFC3339), "error", res.err)
		ob.release(e)
	}
}

// backoff is the delay after the given number of failed attempts:
// retry_min doubled per attempt, capped at retry_max.
func (ob *Outbox) backoff(attempt int) time.Duration {
	d := ob.o.RetryMin
	for i := 1; i < attempt && d < ob.o.RetryMax; i++ {
		d *= 2
	}
	return min(d, ob.o.RetryMax)
}

func (ob *Outbox) release(e *entry) {
	ob.mu.Lock()
	e.busy = false
	ob.mu.Unlock()
}

func (ob *Outbox) forget(e *entry) {
	ob.mu.Lock()
	delete(ob.entries, e.id)
	depth := len(ob.entries)
	ob.mu.Unlock()
	ob.o.Metrics.SetOutboxDepth(depth)
}

// bury moves the notice to dead/ with a .reason file beside it.
func (ob *Outbox) bury(e *entry, reason string) {
	dead := filepath.Join(ob.o.Dir, deadDir)
	if err := writeFileSync(dead, e.id+".reason", []byte(reason+"\n")); err != nil {
		ob.o.Log.Error("write dead-letter reason", "notice_id", e.id, "error", err)
	}
	if err := os.Rename(filepath.Join(ob.o.Dir, e.file), filepath.Join(dead, e.id+suffix)); err != nil {
		ob.o.Log.Error("move notice to dead", "notice_id", e.id, "error", err)
	} else {
		syncDir(dead)
		syncDir(ob.o.Dir)
	}
	ob.forget(e)
}

// fileName is <id>_<attempt>_<next unix ms>.notice.
func (e *entry) fileName() string {
	return e.id + "_" + strconv.Itoa(e.attempt) + "_" + strconv.FormatInt(e.next.UnixMilli(), 10) + suffix
}

// parseName reads the schedule back from a file name. "<id>.notice" (a
// dead letter moved back by an operator) is due now, attempt 0.
func parseName(name string, now time.Time) (*entry, error) {
	base := strings.TrimSuffix(name, suffix)
	parts := strings.Split(base, "_")
	e := &entry{id: parts[0], next: now, file: name}
	created, err := idTime(e.id)
	if err != nil {
		return nil, err
	}
	e.created = created
	switch len(parts) {
	case 1:
	case 3:
		a, err1 := strconv.Atoi(parts[1])
		ms, err2 := strconv.ParseInt(parts[2], 10, 64)
		if err1 != nil || err2 != nil || a < 0 {
			return nil, fmt.Errorf("bad schedule in %q", name)
		}
		e.attempt, e.next = a, time.UnixMilli(ms)
	default:
		return nil, fmt.Errorf("bad notice file name %q", name)
	}
	return e, nil
}

// newID is <unix nanoseconds>-<16 random hex digits>: sortable by age and
// unique across processes.
func newID(now time.Time) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("outbox: random id: %w", err)
	}
	return strconv.FormatInt(now.UnixNano(), 10) + "-" + hex.EncodeToString(b[:]), nil
}

func idTime(id string) (time.Time, error) {
	ns, rest, ok := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || len(rest) != 16 {
		return time.Time{}, fmt.Errorf("bad notice id %q", id)
	}
	return time.Unix(0, n), nil
}

// writeFileSync writes dir/name atomically and durably: temporary file,
// fsync, rename, fsync of the directory.
func writeFileSync(dir, name string, data []byte) error {
	if err := fsutil.WriteAtomic(filepath.Join(dir, name), data, 0o600, tmpPrefix+"*"); err != nil {
		return fmt.Errorf("outbox: write %s: %w", name, err)
	}
	return nil
}

func renameSync(dir, from, to string) error {
	if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
		return fmt.Errorf("outbox: rename: %w", err)
	}
	return syncDir(dir)
}

func removeSync(dir, name string) error {
	if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("outbox: remove: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	if err := fsutil.SyncDir(dir); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}
