package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/policy"
	"github.com/maildlp/maildlp/policy/action"
	"github.com/maildlp/maildlp/report"
	"github.com/maildlp/maildlp/store"
)

func decision(i int) report.Decision {
	return report.Decision{
		Frontend: "milter",
		Envelope: policy.Envelope{SessionID: fmt.Sprintf("S%d", i), QueueID: fmt.Sprintf("Q%d", i), ClientAddr: "192.0.2.1",
			MailFrom: "alice@example.com", Rcpts: []string{"bob@example.net", "carol@partner.example"}},
		Verdict: action.Verdict{
			Action: action.Quarantine, IncidentID: fmt.Sprintf("INC%08d", i), QuarantineReason: "card numbers",
			Policies:   []action.PolicyHit{{Name: "pci", Severity: "high", Mode: "prevent", Action: action.Quarantine}},
			Detections: []action.Detection{{Type: "credit_card", Count: 1, Confidence: "high", Evidence: []string{"****1111"}, Locations: []string{"body/1"}}},
		},
		Applied:  action.Quarantine,
		Duration: 3 * time.Millisecond,
	}
}

func storeConfig(dir string) config.Store {
	return config.Store{Driver: "sqlite", Path: filepath.Join(dir, "maildlp.db"), QueueDir: filepath.Join(dir, "queue"),
		FlushInterval: config.Duration(5 * time.Millisecond), BatchSize: 64, Node: "n1", MTAHost: "mx1"}.WithDefaults()
}

// count returns how many incidents the store holds and fails on a
// duplicate (List would show it twice).
func count(t *testing.T, st *store.Store) (int, error) {
	t.Helper()
	seen := map[string]bool{}
	cur := ""
	for {
		ins, next, err := st.List(context.Background(), store.Filter{}, store.Page{After: cur, Limit: 1000})
		if err != nil {
			return 0, err
		}
		for _, in := range ins {
			if seen[in.ID] {
				t.Fatalf("incident %s stored twice", in.ID)
			}
			seen[in.ID] = true
		}
		if next == "" {
			return len(seen), nil
		}
		cur = next
	}
}

// waitCount waits (bounded) until the store holds want incidents. A
// failed count (a connection the server closed while restarting) is
// retried.
func waitCount(t *testing.T, st *store.Store, want int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		n, err := count(t, st)
		if err == nil && n == want {
			return
		}
		if n > want || time.Now().After(deadline) {
			t.Fatalf("store holds %d incidents, want %d (%v)", n, want, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestIssue10IngestSQLite(t *testing.T) {
	dir := t.TempDir()
	cfg := storeConfig(dir)
	svc, err := Start(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		svc.Recorder().Record(decision(i))
	}
	svc.Recorder().Record(report.Decision{Frontend: "milter", Applied: action.Pass, Verdict: action.Verdict{Action: action.Pass}}) // no incident
	st, err := OpenStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	waitCount(t, st, 300, 10*time.Second)
	if err := svc.Close(time.Second); err != nil {
		t.Fatal(err)
	}
	in, err := st.Get(context.Background(), "INC00000007")
	if err != nil {
		t.Fatal(err)
	}
	if in.Node != "n1" || in.MTAHost != "mx1" || in.QueueID != "Q7" || in.SessionID != "S7" || in.Severity != "high" ||
		len(in.Recipients) != 2 || in.Recipients[1].Action != "quarantine" || in.Detections[0].Evidence[0] != "****1111" ||
		in.Duration != 3*time.Millisecond || len(in.Extra) == 0 {
		t.Errorf("stored incident = %+v", in)
	}
}

// blockedStore never answers until released: the store hangs.
type blockedStore struct{ release chan struct{} }

func (b blockedStore) Insert(ctx context.Context, _ []store.Incident) (int, error) {
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return 0, fmt.Errorf("store hung")
}

// TestIssue10RecordNeverWaitsOnStore records with a store that hangs:
// every Record returns (the writer alone is stuck) and everything is in
// the queue, then reaches a working store after a restart.
func TestIssue10RecordNeverWaitsOnStore(t *testing.T) {
	dir := t.TempDir()
	cfg := storeConfig(dir)
	q, err := OpenQueue(cfg.QueueDir, int64(cfg.MaxQueueBytes), cfg.FlushInterval.D(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := newQueueMetrics(nil, storePrefix)
	bs := blockedStore{release: make(chan struct{})}
	w := &Writer{q: q, open: func(context.Context) (Inserter, error) { return bs, nil }, batch: 10, interval: time.Millisecond,
		log: testLog(t), m: m, retryMin: time.Millisecond, retryMax: time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.Run(ctx) }()
	rec := &Recorder{outs: []output{{"store", q, m}}, node: "n1", mtaHost: "mx1", log: testLog(t), now: time.Now}
	for i := range 500 {
		rec.Record(decision(i))
	}
	if rec.Dropped() != 0 {
		t.Fatalf("dropped %d", rec.Dropped())
	}
	cancel()
	close(bs.release)
	wg.Wait()
	q.Close()

	svc, err := Start(cfg, testLog(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(time.Second)
	st, err := OpenStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	waitCount(t, st, 500, 10*time.Second)
}

// TestIssue10QueueFullDropsCounted fills a small queue while the store
// is unreachable: the overflow is counted, nothing blocks.
func TestIssue10QueueFullDropsCounted(t *testing.T) {
	dir := t.TempDir()
	q, err := OpenQueue(filepath.Join(dir, "q"), 1<<16, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	rec := &Recorder{outs: []output{{"store", q, newQueueMetrics(nil, storePrefix)}}, log: testLog(t), now: time.Now}
	for i := range 500 {
		rec.Record(decision(i))
	}
	es, _ := q.Read(q.Start(), 1000)
	if rec.Dropped() == 0 || int64(len(es))+rec.Dropped() != 500 {
		t.Errorf("queued %d, dropped %d; want some dropped and 500 in all", len(es), rec.Dropped())
	}
}

// pickyStore refuses any batch holding a poison incident, and answers
// pings: the store is up, it only refuses that record.
type pickyStore struct {
	mu  sync.Mutex
	got map[string]int
}

func (p *pickyStore) Insert(_ context.Context, ins []store.Incident) (int, error) {
	for _, in := range ins {
		if in.ID == "INC00000013" {
			return 0, fmt.Errorf("value refused")
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, in := range ins {
		p.got[in.ID]++
	}
	return len(ins), nil
}

func (p *pickyStore) Ping(context.Context) error { return nil }

// TestIssue10PoisonIncidentSkipped: one incident the store will never
// take does not hold up the queue; it is skipped and counted, every other
// one is stored once.
func TestIssue10PoisonIncidentSkipped(t *testing.T) {
	q, err := OpenQueue(t.TempDir(), 1<<30, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	m := newQueueMetrics(nil, storePrefix)
	ps := &pickyStore{got: map[string]int{}}
	w := &Writer{q: q, open: func(context.Context) (Inserter, error) { return ps, nil }, batch: 10, interval: time.Millisecond,
		log: testLog(t), m: m, retryMin: time.Millisecond, retryMax: time.Millisecond}
	rec := &Recorder{outs: []output{{"store", q, m}}, log: testLog(t), now: time.Now}
	for i := range 40 {
		rec.Record(decision(i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for q.Bytes() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if len(ps.got) != 39 || ps.got["INC00000013"] != 0 {
		t.Errorf("stored %d incidents (poison %d), want 39 without it", len(ps.got), ps.got["INC00000013"])
	}
	for id, n := range ps.got {
		if n != 1 {
			t.Errorf("%s stored %d times", id, n)
		}
	}
}
