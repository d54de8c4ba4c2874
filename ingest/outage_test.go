package ingest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/internal/pgtest"
)

// TestIssue10PostgresOutageLosesNothing stops PostgreSQL while incidents
// keep coming: Record never waits, the queue holds them, and when the
// server is back every incident arrives exactly once.
func TestIssue10PostgresOutageLosesNothing(t *testing.T) {
	pg := pgtest.New(t)
	dir := t.TempDir()
	cfg := config.Store{Driver: "postgres", DSN: pg.DSN(), QueueDir: filepath.Join(dir, "queue"),
		FlushInterval: config.Duration(5 * time.Millisecond), BatchSize: 100, Node: "n1", MTAHost: "mx1"}.WithDefaults()
	svc, err := start(cfg, testLog(t), nil, timing{retryMax: 200 * time.Millisecond, purgeEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(0)
	ctx := context.Background()
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	const before, during, after = 200, 1000, 100
	for i := range before {
		svc.Recorder().Record(decision(i))
	}
	waitCount(t, st, before, 20*time.Second)

	pg.Stop()
	for i := before; i < before+during; i++ {
		svc.Recorder().Record(decision(i))
	}
	if d := svc.Recorder().Dropped(); d != 0 {
		t.Fatalf("%d incidents dropped during the outage", d)
	}
	pg.Start()
	for i := before + during; i < before+during+after; i++ {
		svc.Recorder().Record(decision(i))
	}
	waitCount(t, st, before+during+after, 60*time.Second)
	if b := svc.Queue().Bytes(); b != 0 {
		// Acknowledged after the insert: give the writer its ack.
		deadline := time.Now().Add(5 * time.Second)
		for svc.Queue().Bytes() != 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if b := svc.Queue().Bytes(); b != 0 {
			t.Errorf("queue still holds %d bytes", b)
		}
	}
}
