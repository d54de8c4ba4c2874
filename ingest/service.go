package ingest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/store"
)

// Service is the store path of a running maildlp: the queue, the
// [Recorder] that fills it, the [Writer] that empties it into the store
// and the retention purge.
type Service struct {
	cfg config.Store
	log *slog.Logger
	q   *Queue
	// hookQ is the webhook's queue (nil without a webhook).
	hookQ *Queue
	rec   *Recorder
	w     *Writer
	m     *queueMetrics

	mu sync.Mutex
	st *store.Store

	cancel context.CancelFunc
	done   sync.WaitGroup
}

// Start opens the queue of cfg (which must exist or be creatable) and
// starts the writer. The store itself is opened by the writer, retried
// until it answers: maildlp starts and takes mail while PostgreSQL is
// down. reg may be nil.
func Start(cfg config.Store, log *slog.Logger, reg prometheus.Registerer) (*Service, error) {
	return start(cfg, log, reg, timing{retryMax: 30 * time.Second, purgeEvery: 10 * time.Minute})
}

// timing holds the service's fixed intervals (tests shorten them).
type timing struct {
	retryMax   time.Duration // longest wait between two write attempts
	purgeEvery time.Duration // retention purge interval
}

// start is Start with the longest retry delay.
func start(cfg config.Store, log *slog.Logger, reg prometheus.Registerer, tm timing) (*Service, error) {
	retryMax := tm.retryMax
	cfg = cfg.WithDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q, err := OpenQueue(cfg.QueueDir, int64(cfg.MaxQueueBytes), cfg.FlushInterval.D(), log)
	if err != nil {
		return nil, err
	}
	m := newQueueMetrics(reg, storePrefix)
	s := &Service{cfg: cfg, log: log, q: q, m: m}
	s.rec = &Recorder{outs: []output{{"store", q, m}}, node: cfg.Node, mtaHost: cfg.MTAHost, log: log, now: time.Now}
	s.w = &Writer{q: q, open: s.inserter, batch: cfg.BatchSize, interval: cfg.FlushInterval.D(), log: log, m: m,
		retryMin: min(500*time.Millisecond, retryMax), retryMax: retryMax}
	var hook *Writer
	if cfg.WebhookURL != "" {
		if hook, err = s.startWebhook(reg, retryMax); err != nil {
			q.Close()
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done.Add(1)
	go func() { defer s.done.Done(); s.w.Run(ctx) }()
	if hook != nil {
		s.done.Add(1)
		go func() { defer s.done.Done(); hook.Run(ctx) }()
	}
	if cfg.Retention > 0 {
		s.done.Add(1)
		go func() { defer s.done.Done(); s.retain(ctx, tm.purgeEvery) }()
	}
	return s, nil
}

// startWebhook opens the webhook's own queue (queue_dir/webhook), adds it
// to the recorder and returns its writer.
func (s *Service) startWebhook(reg prometheus.Registerer, retryMax time.Duration) (*Writer, error) {
	key, err := os.ReadFile(s.cfg.WebhookSecretFile)
	if err != nil {
		return nil, fmt.Errorf("ingest: webhook key: %w", err)
	}
	key = bytes.TrimRight(key, "\r\n")
	if len(key) == 0 {
		return nil, fmt.Errorf("ingest: webhook key file %s is empty", s.cfg.WebhookSecretFile)
	}
	q, err := OpenQueue(filepath.Join(s.cfg.QueueDir, "webhook"), int64(s.cfg.MaxQueueBytes), s.cfg.FlushInterval.D(), s.log)
	if err != nil {
		return nil, err
	}
	s.hookQ = q
	m := newQueueMetrics(reg, webhookPrefix)
	s.rec.outs = append(s.rec.outs, output{"webhook", q, m})
	wh := &webhook{url: s.cfg.WebhookURL, key: key, client: &http.Client{Timeout: s.cfg.WebhookTimeout.D()}, now: time.Now}
	return &Writer{q: q, open: func(context.Context) (Inserter, error) { return wh, nil }, batch: s.cfg.BatchSize,
		interval: s.cfg.FlushInterval.D(), log: s.log.With("output", "webhook"), m: m,
		retryMin: min(500*time.Millisecond, retryMax), retryMax: retryMax}, nil
}

// Recorder returns the recorder to give the front ends.
func (s *Service) Recorder() *Recorder { return s.rec }

// Queue returns the queue (tests, status).
func (s *Service) Queue() *Queue { return s.q }

// OpenStore opens and migrates the store of cfg.
func OpenStore(ctx context.Context, cfg config.Store) (*store.Store, error) {
	cfg = cfg.WithDefaults()
	st, err := store.Open(ctx, store.Options{Driver: cfg.Driver, Path: cfg.Path, DSN: cfg.DSN})
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func (s *Service) inserter(ctx context.Context) (Inserter, error) {
	st, err := s.store(ctx)
	if err != nil {
		return nil, err
	}
	return st, nil
}

func (s *Service) store(ctx context.Context) (*store.Store, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st != nil {
		return s.st, nil
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := OpenStore(octx, s.cfg)
	if err != nil {
		return nil, err
	}
	s.st = st
	s.log.Info("incident store open", "driver", st.Driver())
	return st, nil
}

// retain purges incidents older than the retention every interval, one
// small batch per transaction, so inserts interleave with it.
func (s *Service) retain(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := s.store(ctx)
		if err != nil {
			continue
		}
		total := 0
		for ctx.Err() == nil {
			n, err := st.Purge(ctx, time.Now().Add(-s.cfg.Retention.D()), s.cfg.PurgeBatch)
			if err != nil {
				s.log.Warn("incident retention purge", "error", err)
				break
			}
			total += n
			s.m.purged.Add(float64(n))
			if n == 0 {
				break
			}
		}
		if total > 0 {
			s.log.Info("incident retention purge", "purged", total, "retention", s.cfg.Retention.D())
		}
	}
}

// Close stops the writer, tries for up to grace to store what is still
// queued, and closes the queue and the store. What is not stored stays in
// the queue for the next start.
func (s *Service) Close(grace time.Duration) error {
	s.cancel()
	s.done.Wait()
	s.mu.Lock()
	st := s.st
	s.mu.Unlock()
	if st != nil && grace > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		s.drain(ctx, st)
		cancel()
	}
	err := s.q.Close()
	if s.hookQ != nil {
		s.hookQ.Close()
	}
	if st != nil {
		st.Close()
	}
	return err
}

// drain writes what is queued, batch by batch, until the queue is empty,
// an insert fails or ctx ends.
func (s *Service) drain(ctx context.Context, st *store.Store) {
	for ctx.Err() == nil {
		es, err := s.q.Read(s.q.Start(), s.cfg.BatchSize)
		if err != nil || len(es) == 0 {
			return
		}
		if _, err := st.Insert(ctx, decode(es, s.log, s.m)); err != nil {
			return
		}
		s.q.Ack(es[len(es)-1].End)
		s.m.written.Add(float64(len(es)))
	}
}
