package ingest

import (
	"context"

	"github.com/maildlp/maildlp/config"
	"testing"
	"time"
)

// BenchmarkIngestSQLite records decisions as the front ends do and waits
// until the writer has stored every one in SQLite: the whole store path
// (encode, queue append, batch insert, cursor), in incidents per second.
// ns/op is per incident.
func BenchmarkIngestSQLite(b *testing.B) {
	cfg := storeConfig(b.TempDir())
	cfg.BatchSize = 500
	cfg.FlushInterval = config.Duration(50 * time.Millisecond)
	svc, err := Start(cfg, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close(0)
	st, err := OpenStore(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		svc.Recorder().Record(decision(i))
	}
	recorded := time.Since(start)
	for svc.Queue().Bytes() > 0 {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	el := time.Since(start)
	b.ReportMetric(float64(b.N)/el.Seconds(), "incidents/s")
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "incidents/cpu-s")
	b.ReportMetric(float64(recorded.Nanoseconds())/float64(b.N), "ns/record")
}

// BenchmarkRecord is what the mail path pays per incident: building it,
// encoding it and one write(2) to the queue (no writer running).
func BenchmarkRecord(b *testing.B) {
	q, err := OpenQueue(b.TempDir(), 1<<40, time.Second, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	rec := &Recorder{outs: []output{{"store", q, newQueueMetrics(nil, storePrefix)}}, log: testLog(b), now: time.Now}
	d := decision(1)
	b.ReportAllocs()
	for b.Loop() {
		rec.Record(d)
	}
	if rec.Dropped() != 0 {
		b.Fatal("dropped")
	}
}
