package app

import (
	"time"

	"github.com/maildlp/maildlp/ingest"
	"github.com/maildlp/maildlp/report"
)

// storeCloseGrace bounds how long shutdown keeps writing queued incidents
// to the store; what is left stays queued for the next start.
const storeCloseGrace = 3 * time.Second

// startStore starts the incident store path of [store], if enabled, and
// sets the recorder the front ends get: the journal (log line, incident
// log, notices, metrics) and then the store queue.
func (a *App) startStore() error {
	a.recorder = a.journal
	cfg := a.boot.Store
	if !cfg.Enabled() {
		return nil
	}
	svc, err := ingest.Start(cfg, a.log.With("component", "store"), a.metrics.Registry)
	if err != nil {
		return err
	}
	a.incidents = svc
	svc.Recorder().SetDirection(func(rcpts []string) string { return a.Engine().Direction(rcpts) })
	a.recorder = ingest.Tee{a.journal, svc.Recorder()}
	return nil
}

// closeStore stops the store path.
func (a *App) closeStore() {
	if a.incidents == nil {
		return
	}
	if err := a.incidents.Close(storeCloseGrace); err != nil {
		a.log.Error("close incident queue", "error", err)
	}
	a.incidents = nil
}

var _ report.Recorder = ingest.Tee{}
