package app

import (
	"context"
	"os"
	"time"

	"github.com/maildlp/maildlp/config"
	"github.com/maildlp/maildlp/ingest"
	"github.com/maildlp/maildlp/quarantine"
	"github.com/maildlp/maildlp/reinject"
	"github.com/maildlp/maildlp/store"
)

// holdOption gives the hop the hold mark key when quarantined mail is to
// be held at the downstream Postfix (quarantine_action "hold").
func holdOption(cfg *config.Config) (reinject.Option, error) {
	if cfg.Reinject.QuarantineAction != "hold" {
		return reinject.WithHoldKey(nil), nil
	}
	key, err := cfg.Quarantine.HoldKey()
	if err != nil {
		return nil, err
	}
	return reinject.WithHoldKey(key), nil
}

// startQuarantine runs the node's quarantine worker (when the store is
// enabled and [quarantine] worker is on) and returns the function that
// stops it and waits for it. The worker opens the store itself and keeps
// trying while it is away: the mail path never waits for it.
func (a *App) startQuarantine() (stop func()) {
	cfg := a.boot
	q := cfg.Quarantine.WithDefaults()
	if !cfg.Store.Enabled() || !*q.Worker {
		return func() {}
	}
	log := a.log.With("component", "quarantine")
	if os.Geteuid() != 0 {
		// postsuper and sendmail -Q need root. A worker that can only fail
		// the requests it claims would take them from the one that can.
		log.Warn("quarantine worker not started: releasing and deleting held mail needs root; run `maildlp quarantine work` as root (contrib/systemd/maildlp-quarantine.service)")
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		st := openStoreRetry(ctx, cfg.Store, log.Warn)
		if st == nil {
			return
		}
		defer st.Close()
		w := &quarantine.Worker{Store: st, MTA: quarantine.FromConfig(q), Node: cfg.Store.Node,
			MTAHost: cfg.Store.MTAHost, Timeout: q.CommandTimeout.D(), Log: log}
		if q.HoldKeyFile != "" {
			if key, err := q.HoldKey(); err == nil {
				w.HoldKey = key
			} else {
				log.Warn("hold marks not verified", "err", err)
			}
		}
		log.Info("quarantine worker started", "node", w.Node, "mta_host", w.MTAHost, "mta", w.MTA.Kind())
		w.Run(ctx, q.PollInterval.D(), q.SyncInterval.D())
	}()
	return func() {
		cancel()
		<-done
	}
}

// openStoreRetry opens the store, retrying every few seconds until ctx
// ends (nil then).
func openStoreRetry(ctx context.Context, cfg config.Store, warn func(string, ...any)) *store.Store {
	for {
		st, err := ingest.OpenStore(ctx, cfg)
		if err == nil {
			return st
		}
		warn("quarantine worker: store not reachable, retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(5 * time.Second):
		}
	}
}
