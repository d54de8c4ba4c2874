package ingest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/store"
)

// TestIssue10RetentionPurges runs the service with a retention: old
// incidents go, in batches, while new ones keep arriving; the audit of
// the old ones stays.
func TestIssue10RetentionPurges(t *testing.T) {
	dir := t.TempDir()
	cfg := storeConfig(dir)
	cfg.Retention, cfg.PurgeBatch = config.Duration(24*time.Hour), 7
	ctx := context.Background()
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	old := time.Now().Add(-48 * time.Hour)
	var ins []store.Incident
	for i := range 30 {
		ins = append(ins, store.Incident{ID: fmt.Sprintf("OLD%03d", i), Time: old.Add(time.Duration(i) * time.Second), Action: "block"})
	}
	if _, err := st.Insert(ctx, ins); err != nil {
		t.Fatal(err)
	}
	st.Note(ctx, "OLD005", "released after review", store.Actor{Name: "alice"})

	svc, err := start(cfg, testLog(t), nil, timing{retryMax: 20 * time.Millisecond, purgeEvery: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(0)
	for i := range 20 {
		svc.Recorder().Record(decision(i))
	}
	// The 30 old ones go, the 20 new ones come.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := count(t, st)
		if err == nil && n == 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store holds %d incidents, want the 20 new ones (%v)", n, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := st.Get(ctx, "INC00000019"); err != nil {
		t.Errorf("a new incident is missing: %v", err)
	}
	if evs, _ := st.Events(ctx, store.EventFilter{IncidentID: "OLD005"}); len(evs) != 1 {
		t.Errorf("audit of a purged incident: %d events, want 1 kept", len(evs))
	}
}
