package quarantine

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maildlp/maildlp/internal/pgtest"
	"github.com/maildlp/maildlp/quarantine/holdmark"
	"github.com/maildlp/maildlp/store"
)

// eachStore runs f against a migrated SQLite store and a migrated store on
// a throwaway PostgreSQL (skipped when PostgreSQL is not installed, unless
// CI=true).
func eachStore(t *testing.T, f func(t *testing.T, open func() *store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "maildlp.db")
		f(t, func() *store.Store { return openStore(t, store.Options{Path: path}) })
	})
	t.Run("postgres", func(t *testing.T) {
		pg := pgtest.New(t)
		f(t, func() *store.Store { return openStore(t, store.Options{Driver: store.Postgres, DSN: pg.DSN()}) })
	})
}

func openStore(t *testing.T, o store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func request(t *testing.T, s *store.Store, kind, node, host, id string) int64 {
	t.Helper()
	rid, err := s.AddRequest(context.Background(), store.Request{Kind: kind, Node: node, MTAHost: host, QueueID: id,
		Reason: "reviewed: false positive", Actor: "alice", SourceAddr: "cli@a"})
	if err != nil {
		t.Fatal(err)
	}
	return rid
}

func eventKinds(t *testing.T, s *store.Store, host, id string) []string {
	t.Helper()
	ev, err := s.Events(context.Background(), store.EventFilter{MTAHost: host, QueueID: id})
	if err != nil {
		t.Fatal(err)
	}
	var k []string
	for _, e := range ev {
		k = append(k, e.Kind+"/"+e.Actor)
	}
	return k
}

// TestIssue10WorkerSharedStore: two nodes share one store, each with its
// own MTA. A message held at B is found by B's sync (linked to its
// incident), a release requested for it is executed by B only, once; A,
// given a request for B's MTA by mistake, refuses it without touching its
// own queue. Every step is an event.
func TestIssue10WorkerSharedStore(t *testing.T) {
	eachStore(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		sa, sb := open(), open() // one connection pool per node
		fa, pa := newFakePostfix()
		fb, pb := newFakePostfix()
		a := &Worker{Store: sa, MTA: pa, Node: "a", MTAHost: "mx-a"}
		b := &Worker{Store: sb, MTA: pb, Node: "b", MTAHost: "mx-b"}

		// The milter at B quarantined 4XyZ1AbCdE: its incident names it.
		if _, err := sb.Insert(ctx, []store.Incident{{ID: "INC1", Time: time.Now(), Node: "b", MTAHost: "mx-b",
			QueueID: "4XyZ1AbCdE", Sender: "alice@test.example", Action: "quarantine", VerdictAction: "quarantine",
			Recipients: []store.Recipient{{Address: "bob@ext.example", Action: "quarantine"}}}}); err != nil {
			t.Fatal(err)
		}
		rep, err := b.Sync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Held != 2 || rep.Added != 2 || rep.Linked != 1 || rep.Unlinked != 1 || rep.Gone != 0 {
			t.Errorf("first sync = %+v, want 2 held, 2 added, 1 linked, 1 unlinked", rep)
		}
		h, err := sa.GetHeld(ctx, "mx-b", "4XyZ1AbCdE")
		if err != nil || h.IncidentID != "INC1" || h.Node != "b" || h.State != store.HeldHeld {
			t.Fatalf("held row = %+v, %v", h, err)
		}
		if rep, _ := b.Sync(ctx); rep.Changed() {
			t.Errorf("second sync changed %+v, want nothing", rep)
		}

		// Asked on A, addressed to B (the held row's node).
		rid := request(t, sa, store.RequestRelease, h.Node, h.MTAHost, h.QueueID)
		if n, err := a.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("A ran %d requests (%v), want 0", n, err)
		}
		if n, err := b.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("B ran %d requests (%v), want 1", n, err)
		}
		if fb.queue["4XyZ1AbCdE"] != "deferred" || fa.queue["4XyZ1AbCdE"] != "hold" {
			t.Errorf("queues after release: B %q, A %q; want B deferred, A untouched", fb.queue["4XyZ1AbCdE"], fa.queue["4XyZ1AbCdE"])
		}
		r, _ := sa.GetRequest(ctx, rid)
		if r.State != store.RequestDone || !strings.HasPrefix(r.Result, "released by postfix mx-b") {
			t.Errorf("request = %+v", r)
		}
		if h, _ := sa.GetHeld(ctx, "mx-b", "4XyZ1AbCdE"); h.State != store.HeldReleased || h.IncidentID != "INC1" {
			t.Errorf("held row after release = %+v", h)
		}
		// A second release of the same message fails: it is not held, and
		// nothing is run against the queue but the listing.
		rid2 := request(t, sa, store.RequestRelease, "b", "mx-b", "4XyZ1AbCdE")
		fb.ran = nil
		b.RunOnce(ctx)
		if r, _ := sa.GetRequest(ctx, rid2); r.State != store.RequestFailed || !strings.Contains(r.Result, "not in the hold queue") {
			t.Errorf("second release = %+v", r)
		}
		for _, c := range fb.ran {
			if strings.HasPrefix(c, "postsuper") {
				t.Errorf("second release ran %s", c)
			}
		}

		// A request naming B's MTA but addressed to node A: A refuses it.
		rid3 := request(t, sa, store.RequestDelete, "a", "mx-b", "6HoLd22222")
		fa.ran = nil
		a.RunOnce(ctx)
		if r, _ := sa.GetRequest(ctx, rid3); r.State != store.RequestFailed || !strings.Contains(r.Result, "not executed") {
			t.Errorf("misaddressed request = %+v", r)
		}
		if len(fa.ran) != 0 || fa.queue["6HoLd22222"] != "hold" {
			t.Errorf("A touched its queue: ran %q", fa.ran)
		}

		want := []string{"held/maildlp@b", "release_requested/alice", "released/alice", "release_done/maildlp@b",
			"release_requested/alice", "release_failed/maildlp@b"}
		if got := eventKinds(t, sa, "mx-b", "4XyZ1AbCdE"); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("events = %v\nwant %v", got, want)
		}

		// Deleted by hand (postsuper -d): the next sync marks it gone.
		delete(fb.queue, "6HoLd22222")
		if rep, err := b.Sync(ctx); err != nil || rep.Gone != 1 {
			t.Errorf("sync after a manual delete = %+v, %v; want 1 gone", rep, err)
		}
		if h, _ := sa.GetHeld(ctx, "mx-b", "6HoLd22222"); h.State != store.HeldGone {
			t.Errorf("manually deleted message state %q, want gone", h.State)
		}
	})
}

// TestIssue10SyncFailedListingChangesNothing: a listing that fails (here:
// one bad line) must not make the store believe the queue is empty.
func TestIssue10SyncFailedListingChangesNothing(t *testing.T) {
	s := openStore(t, store.Options{Path: filepath.Join(t.TempDir(), "m.db")})
	f, p := newFakePostfix()
	w := &Worker{Store: s, MTA: p, Node: "b", MTAHost: "mx-b"}
	if _, err := w.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Run = func(ctx context.Context, name string, args ...string) ([]byte, error) {
		out, err := f.run(ctx, name, args...)
		return append(out, "{not json\n"...), err
	}
	if _, err := w.Sync(context.Background()); err == nil {
		t.Fatal("sync on a broken listing succeeded")
	}
	held, _ := s.ListHeld(context.Background(), store.HeldFilter{State: store.HeldHeld})
	if len(held) != 2 {
		t.Errorf("%d held after a failed sync, want 2", len(held))
	}
}

func TestHoldMarkIn(t *testing.T) {
	h := "Received: x\nX-Maildlp-Hold: v1 i=INC s=S\n m=abc\nSubject: y\nx-maildlp-hold: second\n"
	if got := holdMarkIn([]byte(h)); got != "v1 i=INC s=S m=abc" {
		t.Errorf("holdMarkIn = %q", got)
	}
	if got := holdMarkIn([]byte("Subject: x\n")); got != "" {
		t.Errorf("holdMarkIn without a mark = %q", got)
	}
}

// logWatch is a slog handler that tells when a message was logged.
type logWatch struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (l *logWatch) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.msgs = append(l.msgs, r.Message)
	l.mu.Unlock()
	return nil
}
func (l *logWatch) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logWatch) WithGroup(string) slog.Handler      { return l }
func (l *logWatch) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if m == msg {
			n++
		}
	}
	return n
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached in 30s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestIssue10WorkerRunOutage: the running worker finishes a request its
// node claimed before a restart, keeps going while PostgreSQL is down,
// and executes a request made after it is back.
func TestIssue10WorkerRunOutage(t *testing.T) {
	pg := pgtest.New(t)
	s := openStore(t, store.Options{Driver: store.Postgres, DSN: pg.DSN()})
	ctx := context.Background()
	fb, pb := newFakePostfix()
	lw := &logWatch{}
	w := &Worker{Store: s, MTA: pb, Node: "b", MTAHost: "mx-b", Log: slog.New(lw)}

	// A previous worker claimed this one and died.
	rid := request(t, s, store.RequestRelease, "b", "mx-b", "4XyZ1AbCdE")
	if got, err := s.ClaimRequests(ctx, "b", 10); err != nil || len(got) != 1 {
		t.Fatalf("claim = %v, %v", got, err)
	}

	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(rctx, 10*time.Millisecond, 0)
	}()
	defer func() { cancel(); <-done }()

	state := func(id int64) string {
		r, err := s.GetRequest(ctx, id)
		if err != nil {
			return err.Error()
		}
		return r.State
	}
	waitUntil(t, "the requeued request done", func() bool { return state(rid) == store.RequestDone })
	if fb.get("4XyZ1AbCdE") != "deferred" {
		t.Errorf("message not released")
	}
	if got := eventKinds(t, s, "mx-b", "4XyZ1AbCdE"); !strings.Contains(strings.Join(got, " "), "release_unclaimed/maildlp@b") {
		t.Errorf("events %v lack the requeue", got)
	}

	pg.Stop()
	before := lw.count("claim quarantine requests")
	waitUntil(t, "the worker noticing the outage", func() bool { return lw.count("claim quarantine requests") >= before+3 })
	pg.Start()
	var rid2 int64
	waitUntil(t, "the store back", func() bool {
		id, err := s.AddRequest(ctx, store.Request{Kind: store.RequestDelete, Node: "b", MTAHost: "mx-b", QueueID: "6HoLd22222",
			Reason: "after the outage", Actor: "alice"})
		rid2 = id
		return err == nil
	})
	waitUntil(t, "the request after the outage done", func() bool { return state(rid2) == store.RequestDone })
	if fb.get("6HoLd22222") != "" {
		t.Errorf("message not deleted")
	}
}

// TestIssue10SyncHoldMark: a message the hop had held is linked to the
// incident its hold mark names when the mark verifies, left unlinked
// (with the reason) when it is forged, and its header is read once.
func TestIssue10SyncHoldMark(t *testing.T) {
	s := openStore(t, store.Options{Path: filepath.Join(t.TempDir(), "m.db")})
	ctx := context.Background()
	key := []byte("0123456789abcdef")
	f, p := newFakePostfix()
	f.marks = map[string]string{
		"4XyZ1AbCdE": holdmark.New(key, holdmark.Mark{IncidentID: "INC-HOP", SessionID: "s1"}),
		"6HoLd22222": holdmark.New([]byte("another key 0123"), holdmark.Mark{IncidentID: "INC-FORGED", SessionID: "s2"}),
	}
	w := &Worker{Store: s, MTA: p, Node: "b", MTAHost: "mx-b", HoldKey: key}
	rep, err := w.Sync(ctx)
	if err != nil || rep.Linked != 1 || rep.Unlinked != 1 {
		t.Fatalf("Sync = %+v, %v; want 1 linked, 1 unlinked", rep, err)
	}
	if h, _ := s.GetHeld(ctx, "mx-b", "4XyZ1AbCdE"); h.IncidentID != "INC-HOP" {
		t.Errorf("marked message linked to %q, want INC-HOP", h.IncidentID)
	}
	if h, _ := s.GetHeld(ctx, "mx-b", "6HoLd22222"); h.IncidentID != "" {
		t.Errorf("forged mark linked to %q", h.IncidentID)
	}
	ev, _ := s.Events(ctx, store.EventFilter{MTAHost: "mx-b", QueueID: "6HoLd22222"})
	if len(ev) != 1 || !strings.Contains(ev[0].Reason, "does not verify") {
		t.Errorf("forged mark event = %+v", ev)
	}
	f.ran = nil
	if _, err := w.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.ran {
		if strings.HasPrefix(c, "postcat") {
			t.Errorf("second sync ran %s", c)
		}
	}
}
