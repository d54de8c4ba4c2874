package ingest

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/maildlp/maildlp/store"
)

// Inserter is where the writer puts incidents: a [*store.Store].
type Inserter interface {
	Insert(ctx context.Context, ins []store.Incident) (int, error)
}

// Writer moves incidents from the queue to the store in batches.
type Writer struct {
	q        *Queue
	open     func(ctx context.Context) (Inserter, error)
	batch    int
	interval time.Duration
	log      *slog.Logger
	m        *queueMetrics

	retryMin, retryMax time.Duration
	// written is signalled after each stored batch (tests).
	written chan struct{}
}

// Run writes until ctx is cancelled. open is called (and retried with
// backoff) until it returns the store; a failed batch is retried the same
// way, and its records stay in the queue until the store has them.
func (w *Writer) Run(ctx context.Context) {
	var st Inserter
	backoff := w.retryMin
	fail := func(what string, err error) bool {
		w.m.writeErrors.Inc()
		w.log.Warn("incident store unavailable; incidents stay queued", "during", what, "queued_bytes", w.q.Bytes(), "retry_in", backoff, "error", err)
		t := time.NewTimer(backoff)
		defer t.Stop()
		backoff = min(backoff*2, w.retryMax)
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	// Open (and migrate) at once, so that a store problem shows at start;
	// a failure here is retried when there is something to write.
	if s, err := w.open(ctx); err == nil {
		st = s
	} else {
		w.m.writeErrors.Inc()
		w.log.Warn("incident store unavailable; incidents will be queued", "error", err)
	}
	pos := w.q.Start()
	var pending []Entry
	var firstAt time.Time
	for ctx.Err() == nil {
		w.m.queued.Set(float64(w.q.Bytes()))
		if len(pending) < w.batch {
			more, err := w.q.Read(pos, w.batch-len(pending))
			if err != nil {
				w.log.Error("incident queue: read", "error", err)
			}
			if len(more) > 0 {
				if len(pending) == 0 {
					firstAt = time.Now()
				}
				pending = append(pending, more...)
				pos = more[len(more)-1].End
			}
		}
		if len(pending) == 0 {
			w.wait(ctx, w.interval)
			continue
		}
		// Fill the batch for up to one interval after its first record.
		if len(pending) < w.batch {
			if left := w.interval - time.Since(firstAt); left > 0 {
				w.wait(ctx, left)
				continue
			}
		}
		if st == nil {
			s, err := w.open(ctx)
			if err != nil {
				if !fail("open", err) {
					return
				}
				continue
			}
			st = s
		}
		n := min(len(pending), w.batch)
		ins := decode(pending[:n], w.log, w.m)
		if _, err := st.Insert(ctx, ins); err != nil {
			if ctx.Err() != nil {
				return
			}
			if !w.isolate(ctx, st, ins, err) {
				if !fail("insert", err) {
					return
				}
				continue
			}
		}
		backoff = w.retryMin
		if err := w.q.Ack(pending[n-1].End); err != nil {
			w.log.Error("incident queue: ack", "error", err)
		}
		w.m.written.Add(float64(n))
		pending = pending[n:]
		firstAt = time.Now()
		if w.written != nil {
			select {
			case w.written <- struct{}{}:
			default:
			}
		}
	}
}

// Pinger is an [Inserter] that can tell whether it is reachable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// isolate handles a batch the store refused while it answers pings: a
// record it will never take (a value the database rejects) must not hold
// up the queue behind it. It inserts the records one by one and skips,
// logs and counts those refused again. It returns false (retry the batch
// later) when the store is not reachable.
func (w *Writer) isolate(ctx context.Context, st Inserter, ins []store.Incident, batchErr error) bool {
	p, ok := st.(Pinger)
	if !ok || p.Ping(ctx) != nil {
		return false
	}
	w.log.Warn("incident store refused a batch; inserting one by one", "incidents", len(ins), "error", batchErr)
	for i := range ins {
		if _, err := st.Insert(ctx, ins[i:i+1]); err != nil {
			if ctx.Err() != nil || p.Ping(ctx) != nil {
				return false // the store went away: retry the batch
			}
			w.m.bad.Inc()
			w.log.Error("incident store refused an incident; skipped", "incident_id", ins[i].ID, "error", err)
		}
	}
	return true
}

func (w *Writer) wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-w.q.Ready():
	case <-t.C:
	}
}

// decode parses queued records; one that does not parse (written by a
// different version, damaged) is logged, counted and skipped.
func decode(es []Entry, log *slog.Logger, m *queueMetrics) []store.Incident {
	out := make([]store.Incident, 0, len(es))
	for _, e := range es {
		var in store.Incident
		if err := json.Unmarshal(e.Data, &in); err != nil || in.ID == "" {
			m.bad.Inc()
			log.Error("incident queue: unreadable record skipped", "bytes", len(e.Data), "error", err)
			continue
		}
		out = append(out, in)
	}
	return out
}

// queueMetrics are the Prometheus metrics of one queue and its writer;
// prefix is maildlp_store_ or maildlp_webhook_.
type queueMetrics struct {
	queued      prometheus.Gauge
	dropped     prometheus.Counter
	written     prometheus.Counter
	writeErrors prometheus.Counter
	bad         prometheus.Counter
	purged      prometheus.Counter
}

const (
	storePrefix   = "maildlp_store_"
	webhookPrefix = "maildlp_webhook_"
)

func newQueueMetrics(reg prometheus.Registerer, prefix string) *queueMetrics {
	m := &queueMetrics{
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: prefix + "queue_bytes",
			Help: "Bytes of incidents in the durable queue, not yet written out.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: prefix + "queue_dropped_total",
			Help: "Incidents not queued (queue at store.max_queue_bytes, or a write error).",
		}),
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: prefix + "incidents_written_total",
			Help: "Incidents written out (to the store, or accepted by the webhook).",
		}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: prefix + "write_errors_total",
			Help: "Failed attempts to write incidents out (each retried).",
		}),
		bad: prometheus.NewCounter(prometheus.CounterOpts{
			Name: prefix + "queue_bad_records_total",
			Help: "Queued records skipped because they could not be read.",
		}),
		purged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: prefix + "incidents_purged_total",
			Help: "Incidents deleted by store.retention.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.queued, m.dropped, m.written, m.writeErrors, m.bad)
		if prefix == storePrefix {
			reg.MustRegister(m.purged)
		}
	}
	return m
}
